"""Every write endpoint (JSON API and Open311 POST) × every role: refused where it must be, with the right
status and nothing changed; allowed where it may be, with something changed."""

import pytest

from smartip.accounts.models import Role
from smartip.reports.models import AuditEntry, Report, ReportFlag, ReportUpdate, Status
from tests.factories import make_user

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "citizen",
    "reporter",
    "moderator",
    "department_staff",
    "other_department_staff",
    "process_manager",
    "analyst",
    "admin",
    "other_city_staff",
]
STAFF = {"moderator", "department_staff", "admin"}
MODERATORS = {"moderator", "admin"}
SIGNED_IN = set(ROLES) - {"anonymous"}

# action -> (who may, method, path template, payload, state before)
ACTIONS = {
    "create": (
        SIGNED_IN,
        "multipart",
        "/api/reports/",
        {
            "city": "manchester",
            "service_code": "pothole",
            "lat": "53.46",
            "lon": "-2.22",
            "description": "Hole",
        },
        None,
    ),
    "support": (SIGNED_IN - {"reporter"}, "json", "/api/reports/{id}/support", {}, None),
    "flag": (SIGNED_IN - {"reporter"}, "json", "/api/reports/{id}/flag", {"reason": "rude"}, None),
    "status": (STAFF, "json", "/api/reports/{id}/status", {"status": "acknowledged", "text": "Seen"}, None),
    "close": (STAFF, "json", "/api/reports/{id}/status", {"status": "closed", "reason": "no_action"}, None),
    "comment": (
        STAFF | {"reporter"},
        "json",
        "/api/reports/{id}/updates",
        {"text": "More info", "public": True},
        None,
    ),
    "note": (STAFF, "json", "/api/reports/{id}/updates", {"text": "Internal", "public": False}, None),
    "reassign": (STAFF, "json", "/api/reports/{id}/reassign", {"department": "highways"}, None),
    "reopen": (
        STAFF | {"reporter"},
        "json",
        "/api/reports/{id}/reopen",
        {"text": "Still broken"},
        Status.FIXED,
    ),
    "duplicate": (STAFF, "json", "/api/reports/{id}/duplicate", {"original": "{original}"}, None),
    "moderate": (
        MODERATORS,
        "json",
        "/api/reports/{id}/moderate",
        {"hide": True, "description": "Edited"},
        None,
    ),
    "open311_post": (
        SIGNED_IN,
        "open311",
        "/open311/v2/requests.json",
        {
            "jurisdiction_id": "manchester",
            "service_code": "noise",
            "lat": "53.46",
            "long": "-2.22",
            "description": "Loud music",
        },
        None,
    ),
}


@pytest.fixture
def actors(users, other_users, manchester):
    """The matrix's roles; department staff work in `environment`, which handles noise reports."""
    everyone = dict(users)
    everyone["reporter"] = make_user("manchester_reporter", city=manchester, role=Role.CITIZEN)
    everyone["other_department_staff"] = other_users["other_department_staff"]
    everyone["other_city_staff"] = other_users["other_city_admin"]
    return everyone


def snapshot():
    reports = list(
        Report.objects.order_by("pk").values(
            "pk",
            "status",
            "close_reason",
            "department_id",
            "is_hidden",
            "description",
            "support_count",
            "flag_count",
            "duplicate_of_id",
        )
    )
    return (
        reports,
        ReportUpdate.objects.count(),
        AuditEntry.objects.count(),
        ReportFlag.objects.count(),
        Report.supporters.through.objects.count(),
    )


def send(client, method, path, payload, key=None):
    if method == "multipart":
        return client.post(path, payload)
    if method == "open311":
        return client.post(path, {**payload, **({"api_key": key} if key else {})})
    return client.post(path, payload, content_type="application/json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_write_permission_matrix(client, make_report, actors, api_key, role, action):
    allowed, method, path, payload, state = ACTIONS[action]
    report = make_report("noise", reporter=actors["reporter"], description="Loud party")
    original = make_report("noise", reporter=actors["citizen"], description="Loud party, first report")
    if state:
        Report.objects.filter(pk=report.pk).update(status=state)
    user = actors[role]
    key = None
    if user is not None:
        client.force_login(user)
        key = api_key(user)
    payload = {k: (v.format(original=original.pk) if isinstance(v, str) else v) for k, v in payload.items()}
    if "original" in payload:
        payload["original"] = int(payload["original"])
    before = snapshot()

    resp = send(client, method, path.format(id=report.pk), payload, key)

    if role in allowed:
        assert resp.status_code in (200, 201), (action, role, resp.content)
        assert snapshot() != before
    else:
        expected = 403 if method == "open311" or user is not None else 401
        assert resp.status_code == expected, (action, role, resp.status_code, resp.content)
        assert snapshot() == before


@pytest.mark.parametrize("role", ROLES)
def test_staff_queue_and_audit_are_staff_only(client, make_report, actors, role):
    report = make_report("noise", reporter=actors["reporter"])
    if actors[role] is not None:
        client.force_login(actors[role])
    queue = client.get("/api/reports/queue", {"city": "manchester"})
    audit = client.get(f"/api/reports/{report.pk}/audit")
    if role in STAFF | {"other_department_staff"}:
        assert queue.status_code == 200 and audit.status_code == 200
        # department staff see their own department's reports only
        assert queue.json()["count"] == (0 if role == "other_department_staff" else 1)
    else:
        expected = 401 if role == "anonymous" else 403
        assert queue.status_code == expected and audit.status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_internal_notes_are_shown_to_report_staff_only(client, make_report, actors, role):
    from smartip.reports import services

    report = make_report("noise", reporter=actors["reporter"])
    services.add_update(
        report=report, by=actors["department_staff"], text="call the contractor", public=False
    )
    services.add_update(report=report, by=actors["department_staff"], text="We are on it", public=True)
    if actors[role] is not None:
        client.force_login(actors[role])
    for path in (f"/api/reports/{report.pk}", f"/open311/v2/requests/{report.pk}.json"):
        body = client.get(path).content.decode()
        assert "call the contractor" not in body or (
            role in STAFF | {"other_department_staff"} and "api" in path
        )
    timeline = client.get(f"/api/reports/{report.pk}").json()["timeline"]
    assert [u["text"] for u in timeline if u["is_public"]] == ["We are on it"]
