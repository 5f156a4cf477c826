"""Bad input gets a clear 4xx (the Open311 error list on /open311) and stores nothing: no rows, no files."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.translation import gettext

from smartip.reports.models import AuditEntry, Report, ReportPhoto, ServiceToken
from tests.reports.conftest import image_bytes

pytestmark = pytest.mark.django_db

GOOD = {"service_code": "pothole", "lat": "53.48", "description": "A deep hole"}


def _files(media_root):
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


def _counts():
    return (
        Report.objects.count(),
        ReportPhoto.objects.count(),
        AuditEntry.objects.count(),
        ServiceToken.objects.count(),
    )


def _fresh(photos):
    """The cases' upload objects are shared between tests: rewind them."""
    for photo in photos:
        photo.seek(0)
    return photos


def jpeg():
    return SimpleUploadedFile("ok.jpg", image_bytes(), content_type="image/jpeg")


BAD_CASES = {
    "malformed latitude": ({"lat": "53,48"}, [], "lat"),
    "latitude out of range": ({"lat": "153.48"}, [], "lat"),
    "not a number": ({"lat": "NaN"}, [], "lat"),
    "outside the city": ({"lat": "48.85", "lon": "2.35"}, [], "outside"),
    "unknown service code": ({"service_code": "unicorns"}, [], "service_code"),
    "script in description": ({"description": "<script>alert(1)</script>"}, [], "HTML"),
    "html entity in description": ({"description": "hi &lt;b&gt;"}, [], "HTML"),
    "empty description": ({"description": "   "}, [], "description"),
    "control character": ({"description": "bell \x07"}, [], "control"),
    "non-image photo": (
        {},
        [SimpleUploadedFile("x.jpg", b"#!/bin/sh\necho hi\n", content_type="image/jpeg")],
        "photo 2",
    ),
    "gif photo": ({}, [SimpleUploadedFile("x.gif", image_bytes("GIF"), content_type="image/gif")], "GIF"),
    "truncated jpeg": (
        {},
        [SimpleUploadedFile("t.jpg", image_bytes(size=(400, 300))[:600], content_type="image/jpeg")],
        "photo 2",
    ),
    "oversized photo": (
        {},
        [SimpleUploadedFile("big.jpg", image_bytes() + b"\0" * 3000, content_type="image/jpeg")],
        "limit",
    ),
    "too many photos": (
        {},
        [SimpleUploadedFile(f"{i}.jpg", image_bytes(), content_type="image/jpeg") for i in range(5)],
        "at most",
    ),
}


@pytest.fixture
def limits(settings):
    settings.REPORT_PHOTO_MAX_BYTES = 3000
    settings.REPORT_MAX_PHOTOS = 5
    return settings


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_json_api_refuses_and_stores_nothing(client, categories, users, limits, case):
    changes, photos, message = BAD_CASES[case]
    photos = _fresh(photos)
    client.force_login(users["citizen"])
    data = {"city": "manchester", "lon": "-2.24", **GOOD, **changes, "photos": [jpeg(), *photos]}
    before = _counts()
    resp = client.post("/api/reports/", data)
    assert resp.status_code in (400, 422), resp.content
    error = resp.json()["error"]
    assert message in error["message"] or message == error.get("field"), error
    assert _counts() == before and _files(limits.MEDIA_ROOT) == []


@pytest.mark.parametrize("case", [c for c in BAD_CASES if c != "empty description"])  # optional in Open311
def test_open311_post_refuses_in_its_error_format_and_stores_nothing(
    client, categories, users, api_key, limits, case
):
    changes, photos, message = BAD_CASES[case]
    photos = _fresh(photos)
    changes = {("long" if k == "lon" else k): v for k, v in changes.items()}
    data = {
        "jurisdiction_id": "manchester",
        "long": "-2.24",
        **GOOD,
        **changes,
        "api_key": api_key(users["citizen"]),
        "media": [jpeg(), *photos],
    }
    before = _counts()
    resp = client.post("/open311/v2/requests.json", data)
    expected = 404 if case == "unknown service code" else 400
    assert resp.status_code == expected, resp.content
    errors = resp.json()
    assert errors[0]["code"] == expected and message in errors[0]["description"], errors
    assert _counts() == before and _files(limits.MEDIA_ROOT) == []


def test_a_good_report_with_photos_does_write(client, categories, users, limits):
    """The control for the cases above: the same request without the fault stores the report and files."""
    client.force_login(users["citizen"])
    resp = client.post(
        "/api/reports/", {"city": "manchester", "lon": "-2.24", **GOOD, "photos": [jpeg(), jpeg()]}
    )
    assert resp.status_code == 201, resp.content
    assert Report.objects.count() == 1 and ReportPhoto.objects.count() == 2
    assert len(_files(limits.MEDIA_ROOT)) == 4  # two images, two thumbnails


@pytest.mark.parametrize(
    "params,field",
    [
        ({"start": "not-a-date"}, "start"),
        ({"lat": "x"}, "lat"),
        ({"status": "pending"}, "status"),
        ({"service_code": "unicorns"}, "service_code"),
        ({"lat": "53.4"}, "lat"),
        ({"page_size": "1000"}, "page_size"),
    ],
)
def test_json_list_bad_filters_are_4xx_with_the_field(client, categories, params, field):
    resp = client.get("/api/reports/", {"city": "manchester", **params})
    assert resp.status_code in (400, 422) and resp.json()["error"]["field"] == field, resp.content


def test_status_change_bad_input(client, make_report, users):
    report = make_report("noise")
    client.force_login(users["department_staff"])
    before = _counts()
    for payload in (
        {"status": "teleported"},
        {"status": "closed"},
        {"status": "closed", "reason": "bored"},
        {"status": "fixed", "reason": "no_action"},
        {"status": "open"},
        {"status": "fixed", "text": "<img src=x onerror=alert(1)>"},
    ):
        resp = client.post(f"/api/reports/{report.pk}/status", payload, content_type="application/json")
        assert resp.status_code in (400, 409), (payload, resp.content)
    assert _counts() == before
    report.refresh_from_db()
    assert report.status == "open"


def test_errors_arrive_in_the_language_asked_for(client, categories, users):
    """The message is the catalogue's German, filled with the values (read through gettext, not typed)."""
    outside = "(%(lat)s, %(lon)s) is outside %(city)s"
    client.force_login(users["citizen"])
    data = {
        "city": "manchester",
        "service_code": "pothole",
        "lat": "50.1",
        "lon": "7.0",
        "description": "A hole",
    }
    resp = client.post("/api/reports/", data, HTTP_ACCEPT_LANGUAGE="de")
    assert resp.status_code == 400, resp.content
    error = resp.json()["error"]
    with translation.override("de"):
        expected = gettext(outside) % {"lat": 50.1, "lon": 7.0, "city": "Manchester"}
    assert error == {"code": "invalid", "field": "lat", "message": expected}
    assert expected != outside % {"lat": 50.1, "lon": 7.0, "city": "Manchester"}
