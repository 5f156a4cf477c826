"""Mobility pages: upload with consent, owner-only trace pages, zones, and the planner view for analysts."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smartip.mobility.models import PrivacyZone, Trace, Trip
from smartip.mobility.readers.gpx import write_gpx
from tests.mobility.test_models import commute

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.mobility.page_urls")]


@pytest.fixture(autouse=True)
def _fake_engine(settings):
    settings.MAPMATCH_ENGINE = "fake"


def upload(client, city, consent=True):
    lat, lon = city.center
    data = {
        "purpose": "research",
        "file": SimpleUploadedFile("ride.gpx", write_gpx(commute(lat, lon)).encode()),
    }
    if consent:
        data["consent"] = "on"
    return client.post("/mobility/upload/", data=data)


def test_upload_then_see_export_and_delete(client, users, manchester):
    client.force_login(users["citizen"])
    assert client.get("/mobility/").status_code == 200
    r = upload(client, manchester)
    assert r.status_code == 302
    trace = Trace.objects.get()
    page = client.get(r["Location"])
    assert page.status_code == 200 and str(trace.n_fixes) in page.content.decode()
    assert client.get(f"/mobility/traces/{trace.pk}/export/gpx/").status_code == 200
    assert client.post(f"/mobility/traces/{trace.pk}/delete/").status_code == 302
    assert not Trace.objects.exists() and not Trip.objects.exists()


def test_upload_without_consent_shows_the_error_on_the_field(client, users, manchester):
    client.force_login(users["citizen"])
    r = upload(client, manchester, consent=False)
    assert r.status_code == 400 and "consent" in r.content.decode()
    assert not Trace.objects.exists()


def test_other_peoples_traces_are_404(client, users, manchester):
    client.force_login(users["citizen"])
    upload(client, manchester)
    pk = Trace.objects.get().pk
    client.force_login(users["analyst"])
    assert client.get(f"/mobility/traces/{pk}/").status_code == 404
    assert client.get(f"/mobility/traces/{pk}/export/gpx/").status_code == 404
    assert client.post(f"/mobility/traces/{pk}/delete/").status_code == 404
    assert Trace.objects.filter(pk=pk).exists()


def test_zones_from_the_page(client, users):
    client.force_login(users["citizen"])
    r = client.post("/mobility/zones/", {"label": "home", "lat": 53.48, "lon": -2.24, "radius_m": 10})
    assert r.status_code == 400 and not PrivacyZone.objects.exists()
    assert (
        client.post(
            "/mobility/zones/", {"label": "home", "lat": 53.48, "lon": -2.24, "radius_m": 300}
        ).status_code
        == 302
    )
    zone = PrivacyZone.objects.get()
    assert client.post(f"/mobility/zones/{zone.pk}/delete/").status_code == 302
    assert not PrivacyZone.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("analyst", 200), ("admin", 200), ("citizen", 403)])
def test_planner_page_is_for_analysts(client, users, manchester, role, status):
    client.force_login(users[role])
    r = client.get("/mobility/planner/?kind=od-h3")
    assert r.status_code == status


def test_anonymous_is_sent_to_log_in(client):
    r = client.get("/mobility/")
    assert r.status_code == 302 and "login" in r["Location"]
