"""Mobility pages: upload with consent, owner-only trace pages, zones, delete with a confirm step, and the
planner views (analysts and administrators only, published cells only)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartip.mobility.models import MatchedSegment, PrivacyZone, StayPoint, Trace, Trip, Tripleg
from smartip.mobility.readers.gpx import write_gpx
from tests.factories import make_user
from tests.mobility.jobs import committed
from tests.mobility.test_models import commute
from tests.mobility.test_privacy import person_trip

pytestmark = pytest.mark.django_db
MALFORMED = __import__("pathlib").Path(__file__).parent / "malformed"


@pytest.fixture(autouse=True)
def _fake_engine(settings):
    settings.MAPMATCH_ENGINE = "fake"


def upload(client, city, consent=True, filename="ride.gpx", content=None, **extra):
    lat, lon = city.center
    data = {
        "purpose": "research",
        "file": SimpleUploadedFile(
            filename, content if content is not None else write_gpx(commute(lat, lon)).encode()
        ),
        **extra,
    }
    if consent:
        data["consent"] = "on"
    return client.post("/mobility/upload/", data=data)


def counts():
    return [m.objects.count() for m in (Trace, StayPoint, Trip, Tripleg, MatchedSegment)]


def test_upload_without_js_then_trace_page_export_and_delete_with_confirm(client, users, manchester):
    client.force_login(users["citizen"])
    assert client.get("/mobility/upload/").status_code == 200
    with committed():  # the processing job runs after the request's commit
        r = upload(client, manchester)
    assert r.status_code == 302
    trace = Trace.objects.get()
    assert trace.status == "done" and Trip.objects.filter(trace=trace).exists()
    page = client.get(r["Location"])
    body = page.content.decode()
    assert page.status_code == 200 and str(trace.n_fixes) in body
    assert 'data-map="trace"' in body and "<table>" in body and "km/h" in body
    for leg in Tripleg.objects.filter(trip__trace=trace):  # the table repeats the stored figures
        assert f"<td>{leg.distance_m / 1000:.2f}</td>" in body
    gpx = client.get(f"/mobility/traces/{trace.pk}/export/gpx/")
    assert gpx.status_code == 200 and gpx["Content-Type"] == "application/gpx+xml"
    assert b"<trkpt" in gpx.content
    geo = client.get(f"/mobility/traces/{trace.pk}/export/geojson/")
    assert geo.status_code == 200 and geo.json()["type"]
    assert client.get(f"/mobility/traces/{trace.pk}/export/kml/").status_code == 404
    confirm = client.get(f"/mobility/traces/{trace.pk}/delete/")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert Trace.objects.exists()  # GET only asks
    assert all(counts()), counts()  # stops, trips, legs and matched streets were derived
    assert client.post(f"/mobility/traces/{trace.pk}/delete/").status_code == 302
    assert counts() == [0, 0, 0, 0, 0]


def test_upload_without_consent_is_400_on_the_field_and_stores_nothing(client, users, manchester):
    client.force_login(users["citizen"])
    r = upload(client, manchester, consent=False)
    body = r.content.decode()
    assert r.status_code == 400 and "consent is required" in body and "error-summary" in body
    assert counts() == [0, 0, 0, 0, 0]


@pytest.mark.parametrize(
    "name",
    [
        "broken.gpx",
        "bad_lat.gpx",
        "bad_time.csv",
        "broken.geojson",
        "wrong_columns.csv",
        "truncated_line.plt",
    ],
)
def test_bad_files_are_400_naming_the_problem_and_store_nothing(client, users, manchester, name):
    from smartip.core.errors import Invalid
    from smartip.mobility import services
    from smartip.mobility.readers import format_for

    client.force_login(users["citizen"])
    content = (MALFORMED / name).read_bytes()
    with pytest.raises(Invalid) as expected:  # the reader's own message is what the page must show
        services.read_upload(content, format_for(name))
    r = upload(client, manchester, filename=name, content=content)
    assert r.status_code == 400
    from django.utils.html import escape

    assert escape(expected.value.message) in r.content.decode()
    assert counts() == [0, 0, 0, 0, 0]


def test_unknown_extension_empty_file_and_out_of_city_are_400(client, users, manchester):
    client.force_login(users["citizen"])
    r = upload(client, manchester, filename="ride.docx", content=b"hello")
    assert r.status_code == 400 and "docx" in r.content.decode()
    r = upload(client, manchester, filename="empty.csv", content=b"")
    assert r.status_code == 400 and "empty" in r.content.decode()
    far = write_gpx(commute(48.85, 2.35)).encode()  # Paris
    r = upload(client, manchester, content=far)
    assert r.status_code == 400 and "lies outside" in r.content.decode()
    assert counts() == [0, 0, 0, 0, 0]


def test_trace_names_are_escaped(client, users, manchester):
    client.force_login(users["citizen"])
    upload(client, manchester, name="<script>alert(1)</script>")
    trace = Trace.objects.get()
    for url in ("/mobility/", f"/mobility/traces/{trace.pk}/", f"/mobility/traces/{trace.pk}/delete/"):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url


def test_other_peoples_traces_are_404(client, users, manchester):
    client.force_login(users["citizen"])
    upload(client, manchester)
    pk = Trace.objects.get().pk
    client.force_login(users["analyst"])
    for url in (
        f"/mobility/traces/{pk}/",
        f"/mobility/traces/{pk}/export/gpx/",
        f"/mobility/traces/{pk}/delete/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/mobility/traces/{pk}/delete/").status_code == 404
    assert Trace.objects.filter(pk=pk).exists()


def test_zones_page_add_list_delete(client, users, manchester):
    client.force_login(users["citizen"])
    page = client.get("/mobility/zones/")
    assert page.status_code == 200 and 'data-map="picker"' in page.content.decode()
    r = client.post("/mobility/zones/", {"label": "home", "lat": 53.48, "lon": -2.24, "radius_m": 10})
    assert r.status_code == 400 and "between 50 and 5000" in r.content.decode()
    assert not PrivacyZone.objects.exists()
    r = client.post("/mobility/zones/", {"label": "<b>home</b>", "lat": 53.48, "lon": -2.24, "radius_m": 300})
    assert r.status_code == 302
    listed = client.get("/mobility/zones/").content.decode()
    assert "&lt;b&gt;home&lt;/b&gt;" in listed and "<b>home</b>" not in listed
    zone = PrivacyZone.objects.get()
    client.force_login(users["analyst"])
    assert client.post(f"/mobility/zones/{zone.pk}/delete/").status_code == 404
    client.force_login(users["citizen"])
    assert client.post(f"/mobility/zones/{zone.pk}/delete/").status_code == 302
    assert not PrivacyZone.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["/mobility/", "/mobility/upload/", "/mobility/zones/", "/mobility/planner/", "/mobility/traces/1/"],
)
def test_anonymous_is_sent_to_log_in(client, url):
    r = client.get(url)
    assert r.status_code == 302 and "login" in r["Location"]


VIEWS = ["segments", "od", "od-h3", "speeds", "hotspots", "mode-share"]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize(("role", "status"), [("analyst", 200), ("admin", 200), ("citizen", 403)])
def test_planner_pages_are_for_analysts_and_admins(client, users, manchester, role, status, view):
    client.force_login(users[role])
    assert client.get(f"/mobility/planner/{view}/").status_code == status


def test_unknown_planner_view_is_404(client, users, manchester):
    client.force_login(users["analyst"])
    assert client.get("/mobility/planner/nothing/").status_code == 404


def test_nav_links_by_role(client, users, manchester):
    client.force_login(users["citizen"])
    body = client.get("/mobility/").content.decode()
    assert 'href="/mobility/"' in body and 'href="/mobility/planner/"' not in body
    client.force_login(users["analyst"])
    assert 'href="/mobility/planner/"' in client.get("/mobility/").content.decode()


def _cells(city):
    """Two real H3 resolution-8 cells about 2 km apart in the city (trip ends as processing stores them)."""
    from smartip.core.geo import h3_cell

    lat, lon = city.center
    return h3_cell(lat, lon, 8), h3_cell(lat + 0.02, lon, 8)


def _people(manchester, n, way_ids, **kw):
    origin, destination = _cells(manchester)
    kw = {"origin": origin, "destination": destination} | kw
    return [person_trip(manchester, make_user(f"p{i}-{way_ids[0]}"), way_ids=way_ids, **kw) for i in range(n)]


def test_planner_never_shows_a_cell_below_five_people(client, users, manchester):
    _people(manchester, 4, [111111])  # four people: never shown
    _people(manchester, 6, [222222])  # six people: published
    client.force_login(users["analyst"])
    body = client.get("/mobility/planner/segments/").content.decode()
    assert "222222" in body and "111111" not in body
    assert "fewer than" not in body
    hotspots = client.get("/mobility/planner/hotspots/").content.decode()
    assert "222222" in hotspots and "111111" not in hotspots


def test_planner_empty_state_when_fewer_than_five(client, users, manchester):
    _people(manchester, 4, [333333])
    client.force_login(users["analyst"])
    for view in VIEWS:
        body = client.get(f"/mobility/planner/{view}/").content.decode()
        assert "fewer than 5 people" in body and "333333" not in body, view


def test_segment_filters_and_htmx_partial(client, users, manchester):
    _people(manchester, 5, [444444])  # START is a weekday morning, cycling
    client.force_login(users["analyst"])
    full = client.get("/mobility/planner/segments/?day_type=weekday")
    assert "<html" in full.content.decode() and "444444" in full.content.decode()
    part = client.get("/mobility/planner/segments/?day_type=weekend", headers={"HX-Request": "true"})
    text = part.content.decode()
    assert "<html" not in text and "444444" not in text and "No published cell matches" in text
    assert "HX-Request" in part["Vary"]
    assert "444444" not in client.get("/mobility/planner/segments/?mode=car").content.decode()
    assert "444444" in client.get("/mobility/planner/segments/?mode=bicycle").content.decode()
    links = full.content.decode()
    for fmt in ("csv", "geojson"):  # the download links work with the page's session
        href = f"/api/mobility/aggregates/{manchester.slug}/segments?format={fmt}"
        assert href in links
        download = client.get(href)
        assert download.status_code == 200 and b"444444" in download.content


def _hood(city, code, name, lat):
    from smartip.cities.models import Neighbourhood

    lon = city.center[1]
    ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]
    return Neighbourhood.objects.create(
        city=city,
        code=code,
        name=name,
        geometry={"type": "Polygon", "coordinates": [ring]},
        min_lat=lat,
        max_lat=lat + 0.01,
        min_lon=lon,
        max_lon=lon + 0.01,
    )


@pytest.mark.parametrize("view", VIEWS)
def test_period_filter_goes_to_the_service_and_the_download_links(client, users, manchester, view):
    _people(manchester, 5, [555555])  # on 2024-06-03
    a = _hood(manchester, "zz-a", "Ancoats", manchester.center[0])
    Trip.objects.update(origin_neighbourhood=a, destination_neighbourhood=a)
    client.force_login(users["analyst"])
    inside = client.get(f"/mobility/planner/{view}/?since=2024-06-03&until=2024-06-03").content.decode()
    after = client.get(f"/mobility/planner/{view}/?since=2024-06-04").content.decode()
    shown = {"segments": "555555", "speeds": "555555", "hotspots": "555555", "od-h3": _cells(manchester)[0]}
    shown = shown.get(view, "Ancoats")
    assert shown in inside and shown not in after
    assert "since=2024-06-04T00%3A00%3A00%2B01%3A00" in after  # local midnight (BST), as the API expects


@pytest.mark.parametrize("n_people", [4, 5])
def test_mode_share_and_od_pages_publish_only_five_or_more(client, users, manchester, n_people):
    lat = manchester.center[0]
    a, b = (
        _hood(manchester, "zz-a", "Ancoats <A>", lat),
        _hood(manchester, "zz-b", "Bradford & B", lat + 0.02),
    )
    for i in range(n_people):
        trip = person_trip(manchester, make_user(f"od{i}"), way_ids=[1])
        Trip.objects.filter(pk=trip.pk).update(origin_neighbourhood=a, destination_neighbourhood=b)
    client.force_login(users["analyst"])
    od = client.get("/mobility/planner/od/").content.decode()
    share = client.get("/mobility/planner/mode-share/").content.decode()
    if n_people < 5:
        assert "Ancoats" not in od and "Ancoats" not in share
        assert "fewer than 5 people" in od and "fewer than 5 people" in share
        return
    assert "from Ancoats &lt;A&gt;" in od and "to Bradford &amp; B" in od and "5 people" in od
    assert 'data-map="aggregates"' in od
    assert "Ancoats &lt;A&gt;" in share and "100%" in share and "width: 100%" in share


def test_my_trips_list_htmx_partial_and_fixed_queries(client, users, manchester):
    client.force_login(users["citizen"])
    sizes = []
    for _ in range(3):
        upload(client, manchester)
        client.get("/mobility/")  # shows (and clears) the "stored" message
        with CaptureQueriesContext(connection) as queries:
            r = client.get("/mobility/")
        assert r.status_code == 200
        sizes.append(len(queries))
    assert len(set(sizes)) == 1, sizes  # no query per trace
    assert sizes[0] == 8, sizes  # savepoint pair; session, city, user, role, cities, traces with trip counts
    part = client.get("/mobility/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in part and "<table>" in part


def test_a_zone_added_on_the_page_drops_points_of_the_next_upload(client, users, manchester):
    client.force_login(users["citizen"])
    lat, lon = manchester.center  # the commute starts here
    client.post("/mobility/zones/", {"label": "home", "lat": lat, "lon": lon, "radius_m": 200})
    assert upload(client, manchester).status_code == 302
    trace = Trace.objects.get()
    assert trace.n_dropped_in_zones > 0
    body = client.get(f"/mobility/traces/{trace.pk}/").content.decode()
    assert f"{trace.n_dropped_in_zones} points were dropped inside your privacy zones" in body


@pytest.mark.parametrize("view", VIEWS)
def test_planner_pages_take_a_fixed_number_of_queries(client, users, manchester, view):
    client.force_login(users["analyst"])
    client.get(f"/mobility/planner/{view}/")  # warm the session
    sizes = []
    for way in (666661, 666662):
        _people(manchester, 5, [way])
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/mobility/planner/{view}/").status_code == 200
        sizes.append(len(queries))
    assert sizes[0] == sizes[1], sizes  # no query per published cell


def _api_cells(client, city, kind, query=""):
    r = client.get(f"/api/mobility/aggregates/{city.slug}/{kind}{query}")
    assert r.status_code == 200, r.content
    return r.json()["cells"]


def test_speeds_page_shows_the_apis_published_cells_and_filters_them(client, users, manchester):
    _people(manchester, 5, [777001])  # published
    _people(manchester, 4, [777002])  # four people: suppressed, as in the API
    _people(manchester, 6, [777003], mode="walk")
    client.force_login(users["analyst"])
    cells = _api_cells(client, manchester, "speeds")
    assert {c["way_id"] for c in cells} == {777001, 777003}
    body = client.get("/mobility/planner/speeds/").content.decode()
    assert "777002" not in body and 'data-map="aggregates"' in body and "Published cells: 2," in body
    for c in cells:  # every published cell is a table row with the API's figures
        kmh = f"{c['median_speed_mps'] * 3.6:.1f}"
        row = f"<td>{c['way_id']}</td><td>{'walking' if c['mode'] == 'walk' else 'cycling'}</td>"
        assert row in body and f"<td>{kmh}</td><td>{c['n_people']}</td>" in body, c
    assert "/api/mobility/aggregates/manchester/speeds?format=csv" in body
    walking = client.get("/mobility/planner/speeds/?mode=walk", headers={"HX-Request": "true"})
    text = walking.content.decode()
    assert "<html" not in text and "777003" in text and "777001" not in text
    assert 'name="hour"' in body and 'name="day_type"' in body  # the street filters are offered


def test_od_h3_page_shows_the_apis_published_pairs(client, users, manchester):
    import h3

    origin, destination = _cells(manchester)
    _people(manchester, 5, [1])
    _people(manchester, 4, [2], origin=destination, destination=origin)  # suppressed pair
    client.force_login(users["analyst"])
    cells = _api_cells(client, manchester, "od-h3")
    assert cells == [{"origin": origin, "destination": destination, "count": 5, "n_people": 5}]
    body = client.get("/mobility/planner/od-h3/").content.decode()
    lat, lon = h3.cell_to_latlng(origin)
    assert f"<td><code>{origin}</code></td><td>{lat:.4f}, {lon:.4f}</td>" in body
    assert f"<td><code>{destination}</code></td>" in body and "<td>5</td><td>5</td>" in body
    assert body.count("<td><code>") == 2  # one row: the four-person pair is not shown
    assert "Published pairs of H3 cells (resolution 8, about 0.7 km² each): 1," in body
    assert 'data-map="aggregates"' in body and '"LineString"' in body
    assert 'name="hour"' not in body  # street filters do not apply to trips between cells


def test_new_planner_views_are_linked_from_every_planner_page(client, users, manchester):
    client.force_login(users["admin"])
    body = client.get("/mobility/planner/").content.decode()
    for view, title in (("od-h3", "Trips between H3 cells"), ("speeds", "Median speed per street")):
        assert f'href="/mobility/planner/{view}/"' in body and title in body
