"""Phone recording sessions on /api/mobility/batches: batches with the same `session_id` from one person extend
one trace (deduplicated by time, in time order) that is processed again, so a trip crossing a batch edge stays
one trip; retries still never double points; closed (deleted) sessions are refused; nobody else's session is
ever touched."""

import random

import numpy as np
import pytest

from smartip.accounts.models import ApiKey
from smartip.mobility import services
from smartip.mobility.fixes import append_new, from_columns
from smartip.mobility.models import Trace, TraceBatch, TraceSession, Trip
from smartip.mobility.services import processing
from tests.factories import make_user
from tests.mobility.jobs import committed
from tests.mobility.test_api import post_batch
from tests.mobility.test_models import commute

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fake_engine(settings):
    settings.MAPMATCH_ENGINE = "fake"


def device(user):
    return ApiKey.generate(user=user, name="phone", kind="device")[1]


def journey(city):
    """One commute (stay, 3 km ride, stay) as batch items, and the time in the middle of the ride."""
    lat, lon = city.center
    fixes = commute(lat, lon)
    items = [
        {"t": float(t), "lat": float(a), "lon": float(o)}
        for t, a, o in zip(fixes.t_s, fixes.lat, fixes.lon, strict=True)
    ]
    half = len(items) // 2  # the ride is the middle fifth of the fixes: `half` lies inside it
    return items, half, float(fixes.t_s[half])


def body(city, batch_id, items, session_id="ride-1", **extra):
    doc = {"batch_id": batch_id, "city": city.slug, "consent": True, "purpose": "research", "fixes": items}
    if session_id is not None:
        doc["session_id"] = session_id
    return doc | extra


def test_two_batches_of_one_session_form_one_trip_across_the_batch_edge(client, users, manchester):
    key = device(users["citizen"])
    items, half, edge_s = journey(manchester)
    with committed():
        first = post_batch(client, body(manchester, "b-1", items[:half]), key)
    assert first.status_code == 201, first.content
    trace_id = first.json()["trace"]["id"]
    with committed():
        second = post_batch(client, body(manchester, "b-2", items[half:]), key)
    assert second.status_code == 201 and second.json()["duplicate"] is False
    assert second.json()["trace"]["id"] == trace_id and second.json()["trace"]["n_fixes"] == len(items)
    trace = Trace.objects.get()
    assert trace.status == "done" and trace.n_fixes == len(items) == len(trace.fixes)
    assert np.all(np.diff(trace.fixes.t_s) > 0)
    (trip,) = Trip.objects.filter(trace=trace)  # reprocessed: one trip, not two halves
    assert trip.started_at.timestamp() < edge_s < trip.finished_at.timestamp()
    assert trip.distance_m > 2500  # the whole 3 km ride
    assert TraceBatch.objects.filter(trace=trace).count() == 2


def test_without_a_session_each_batch_is_still_its_own_trace(client, users, manchester):
    key = device(users["citizen"])
    items, half, _ = journey(manchester)
    for batch_id, part in (("b-1", items[:half]), ("b-2", items[half:])):
        assert post_batch(client, body(manchester, batch_id, part, session_id=None), key).status_code == 201
    assert Trace.objects.count() == 2 and not TraceSession.objects.exists()


def test_retried_and_overlapping_batches_never_double_points(client, users, manchester):
    key = device(users["citizen"])
    items, half, _ = journey(manchester)
    with committed():
        post_batch(client, body(manchester, "b-1", items[:half]), key)
        post_batch(client, body(manchester, "b-2", items[half:]), key)
    trace = Trace.objects.get()
    changed_at = trace.status_changed_at
    with committed():
        again = post_batch(client, body(manchester, "b-2", items[half:]), key)  # a retry
    assert again.status_code == 200 and again.json()["duplicate"] is True
    trace.refresh_from_db()
    assert trace.n_fixes == len(items) and trace.status_changed_at == changed_at  # not processed again
    # a new batch repeating the last 20 fixes of the previous one, plus 3 new ones after the end
    t_end = items[-1]["t"]
    extra = [dict(items[-1], t=t_end + 5.0 * (k + 1)) for k in range(3)]
    r = post_batch(client, body(manchester, "b-3", items[-20:] + extra), key)
    assert r.status_code == 201 and r.json()["trace"]["n_fixes"] == len(items) + 3
    times = Trace.objects.get().fixes.t_s
    assert len(np.unique(times)) == len(times) == len(items) + 3


def test_batches_arriving_out_of_order_are_kept_in_time_order(client, users, manchester):
    key = device(users["citizen"])
    items, half, _ = journey(manchester)
    with committed():
        post_batch(client, body(manchester, "late", items[half:]), key)
        post_batch(client, body(manchester, "early", items[:half]), key)
    trace = Trace.objects.get()
    assert np.array_equal(trace.fixes.t_s, np.array([i["t"] for i in items]))
    assert trace.started_at.timestamp() == items[0]["t"] and trace.finished_at.timestamp() == items[-1]["t"]
    assert Trip.objects.filter(trace=trace).count() == 1


