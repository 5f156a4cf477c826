"""Trace processing as a background job: the status a citizen sees (queued → processing → done | failed with a
reason), retry after a failure, idempotent reprocessing, and the real database queue worked by `smartip worker`
end to end (on SQLite and, with DATABASE_URL, on PostgreSQL)."""

import random
import signal
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from smartip.cli import main as smartip
from smartip.mobility import services
from smartip.mobility.models import MatchedSegment, StayPoint, Trace, Trip, Tripleg
from smartip.mobility.tasks import process_trace_job
from tests.mobility.jobs import committed
from tests.mobility.test_models import commute

pytestmark = pytest.mark.django_db
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _fake_engine(settings):
    settings.MAPMATCH_ENGINE = "fake"


def upload(user, city, seed=0, **extra):
    lat, lon = city.center
    args = {"source_format": "gpx", "consent": True, "purpose": "research"} | extra
    return services.upload_trace(owner=user, city=city, fixes=commute(lat, lon, seed=seed), **args)


def derived_rows(trace):
    """Every row derived from the trace, as comparable tuples (ids included: a replaced row gets a new id)."""
    return (
        sorted(StayPoint.objects.filter(trace=trace).values_list("pk", "lat", "lon")),
        sorted(Trip.objects.filter(trace=trace).values_list("pk", "origin_h3", "distance_m")),
        sorted(Tripleg.objects.filter(trip__trace=trace).values_list("pk", "mode")),
        MatchedSegment.objects.filter(tripleg__trip__trace=trace).count(),
    )


def status(trace):
    trace.refresh_from_db()
    return trace.status, trace.status_reason


# --- the immediate backend (the embedded default) -----------------------------------------------------------


def test_an_upload_is_queued_then_processed_after_the_commit(manchester, users):
    with committed() as callbacks:
        trace = upload(users["citizen"], manchester)
        assert status(trace) == ("queued", "") and not Trip.objects.filter(trace=trace).exists()
    assert len(callbacks) == 1
    assert status(trace) == ("done", "")
    assert trace.processed_at is not None and trace.matched_with == "StraightLineMatcher"
    assert Trip.objects.filter(trace=trace).count() == 1


def test_an_upload_rolled_back_queues_no_job(manchester, users):
    with committed() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        upload(users["citizen"], manchester)
        raise RuntimeError("the request failed after the upload")
    assert callbacks == [] and not Trace.objects.exists()


def test_without_processing_a_trace_stays_stored_until_asked(manchester, users):
    with committed() as callbacks:
        trace = upload(users["citizen"], manchester, process=False)
    assert callbacks == [] and status(trace) == ("stored", "")
    with committed():
        services.retry_processing(owner=users["citizen"], trace_id=trace.pk)
    assert status(trace) == ("done", "") and Trip.objects.filter(trace=trace).exists()


def test_a_failed_job_says_why_writes_nothing_and_can_be_retried(manchester, users, settings):
    settings.MAPMATCH_ENGINE = "no-such-engine"  # a misconfigured deployment: the job fails
    with committed():
        trace = upload(users["citizen"], manchester)
    state, reason = status(trace)
    assert state == "failed" and "unknown map-matching engine 'no-such-engine'" in reason
    assert derived_rows(trace) == ([], [], [], 0)
    settings.MAPMATCH_ENGINE = "fake"  # fixed
    with committed():
        services.retry_processing(owner=users["citizen"], trace_id=trace.pk)
    assert status(trace) == ("done", "")
    assert Trip.objects.filter(trace=trace).count() == 1 and StayPoint.objects.filter(trace=trace).exists()


def test_a_failed_reprocessing_keeps_the_previous_rows_whole(manchester, users, settings):
    with committed():
        trace = upload(users["citizen"], manchester)
    before = derived_rows(trace)
    assert before[1] and before[3] > 0
    settings.MAPMATCH_ENGINE = "no-such-engine"
    with pytest.raises(Exception, match="unknown map-matching engine"):
        services.run_processing(trace_id=trace.pk)  # the job body re-raises, so the queue records it too
    assert status(trace)[0] == "failed"
    assert derived_rows(trace) == before  # neither deleted nor half-replaced


def test_reprocessing_replaces_every_derived_row_once(manchester, users):
    with committed():
        trace = upload(users["citizen"], manchester)
    first = derived_rows(trace)
    services.run_processing(trace_id=trace.pk)
    services.run_processing(trace_id=trace.pk)
    again = derived_rows(trace)
    assert [len(rows) for rows in again[:3]] == [len(rows) for rows in first[:3]] and again[3] == first[3]
    assert {pk for pk, *_ in again[1]}.isdisjoint(pk for pk, *_ in first[1])  # replaced, not kept or doubled


def test_a_job_for_a_deleted_trace_is_not_an_error(manchester, users):
    trace = upload(users["citizen"], manchester, process=False)
    trace_id = trace.pk
    derived = services.processing.derive(trace=trace, rng=random.Random(1))
    trace.delete()
    with transaction.atomic():
        assert services.processing.store(trace=trace, derived=derived) is False  # deleted while deriving
    assert not StayPoint.objects.exists() and not Trip.objects.exists()
    result = process_trace_job.enqueue(trace_id=trace_id)  # deleted before the job ran
    assert result.status == "SUCCESSFUL" and result.return_value == {"trace_id": trace_id, "status": "gone"}


