"""The report workflow as a user notices it: statuses, reopen, duplicates, "me too", flags, moderation,
notifications and the audit trail."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from smartip.accounts.models import Role
from smartip.core.errors import Conflict, Forbidden, Invalid
from smartip.reports import services
from smartip.reports.models import AuditEntry, Report, ReportUpdate, Status
from smartip.reports.notify import MemoryNotifier
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(users):
    return users["department_staff"]  # environment department: noise reports


def test_create_routes_to_department_sets_cell_and_audits(make_report, users, categories):
    report = make_report("noise")
    assert report.department == categories["manchester"]["noise"].department
    assert report.h3_cell and report.status == Status.OPEN
    entry = AuditEntry.objects.get(report=report)
    assert entry.action == "created" and entry.actor == users["citizen"]


def test_status_moves_forward_only_and_closing_needs_a_reason(make_report, staff):
    report = make_report("noise")
    services.change_status(report=report, by=staff, status="in_progress")
    with pytest.raises(Conflict):
        services.change_status(report=report, by=staff, status="acknowledged")
    with pytest.raises(Invalid) as info:
        services.change_status(report=report, by=staff, status="closed")
    assert info.value.field == "reason"
    services.change_status(
        report=report, by=staff, status="closed", reason="not_responsible", text="Private land"
    )
    with pytest.raises(Conflict):
        services.change_status(report=report, by=staff, status="fixed")
    report.refresh_from_db()
    assert (report.status, report.close_reason, report.status_notes) == (
        "closed",
        "not_responsible",
        "Private land",
    )
    actions = list(AuditEntry.objects.filter(report=report).values_list("action", "changes"))
    assert actions[-1] == ("status", {"status": ["in_progress", "closed"], "reason": "not_responsible"})
    assert actions[-1][0] == "status" and all(a.actor_id for a in AuditEntry.objects.filter(action="status"))


def test_reporter_reopens_fixed_report_and_is_notified_of_updates(
    make_report, staff, users, settings, django_capture_on_commit_callbacks
):
    report = make_report("noise")
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(report=report, by=staff, status="fixed", text="Spoke to the neighbours")
    assert [m.to for m in mail.outbox] == [[users["citizen"].email]]
    assert "Spoke to the neighbours" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        services.reopen(report=report, by=users["citizen"], text="Still loud every night")
    report.refresh_from_db()
    assert report.status == Status.OPEN and report.close_reason == ""
    assert len(mail.outbox) == 1  # the reporter is not told about their own reopening
    with pytest.raises(Conflict):
        services.reopen(report=report, by=users["citizen"])
    with pytest.raises(Forbidden):
        services.reopen(report=report, by=users["analyst"])


def test_internal_notes_notify_no_one_and_public_updates_reach_supporters(
    make_report, staff, users, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFIER = "memory"
    MemoryNotifier.sent.clear()
    report = make_report("noise")
    neighbour = make_user("neighbour", city=report.city, role=Role.CITIZEN)
    services.support(report=report, user=neighbour)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_update(report=report, by=staff, text="Check with licensing", public=False)
    assert MemoryNotifier.sent == []
    with django_capture_on_commit_callbacks(execute=True):
        services.add_update(report=report, by=staff, text="We have written to the venue")
    assert sorted(m.to for m in MemoryNotifier.sent) == sorted([users["citizen"].email, neighbour.email])
    assert all("We have written to the venue" in m.body for m in MemoryNotifier.sent)


def test_support_is_idempotent_and_counted(make_report, users):
    report = make_report("noise")
    for _ in range(2):
        services.support(report=report, user=users["analyst"])
    services.support(report=report, user=users["moderator"])
    report.refresh_from_db()
    assert report.support_count == 2
    with pytest.raises(Forbidden):
        services.support(report=report, user=users["citizen"])  # the reporter


def test_duplicates_offered_nearby_same_category_open_recent(make_report, categories, manchester):
    lat, lon = 53.48, -2.24
    near = make_report("noise", lat=lat + 0.0003, lon=lon)  # ~33 m
    nearer = make_report("noise", lat=lat + 0.0001, lon=lon)  # ~11 m
    make_report("noise", lat=lat + 0.003, lon=lon)  # ~330 m: outside noise's 100 m radius
    make_report("pothole", lat=lat, lon=lon)  # other category
    fixed = make_report("noise", lat=lat, lon=lon)
    Report.objects.filter(pk=fixed.pk).update(status=Status.FIXED)
    old = make_report("noise", lat=lat, lon=lon)
    Report.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=61))
    found = services.find_duplicates(category=categories["manchester"]["noise"], lat=lat, lon=lon)
    assert [r.pk for r in found] == [nearer.pk, near.pk]


def test_mark_duplicate_closes_and_merges_supporters(make_report, staff, users):
    original = make_report("noise", reporter="citizen")
    copy = make_report("noise", reporter="analyst")
    services.support(report=copy, user=users["moderator"])
    services.mark_duplicate(report=copy, by=staff, original=original)
    copy.refresh_from_db()
    original.refresh_from_db()
    assert (copy.status, copy.close_reason, copy.duplicate_of_id) == ("closed", "duplicate", original.pk)
    assert set(original.supporters.all()) == {users["analyst"], users["moderator"]}
    assert original.support_count == 2
    assert AuditEntry.objects.filter(report=original, action="merged").exists()
    with pytest.raises(Invalid):
        services.mark_duplicate(report=original, by=staff, original=original)


def test_flags_hide_after_threshold_until_moderated(make_report, users, settings, client):
    settings.REPORT_HIDE_AFTER_FLAGS = 2
    report = make_report("noise")
    make_report("noise", description="Never flagged")
    services.flag(report=report, by=users["analyst"], reason="rude")
    services.flag(report=report, by=users["analyst"], reason="rude")  # one flag per person
    report.refresh_from_db()
    assert not report.is_hidden and report.flag_count == 1
    services.flag(report=report, by=users["process_manager"])
    report.refresh_from_db()
    assert report.is_hidden
    assert client.get(f"/api/reports/{report.pk}").status_code == 404
    client.force_login(users["moderator"])
    queue = client.get("/api/reports/queue", {"city": "manchester", "flagged": True}).json()
    assert [r["id"] for r in queue["results"]] == [report.pk]
    services.moderate(report=report, by=users["moderator"], hide=False, description="Noise (edited)")
    report.refresh_from_db()
    assert not report.is_hidden and report.description == "Noise (edited)"
    assert not report.flags.filter(resolved_at__isnull=True).exists()
    entry = AuditEntry.objects.filter(report=report, action="moderated").get()
    assert entry.actor == users["moderator"] and entry.changes["is_hidden"] == [True, False]


def test_reassign_moves_report_between_departments(make_report, staff, manchester, users):
    report = make_report("noise")
    highways = manchester.departments.get(slug="highways")
    services.reassign(report=report, by=staff, department=highways)
    report.refresh_from_db()
    assert report.department == highways
    with pytest.raises(Forbidden):  # no longer this staff member's department
        services.change_status(report=report, by=staff, status="acknowledged")
    assert ReportUpdate.objects.filter(report=report, kind="reassign").exists()


def test_anonymous_report_hides_name_in_api(client, make_report, users):
    report = make_report("noise", is_anonymous=True)
    body = client.get(f"/api/reports/{report.pk}").json()
    assert body["reporter_name"] == "" and users["citizen"].username not in str(body)


def test_assisted_report_must_be_entered_by_staff(make_report, users):
    report = make_report(
        "noise", reporter=None, assisted_by=users["moderator"], contact_email="a@example.org"
    )
    assert report.assisted_by == users["moderator"]
    with pytest.raises(Forbidden):
        make_report("noise", reporter=None, assisted_by=users["analyst"])


def test_ensure_categories_is_idempotent(cities):
    first = services.ensure_categories(cities["ghent"])
    second = services.ensure_categories(cities["ghent"])
    assert [c.pk for c in first] == [c.pk for c in second] and len(first) == 8


@pytest.mark.parametrize("radius_m", [30, 120, 500, 1499, 3000])
def test_radius_search_matches_haversine(make_report, manchester, radius_m):
    """The SQL circle (H3 cells + box + flat-earth distance) against great-circle distances."""
    import random

    from smartip.core import geo

    rng = random.Random(radius_m)
    first = make_report("pothole")
    lat0, lon0 = 53.47, -2.23
    rows = []
    for _ in range(400):
        lat = lat0 + rng.uniform(-1, 1) * radius_m * 1.5 / 111_195
        lon = lon0 + rng.uniform(-1, 1) * radius_m * 1.5 / 66_000
        rows.append(
            Report(
                city=manchester,
                category=first.category,
                department=first.department,
                description="x",
                lat=lat,
                lon=lon,
                h3_cell=geo.h3_cell(lat, lon),
            )
        )
    Report.objects.bulk_create(rows)
    found = set(
        services.search_reports(city=manchester, lat=lat0, lon=lon0, radius_m=radius_m).values_list(
            "pk", flat=True
        )
    )
    for report in Report.objects.all():
        distance = geo.haversine_m(lat0, lon0, report.lat, report.lon)
        if distance < radius_m * 0.995:
            assert report.pk in found, (distance, radius_m)
        elif distance > radius_m * 1.005:
            assert report.pk not in found, (distance, radius_m)


def test_a_mail_server_that_is_down_is_logged_and_the_update_still_saved(
    make_report, staff, settings, caplog, django_capture_on_commit_callbacks
):
    import socket

    with socket.socket() as s:  # a port nothing listens on: the SMTP connection is refused
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port, "timeout": 2},
        }
    }
    report = make_report("noise")
    with (
        caplog.at_level("ERROR", logger="smartip.reports.notify"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        update = services.add_update(report=report, by=staff, text="Crew booked for Monday")
    assert ReportUpdate.objects.filter(pk=update.pk, text="Crew booked for Monday").exists()
    assert "could not send 1 notification email(s)" in caplog.text