def test_someone_elses_session_id_never_touches_their_trace(client, users, manchester):
    items, half, _ = journey(manchester)
    mine = post_batch(client, body(manchester, "b-1", items[:half]), device(users["citizen"]))
    other = post_batch(client, body(manchester, "b-1", items[half:]), device(make_user("neighbour")))
    assert mine.status_code == other.status_code == 201
    assert mine.json()["trace"]["id"] != other.json()["trace"]["id"]
    assert Trace.objects.get(pk=mine.json()["trace"]["id"]).n_fixes == half
    assert Trace.objects.get(pk=other.json()["trace"]["id"]).owner.username == "neighbour"


def test_a_deleted_sessions_batches_are_refused_with_409_and_store_nothing(client, users, manchester):
    key = device(users["citizen"])
    items, half, _ = journey(manchester)
    first = post_batch(client, body(manchester, "b-1", items[:half]), key)
    client.force_login(users["citizen"])
    assert client.delete(f"/api/mobility/traces/{first.json()['trace']['id']}").status_code == 204
    for batch_id in ("b-2", "b-1"):  # a new batch, and a retry of the first one
        r = post_batch(client, body(manchester, batch_id, items[half:]), key)
        assert r.status_code == 409, r.content
        error = r.json()["error"]
        assert (
            error["field"] == "session_id" and "deleted" in error["message"] and "ride-1" in error["message"]
        )
    assert not Trace.objects.exists() and not TraceBatch.objects.exists()
    r = post_batch(client, body(manchester, "b-3", items[half:], session_id="ride-2"), key)
    assert r.status_code == 201  # a new session starts a new trace


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"session_id": ""}, "session_id"),
        ({"session_id": 7}, "session_id"),
        ({"session_id": "x" * 101}, "session_id"),
        ({"consent": False}, "consent"),
        ({"city": "ghent"}, "city"),
    ],
)
def test_bad_second_batches_are_400_on_the_field_and_change_nothing(client, users, manchester, change, field):
    key = device(users["citizen"])
    items, half, _ = journey(manchester)
    post_batch(client, body(manchester, "b-1", items[:half]), key)
    before = Trace.objects.get()
    r = post_batch(client, body(manchester, "b-2", items[half:]) | change, key)
    assert r.status_code == 400, r.content
    assert r.json()["error"]["field"] == field
    after = Trace.objects.get()
    assert after.n_fixes == before.n_fixes and bytes(after.fixes_blob) == bytes(before.fixes_blob)
    assert TraceBatch.objects.count() == 1


def test_fixes_in_a_privacy_zone_are_dropped_from_appended_batches(client, users, manchester):
    user = users["citizen"]
    key = device(user)
    items, half, _ = journey(manchester)
    post_batch(client, body(manchester, "b-1", items[:half]), key)
    end = items[-1]
    services.create_zone(owner=user, label="work", lat=end["lat"], lon=end["lon"], radius_m=200)
    r = post_batch(client, body(manchester, "b-2", items[half:]), key)
    assert r.status_code == 201
    trace = Trace.objects.get()
    assert 0 < trace.n_dropped_in_zones < len(items) - half
    assert trace.n_fixes == len(items) - trace.n_dropped_in_zones
    lat, lon = trace.fixes.lat, trace.fixes.lon
    from smartip.mobility.fixes import haversine_m

    assert haversine_m(lat, lon, end["lat"], end["lon"]).min() > 200
    inside = post_batch(client, body(manchester, "b-3", [dict(end, t=end["t"] + 60)]), key)
    assert inside.status_code == 201 and inside.json()["trace"]["n_fixes"] == trace.n_fixes  # home: nothing


def test_a_session_trace_draws_the_same_trimmed_ends_each_time_it_is_processed(users, manchester):
    from smartip.mobility.models import TraceSession

    fixes = commute(*manchester.center)
    plain = services.upload_trace(
        owner=users["citizen"],
        city=manchester,
        fixes=fixes,
        source_format="batch",
        consent=True,
        purpose="t",
        process=False,
    )
    assert processing._trim_rng(plain).random() != processing._trim_rng(plain).random()
    TraceSession.objects.create(owner=users["citizen"], session_id="s", trace=plain, trim_seed=12345)
    assert processing._trim_rng(plain).random() == random.Random(12345).random()


def test_append_new_keeps_the_stored_copy_and_time_order():
    stored = from_columns([0.0, 10.0, 20.0], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0])
    incoming = from_columns([25.0, 10.0004, 5.0], [3.0, 9.0, 4.0], [2.0, 2.0, 2.0])
    merged, added = append_new(stored, incoming)
    assert added == 2  # 10.0004 s is 10.000 s to the millisecond: already stored
    assert merged.t_s.tolist() == [0.0, 5.0, 10.0, 20.0, 25.0]
    assert merged.lat.tolist() == [1.0, 4.0, 1.0, 1.0, 3.0]
    same, none = append_new(merged, merged)
    assert none == 0 and same.t_s.tolist() == merged.t_s.tolist()
