"""JSON API behaviour beyond permissions: search filters and pagination, detail timeline, duplicates lookup,
categories, multipart photos, and notification of an Open311 reporter known only by email."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from smartip.reports import services
from smartip.reports.models import Report, Status
from tests.reports.conftest import image_bytes

pytestmark = pytest.mark.django_db


def test_list_filters_and_pagination(client, make_report, users):
    pothole = make_report("pothole", description="Pothole on Oxford Road")
    noise = make_report("noise", lat=53.50, lon=-2.20, description="Loud bar")
    fixed = make_report("litter", description="Cans")
    Report.objects.filter(pk=fixed.pk).update(status=Status.FIXED)
    make_report("pothole", description="x")

    def ids(**params):
        body = client.get("/api/reports/", {"city": "manchester", **params}).json()
        return [r["id"] for r in body["results"]]

    assert set(ids(service_code="pothole")) >= {pothole.pk} and noise.pk not in ids(service_code="pothole")
    assert ids(q="oxford road") == [pothole.pk]
    assert ids(state="closed") == [fixed.pk] and ids(status="fixed") == [fixed.pk]
    assert ids(department="environment") == [noise.pk]
    assert ids(lat=53.50, lon=-2.20, radius_m=200) == [noise.pk]
    page1 = client.get("/api/reports/", {"city": "manchester", "page_size": 2}).json()
    page2 = client.get("/api/reports/", {"city": "manchester", "page_size": 2, "page": 2}).json()
    assert page1["count"] == page2["count"] == 4
    assert len(page1["results"]) == 2 and len(page2["results"]) == 2
    assert not {r["id"] for r in page1["results"]} & {r["id"] for r in page2["results"]}
    assert [r["id"] for r in page1["results"]] == sorted([r["id"] for r in page1["results"]], reverse=True)


def test_detail_timeline_and_capabilities(client, make_report, users):
    report = make_report("noise")
    staff = users["department_staff"]
    services.change_status(report=report, by=staff, status="acknowledged", text="Seen")
    services.add_update(report=report, by=staff, text="secret plan", public=False)
    public = client.get(f"/api/reports/{report.pk}").json()
    assert [u["new_status"] for u in public["timeline"]] == ["acknowledged"]
    assert public["can"]["support"] is False  # anonymous
    client.force_login(staff)
    inside = client.get(f"/api/reports/{report.pk}").json()
    assert [u["text"] for u in inside["timeline"]] == ["Seen", "secret plan"]
    assert inside["can"]["change_status"] and inside["can"]["note"] and not inside["can"]["moderate"]
    assert client.get("/api/reports/999999").status_code == 404


def test_duplicates_and_categories_endpoints(client, make_report):
    existing = make_report("noise", lat=53.48, lon=-2.24)
    found = client.get(
        "/api/reports/duplicates",
        {"city": "manchester", "service_code": "noise", "lat": 53.4801, "lon": -2.24},
    ).json()
    assert [r["id"] for r in found] == [existing.pk]
    cats = client.get("/api/reports/categories", {"city": "manchester"}).json()
    flytipping = next(c for c in cats if c["service_code"] == "flytipping")
    assert flytipping["attributes"][0]["code"] == "size" and flytipping["department"] == "waste"
    bad = client.get(
        "/api/reports/duplicates", {"city": "manchester", "service_code": "nope", "lat": 1, "lon": 1}
    )
    assert bad.status_code == 400


def test_create_with_photos_and_support(client, categories, users):
    client.force_login(users["citizen"])
    photos = [SimpleUploadedFile(f"{i}.png", image_bytes("PNG"), content_type="image/png") for i in range(2)]
    resp = client.post(
        "/api/reports/",
        {
            "city": "manchester",
            "service_code": "flytipping",
            "lat": 53.48,
            "lon": -2.24,
            "description": "Sofa",
            "attributes": '{"size": "large"}',
            "is_anonymous": True,
            "photos": photos,
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (
        len(body["photos"]) == 2 and body["photos"][0]["url"].endswith(".png") and body["reporter_name"] == ""
    )
    client.force_login(users["analyst"])
    supported = client.post(f"/api/reports/{body['id']}/support")
    assert supported.status_code == 200 and supported.json()["support_count"] == 1


def test_open311_reporter_known_by_email_is_notified(
    client, categories, users, api_key, django_capture_on_commit_callbacks
):
    key = api_key(users["citizen"])
    resp = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": key,
            "jurisdiction_id": "manchester",
            "service_code": "noise",
            "lat": "53.48",
            "long": "-2.24",
            "description": "Drilling at night",
            "email": "resident@example.org",
            "first_name": "Ann",
            "last_name": "Lee",
        },
    )
    report = Report.objects.get(pk=int(resp.json()[0]["service_request_id"]))
    assert report.contact_email == "resident@example.org" and report.contact_name == "Ann Lee"
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(
            report=report, by=users["department_staff"], status="in_progress", text="On it"
        )
    # the person who wrote, not the app's key owner
    assert [m.to for m in mail.outbox] == [["resident@example.org"]]