def test_only_failed_or_unprocessed_traces_are_processed_again(client, manchester, users):
    with committed():
        done = upload(users["citizen"], manchester)
    client.force_login(users["citizen"])
    r = client.post(f"/api/mobility/traces/{done.pk}/process")
    assert r.status_code == 409 and r.json()["error"]["field"] == "trace_id"
    assert "is done" in r.json()["error"]["message"]
    client.force_login(users["analyst"])  # someone else's trace is not revealed to exist
    assert client.post(f"/api/mobility/traces/{done.pk}/process").status_code == 404
    assert client.post(f"/mobility/traces/{done.pk}/").status_code == 404


def test_a_job_lost_for_an_hour_can_be_queued_again(client, manchester, users):
    """A worker killed mid-job leaves the trace `processing` for ever: after an hour its owner may retry."""
    trace = upload(users["citizen"], manchester)
    trace.mark_processing()
    client.force_login(users["citizen"])
    assert client.post(f"/api/mobility/traces/{trace.pk}/process").status_code == 409  # may still be running
    Trace.objects.filter(pk=trace.pk).update(status_changed_at=timezone.now() - timedelta(minutes=61))
    assert "Try again" in client.get(f"/mobility/traces/{trace.pk}/").content.decode()
    with committed():
        r = client.post(f"/api/mobility/traces/{trace.pk}/process")
    assert r.status_code == 202 and r.json()["status"] == "queued"
    assert status(trace) == ("done", "") and Trip.objects.filter(trace=trace).count() == 1


def test_the_api_and_the_trace_page_show_the_status_and_retry(client, manchester, users, settings):
    client.force_login(users["citizen"])
    queued = upload(users["citizen"], manchester)  # never committed: stays queued
    assert client.get(f"/api/mobility/traces/{queued.pk}").json()["status"] == "queued"
    page = client.get(f"/mobility/traces/{queued.pk}/").content.decode()
    assert "waiting to be processed" in page and "Check again" in page and "Try again" not in page
    assert "Trips appear here once the trace is processed." in page
    listing = client.get("/mobility/").content.decode()
    assert "status-queued" in listing

    settings.MAPMATCH_ENGINE = "no-such-engine"
    with committed():
        failed = upload(users["citizen"], manchester, seed=1)
    body = client.get(f"/api/mobility/traces/{failed.pk}").json()
    assert body["status"] == "failed" and "no-such-engine" in body["status_reason"] and body["trips"] == []
    page = client.get(f"/mobility/traces/{failed.pk}/").content.decode()
    assert "processing failed" in page and "no-such-engine" in page and "Try again" in page

    settings.MAPMATCH_ENGINE = "fake"
    with committed():
        r = client.post(f"/mobility/traces/{failed.pk}/")
    assert r.status_code == 302 and r["Location"] == f"/mobility/traces/{failed.pk}/"
    page = client.get(r["Location"]).content.decode()
    assert "queued for processing again" in page
    assert "Try again" not in page and "<td>" in page  # the trips table
    assert status(failed) == ("done", "")
    with committed():
        r = client.post(f"/api/mobility/traces/{failed.pk}/process")
    assert r.status_code == 409


# --- the database queue and `smartip worker` ----------------------------------------------------------------


@pytest.fixture
def database_queue(settings):
    """The real DatabaseBackend; the worker runs in this process, so its signal handlers are put back after."""
    settings.TASKS = DATABASE_QUEUE
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for s, handler in handlers.items():
        signal.signal(s, handler)


def work(*args):
    return smartip(["worker", "--batch", "--no-startup-delay", "--interval", "0", "-v", "0", *args])


def test_the_worker_refuses_when_there_is_no_queue(capsys):
    assert smartip(["worker", "--batch"]) == 2
    assert "TASK_BACKEND=database" in capsys.readouterr().err


@pytest.mark.django_db(transaction=True)  # real commits: the job row is written after the trace's commit
def test_database_queue_end_to_end(manchester, users, settings, database_queue):
    from django_tasks_db.models import DBTaskResult

    traces = []
    for seed in range(3):
        with transaction.atomic():
            traces.append(upload(users["citizen"], manchester, seed=seed))
    jobs = DBTaskResult.objects.order_by("enqueued_at")
    assert [j.status for j in jobs] == ["READY"] * 3
    assert [j.args_kwargs["kwargs"] for j in jobs] == [{"trace_id": t.pk} for t in traces]
    assert [status(t)[0] for t in traces] == ["queued"] * 3 and not Trip.objects.exists()

    assert work("--max-tasks", "1") == 0  # one job, then exit
    assert sorted(status(t)[0] for t in traces) == ["done", "queued", "queued"]
    assert work() == 0  # drains the queue
    assert [status(t) for t in traces] == [("done", "")] * 3
    assert Trip.objects.count() == 3 and MatchedSegment.objects.exists()
    assert [j.status for j in jobs.all()] == ["SUCCESSFUL"] * 3
    assert {j.return_value["trace_id"] for j in jobs.all()} == {t.pk for t in traces}

    settings.MAPMATCH_ENGINE = "no-such-engine"
    with transaction.atomic():
        broken = upload(users["citizen"], manchester, seed=9)
    assert work() == 0  # a failed job does not stop the worker
    assert status(broken)[0] == "failed" and not Trip.objects.filter(trace=broken).exists()
    job = DBTaskResult.objects.get(args_kwargs__kwargs__trace_id=broken.pk)
    assert job.status == "FAILED" and job.exception_class_path == "smartip.core.errors.Invalid"
    assert "no-such-engine" in job.traceback

    settings.MAPMATCH_ENGINE = "fake"
    with transaction.atomic():
        services.retry_processing(owner=users["citizen"], trace_id=broken.pk)
    assert status(broken)[0] == "queued"
    assert work() == 0
    assert status(broken) == ("done", "") and Trip.objects.filter(trace=broken).count() == 1
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 4
