"""Civic report pages: who sees which page, the no-JavaScript report form, errors, escaping, htmx partials,
staff actions through the page forms, and pinned query counts on the list pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smartip.reports.models import Report, ReportPhoto, ReportUpdate, Status
from tests.reports.conftest import image_bytes

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"
HTMX = {"HTTP_HX_REQUEST": "true"}


def _form_data(category, lat, lon, **extra):
    return {
        "category": str(category.pk),
        "lat": str(lat),
        "lon": str(lon),
        "description": "Glass on the path",
        "address": "",
        **extra,
    }


# --- who may see which page -------------------------------------------------------------------------------

PAGES_BY_ROLE = {
    # page: roles that get 200; anonymous users are sent to log in where a page needs an account
    "/reports/": {
        "anonymous",
        "citizen",
        "moderator",
        "department_staff",
        "process_manager",
        "analyst",
        "admin",
    },
    "/reports/new/": {"citizen", "moderator", "department_staff", "process_manager", "analyst", "admin"},
    "/reports/mine/": {"citizen", "moderator", "department_staff", "process_manager", "analyst", "admin"},
    "/reports/queue/": {"moderator", "department_staff", "admin"},
}


@pytest.mark.parametrize(
    "role", ["anonymous", "citizen", "moderator", "department_staff", "process_manager", "analyst", "admin"]
)
def test_pages_by_role(as_user, users, categories, make_report, role):
    report = make_report("noise")
    client = as_user(users[role])
    pages = {**PAGES_BY_ROLE, f"/reports/{report.pk}/": PAGES_BY_ROLE["/reports/"]}
    for url, allowed in pages.items():
        resp = client.get(url)
        if role in allowed:
            assert resp.status_code == 200, url
        elif role == "anonymous":
            assert resp.status_code == 302 and "/accounts/login/" in resp["Location"], url
        else:
            assert resp.status_code == 403, url


def test_hidden_report_is_404_for_the_public_but_shown_to_moderators(as_user, users, make_report):
    report = make_report("noise")
    Report.objects.filter(pk=report.pk).update(is_hidden=True)
    assert as_user(None).get(f"/reports/{report.pk}/").status_code == 404
    assert as_user(users["analyst"]).get(f"/reports/{report.pk}/").status_code == 404
    assert as_user(users["moderator"]).get(f"/reports/{report.pk}/").status_code == 200
    assert as_user(users["citizen"]).get(f"/reports/{report.pk}/").status_code == 200  # the reporter


# --- the report form without JavaScript -------------------------------------------------------------------


def test_form_creates_report_with_plain_post(as_user, users, manchester, categories):
    client = as_user(users["citizen"])
    cat = categories["manchester"]["flytipping"]
    photo = SimpleUploadedFile("tip.jpg", image_bytes("JPEG"), content_type="image/jpeg")
    data = _form_data(
        cat, "53,4794", "-2.2453", photos=[photo], is_anonymous="on", **{f"attr_{cat.pk}_size": "large"}
    )
    resp = client.post("/reports/new/", data)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    report = Report.objects.get()
    assert resp["Location"] == f"/reports/{report.pk}/"
    assert (report.lat, report.lon) == (53.4794, -2.2453)  # the decimal comma is read as a decimal point
    assert report.reporter == users["citizen"] and report.is_anonymous and report.assisted_by is None
    assert report.attributes == {"size": "large"} and report.department.slug == "waste"
    assert report.photos.count() == 1
    page = client.get(resp["Location"]).content.decode()
    assert "A van load or more" in page and users["citizen"].public_name not in page.split("<main")[1]
    assert report.photos.get().thumbnail.url in page


def test_staff_reports_on_a_citizens_behalf(as_user, users, categories):
    client = as_user(users["moderator"])
    cat = categories["manchester"]["litter"]
    form_page = client.get("/reports/new/").content.decode()
    assert "Staff: reporting for a citizen" in form_page
    assert (
        "Staff: reporting for a citizen"
        not in as_user(users["citizen"]).get("/reports/new/").content.decode()
    )
    client = as_user(users["moderator"])
    resp = client.post(
        "/reports/new/",
        _form_data(
            cat, 53.48, -2.24, on_behalf="on", contact_name="Mrs Jones", contact_email="jones@example.org"
        ),
    )
    assert resp.status_code == 302
    report = Report.objects.get()
    assert report.reporter is None and report.assisted_by == users["moderator"]
    assert report.contact_email == "jones@example.org"
    assert "Entered by city staff" in as_user(None).get(resp["Location"]).content.decode()
    assert "jones@example.org" not in as_user(None).get(resp["Location"]).content.decode()


def _bad_cases(categories):
    cat = categories["manchester"]["flytipping"]
    size = f"attr_{cat.pk}_size"
    return [
        ("lat", _form_data(cat, "", -2.24, **{size: "small"})),
        ("lat", _form_data(cat, 0.0, 0.0, **{size: "small"})),  # outside the city: the service says so
        ("description", _form_data(cat, 53.48, -2.24, description=SCRIPT, **{size: "small"})),
        ("description", _form_data(cat, 53.48, -2.24, description="", **{size: "small"})),
        (size, _form_data(cat, 53.48, -2.24)),  # required attribute missing
        (size, _form_data(cat, 53.48, -2.24, **{size: "enormous"})),
        ("category", {**_form_data(cat, 53.48, -2.24), "category": "999999"}),
        (
            "photos",
            _form_data(
                cat,
                53.48,
                -2.24,
                **{size: "small"},
                photos=[SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")],
            ),
        ),
    ]


@pytest.mark.parametrize("case", range(8))
def test_bad_input_rerenders_with_field_error_and_stores_nothing(as_user, users, categories, case):
    field, data = _bad_cases(categories)[case]
    resp = as_user(users["citizen"]).post("/reports/new/", data)
    assert resp.status_code == 400
    assert field in resp.context["form"].errors, resp.context["form"].errors
    assert 'role="alert"' in resp.content.decode() and 'aria-invalid="true"' in resp.content.decode()
    assert Report.objects.count() == 0 and ReportPhoto.objects.count() == 0
    assert SCRIPT not in resp.content.decode()


def test_too_many_photos_is_a_field_error(as_user, users, categories, settings):
    cat = categories["manchester"]["litter"]
    photos = [
        SimpleUploadedFile(f"{i}.png", image_bytes("PNG"), content_type="image/png")
        for i in range(settings.REPORT_MAX_PHOTOS + 1)
    ]
    resp = as_user(users["citizen"]).post("/reports/new/", _form_data(cat, 53.48, -2.24, photos=photos))
    assert resp.status_code == 400 and "photos" in resp.context["form"].errors
    assert Report.objects.count() == 0


# --- duplicates while reporting ---------------------------------------------------------------------------


def test_duplicates_partial_offers_me_too(as_user, users, manchester, categories, make_report):
    existing = make_report("noise", reporter="moderator", description="Loud music every night")
    cat = categories["manchester"]["noise"]
    lat, lon = manchester.center
    client = as_user(users["citizen"])
    resp = client.get(
        "/reports/new/duplicates/", {"category": cat.pk, "lat": lat + 0.0002, "lon": lon}, **HTMX
    )
    page = resp.content.decode()
    assert resp.status_code == 200 and "<html" not in page
    assert f"#{existing.pk}" in page and f'formaction="/reports/{existing.pk}/support/"' in page
    assert 'hx-swap-oob="true"' in page and "1 similar open report nearby" in page  # short live announcement
    far = client.get("/reports/new/duplicates/", {"category": cat.pk, "lat": lat + 0.05, "lon": lon}).content
    assert f"#{existing.pk}".encode() not in far and b"yours will be the first" in far
    other = categories["manchester"]["litter"]
    assert (
        f"#{existing.pk}".encode()
        not in client.get("/reports/new/duplicates/", {"category": other.pk, "lat": lat, "lon": lon}).content
    )


def test_no_js_duplicate_step_then_me_too(as_user, users, manchester, categories, make_report):
    existing = make_report("noise", reporter="moderator")
    cat = categories["manchester"]["noise"]
    lat, lon = manchester.center
    client = as_user(users["citizen"])
    typed_lat = str(lat).replace(".", ",")  # typed with a decimal comma
    resp = client.post(
        "/reports/new/", {**_form_data(cat, typed_lat, lon, description="Typed already"), "check": "1"}
    )
    page = resp.content.decode()
    assert resp.status_code == 200 and f"#{existing.pk}" in page and "Typed already" in page
    assert Report.objects.count() == 1
    # the "Me too" button posts the same form to the support URL (formaction)
    resp = client.post(f"/reports/{existing.pk}/support/", _form_data(cat, lat, lon))
    assert resp.status_code == 302
    existing.refresh_from_db()
    assert existing.support_count == 1 and existing.supporters.filter(pk=users["citizen"].pk).exists()
    assert f"#{existing.pk}" in as_user(users["citizen"]).get("/reports/mine/").content.decode()


# --- escaping ---------------------------------------------------------------------------------------------


def test_script_in_user_text_is_escaped_on_every_page(as_user, users, manchester, categories, make_report):
    # The service refuses HTML, so simulate text that got in another way (an import, an older version).
    report = make_report("noise")
    Report.objects.filter(pk=report.pk).update(description=SCRIPT, address=SCRIPT, contact_name=SCRIPT)
    ReportUpdate.objects.create(report=report, author=users["moderator"], kind="comment", text=SCRIPT)
    lat, lon = manchester.center
    cat = categories["manchester"]["noise"]
    pages = [
        (None, "/reports/"),
        (None, f"/reports/{report.pk}/"),
        (users["citizen"], "/reports/mine/"),
        (users["moderator"], "/reports/queue/"),
        (users["moderator"], f"/reports/{report.pk}/"),
        (users["department_staff"], f"/reports/new/duplicates/?category={cat.pk}&lat={lat}&lon={lon}"),
        (None, "/reports/?q=script"),
    ]
    for user, url in pages:
        page = as_user(user).get(url).content.decode()
        assert SCRIPT not in page, url
        assert "&lt;script&gt;" in page, url
    feed = as_user(None).get("/reports/map.geojson").json()
    assert feed["features"][0]["properties"]["id"] == report.pk  # the feed carries no free text at all


# --- htmx partials ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["list", "detail", "queue"])
def test_htmx_gets_the_partial_others_the_page(as_user, users, make_report, url_name):
    report = make_report("noise")
    url = {"list": "/reports/", "detail": f"/reports/{report.pk}/", "queue": "/reports/queue/"}[url_name]
    client = as_user(users["moderator"])
    full, part = client.get(url).content.decode(), client.get(url, **HTMX).content.decode()
    assert "<html" in full and 'id="main"' in full
    assert "<html" not in part and 'id="main"' not in part
    assert f"#{report.pk}" in part


def test_partials_vary_on_hx_request_and_history_restore_gets_the_page(as_user, users):
    client = as_user(None)
    assert "HX-Request" in client.get("/reports/")["Vary"]
    restore = client.get("/reports/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in restore.content.decode()


def test_report_form_markup_is_accessible_and_works_without_js(as_user, users, categories):
    page = as_user(users["citizen"]).get("/reports/new/").content.decode()
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page and "multiple" in page
    assert '<optgroup label="Roads and lighting">' in page  # categories grouped by group
    assert 'name="lat"' in page and 'name="lon"' in page  # coordinates can be typed
    assert 'aria-live="polite"' in page and 'name="check"' in page  # htmx region and the no-JS step
    assert 'for="id_description"' in page and "/static/vendor/leaflet/leaflet.js" in page
    assert "unpkg.com" not in page and "cdn" not in page.lower()


# --- list, map feed and filters ---------------------------------------------------------------------------


def test_list_filters_and_feed(as_user, categories, make_report):
    pothole = make_report("pothole", description="Pothole by the school")
    noise = make_report("noise", description="Barking dog")
    Report.objects.filter(pk=noise.pk).update(status=Status.FIXED)
    client = as_user(None)

    def ids(**params):
        return [r.pk for r in client.get("/reports/", params).context["page"].object_list]

    assert set(ids()) == {pothole.pk, noise.pk}
    assert ids(status="fixed") == [noise.pk]
    assert ids(status="open_all") == [pothole.pk]
    assert ids(category=categories["manchester"]["pothole"].pk) == [pothole.pk]
    assert ids(q="school") == [pothole.pk]
    assert ids(start="2000-01-01", end="2000-01-02") == []
    empty = client.get("/reports/", {"q": "nothing like this"}).content.decode()
    assert "No reports match these filters." in empty
    feed = client.get("/reports/map.geojson", {"status": "fixed"}).json()
    assert [f["properties"]["id"] for f in feed["features"]] == [noise.pk]
    assert feed["features"][0]["geometry"]["coordinates"] == [noise.lon, noise.lat]
    bad = client.get("/reports/", {"start": "2024-02-01", "end": "2024-01-01"})
    assert bad.status_code == 400 and "end" in bad.context["form"].errors


def test_neighbourhood_filter(as_user, manchester, make_report):
    from smartip.cities.services import import_neighbourhoods

    lat, lon = manchester.center
    square = [
        [lon - 0.01, lat - 0.01],
        [lon + 0.01, lat - 0.01],
        [lon + 0.01, lat + 0.01],
        [lon - 0.01, lat + 0.01],
        [lon - 0.01, lat - 0.01],
    ]
    import_neighbourhoods(
        city=manchester,
        geojson={
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"code": "c1", "name": "Centre"},
                    "geometry": {"type": "Polygon", "coordinates": [square]},
                }
            ],
        },
    )
    inside = make_report("litter")
    outside = make_report("litter", lat=lat + 0.05)
    hood = manchester.neighbourhoods.get()
    client = as_user(None)
    listed = client.get("/reports/", {"neighbourhood": hood.pk})
    assert [r.pk for r in listed.context["page"].object_list] == [inside.pk]
    assert "Centre" in listed.content.decode() and outside.neighbourhood is None


def test_numbers_in_markup_are_not_localised(as_user, users, make_report):
    """German writes 53,48: coordinates in data attributes and links must stay machine-readable."""
    report = make_report("noise", lat=53.48125, lon=-2.24125)
    client = as_user(users["citizen"])
    client.cookies["django_language"] = "de"
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert 'lang="de"' in page
    assert 'data-lat="53.48125"' in page and 'data-lon="-2.24125"' in page and "geo:53.48125,-2.24125" in page
    form = client.get("/reports/new/").content.decode()
    assert 'data-center="53.475000,-2.235000"' in form


def test_list_paginates(as_user, make_report):
    for i in range(23):
        make_report("litter", description=f"Litter number {i}")
    client = as_user(None)
    first, second = client.get("/reports/"), client.get("/reports/", {"page": 2})
    assert len(first.context["page"].object_list) == 20 and len(second.context["page"].object_list) == 3
    assert 'rel="next"' in first.content.decode() and "23 reports" in first.content.decode()


def test_queue_scoped_filtered_and_sorted(as_user, users, make_report):
    noise = make_report("noise")  # the department_staff user's department (environment)
    pothole = make_report("pothole")  # highways
    Report.objects.filter(pk=pothole.pk).update(support_count=5, flag_count=2)
    staff = as_user(users["department_staff"])
    assert [r.pk for r in staff.get("/reports/queue/").context["page"].object_list] == [noise.pk]
    mod = as_user(users["moderator"])
    assert {r.pk for r in mod.get("/reports/queue/").context["page"].object_list} == {noise.pk, pothole.pk}
    by_support = mod.get("/reports/queue/", {"sort": "-support_count"}).context["page"].object_list
    assert [r.pk for r in by_support] == [pothole.pk, noise.pk]
    dept = pothole.department_id
    assert [r.pk for r in mod.get("/reports/queue/", {"department": dept}).context["page"].object_list] == [
        pothole.pk
    ]
    assert list(mod.get("/reports/queue/", {"older_than_days": 7}).context["page"].object_list) == []
    as_user(users["analyst"]).post(f"/reports/{noise.pk}/flag/", {"reason": "Rude"})
    flagged = mod.get("/reports/queue/", {"flagged": "on"}).context["page"].object_list
    assert [r.pk for r in flagged] == [noise.pk]


def test_query_counts_are_pinned(as_user, users, make_report, django_assert_max_num_queries):
    """Counts measured with 5 and 25 reports were the same; pinned at those values (no N+1)."""
    for i in range(25):
        make_report("noise" if i % 2 else "pothole", description=f"Report {i}")
    report = Report.objects.first()
    pinned = [
        (users["moderator"], "/reports/?status=open_all", 11),  # +1: the nav asks for the roles
        (users["moderator"], "/reports/queue/?sort=created_at", 12),
        (None, "/reports/map.geojson", 7),
        (users["moderator"], f"/reports/{report.pk}/", 16),
        (users["citizen"], "/reports/mine/", 10),
    ]
    for user, url, limit in pinned:
        client = as_user(user)
        client.get(url)  # warm per-process caches (content types)
        with django_assert_max_num_queries(limit):
            assert client.get(url).status_code == 200


# --- actions on one report --------------------------------------------------------------------------------


def test_staff_change_status_through_the_page(as_user, users, make_report):
    report = make_report("noise")
    staff = as_user(users["department_staff"])
    page = staff.get(f"/reports/{report.pk}/").content.decode()
    assert "Change status" in page and "Moderate" not in page  # department staff do not moderate
    resp = staff.post(f"/reports/{report.pk}/status/", {"status": "acknowledged", "text": "On our list"})
    assert resp.status_code == 302
    report.refresh_from_db()
    assert report.status == Status.ACKNOWLEDGED
    # closing without a reason: the form says which field is wrong, nothing changes
    resp = staff.post(f"/reports/{report.pk}/status/", {"status": "closed"})
    assert resp.status_code == 400 and "close_reason" in resp.context["status_form"].errors
    # going backwards is not offered, and refused on the status field
    resp = staff.post(f"/reports/{report.pk}/status/", {"status": "open"}, **HTMX)
    assert resp.status_code == 400 and "<html" not in resp.content.decode()
    assert "status" in resp.context["status_form"].errors
    resp = staff.post(
        f"/reports/{report.pk}/status/", {"status": "closed", "close_reason": "no_action"}, **HTMX
    )
    assert resp.status_code == 200 and 'role="status"' in resp.content.decode()
    report.refresh_from_db()
    assert report.status == Status.CLOSED and report.close_reason == "no_action"
    page = as_user(None).get(f"/reports/{report.pk}/").content.decode()
    assert "On our list" in page and "No further action" in page


def test_citizens_cannot_use_staff_actions(as_user, users, make_report):
    report = make_report("noise")
    other = as_user(users["analyst"])
    for action, data in [
        ("status", {"status": "acknowledged"}),
        ("moderate", {"visibility": "hide", "description": "x"}),
        ("reassign", {"department": report.department_id}),
        ("duplicate", {"original": 1}),
        ("reopen", {}),
    ]:
        assert other.post(f"/reports/{report.pk}/{action}/", data).status_code == 403, action
    assert as_user(None).post(f"/reports/{report.pk}/status/", {"status": "acknowledged"}).status_code == 302
    report.refresh_from_db()
    assert report.status == Status.OPEN and not report.is_hidden
    assert as_user(users["analyst"]).get(f"/reports/{report.pk}/status/").status_code == 405


def test_internal_note_only_for_staff(as_user, users, make_report):
    report = make_report("noise")
    staff = as_user(users["department_staff"])
    assert (
        staff.post(
            f"/reports/{report.pk}/update/", {"text": "Ring the caretaker first", "visibility": "internal"}
        ).status_code
        == 302
    )
    assert (
        staff.post(
            f"/reports/{report.pk}/update/", {"text": "Crew booked for Monday", "visibility": "public"}
        ).status_code
        == 302
    )
    public = as_user(None).get(f"/reports/{report.pk}/").content.decode()
    reporter = as_user(users["citizen"]).get(f"/reports/{report.pk}/").content.decode()
    moderator = as_user(users["moderator"]).get(f"/reports/{report.pk}/").content.decode()
    for page in (public, reporter):
        assert "Crew booked for Monday" in page and "Ring the caretaker first" not in page
    assert "Ring the caretaker first" in moderator and "Internal note" in moderator
    # the reporter may add a public update but has no "internal" choice
    resp = as_user(users["citizen"]).post(
        f"/reports/{report.pk}/update/", {"text": "It is worse at night", "visibility": "internal"}
    )
    assert resp.status_code == 400 and "visibility" in resp.context["update_form"].errors


def test_reassign_duplicate_moderate_reopen_flag(as_user, users, manchester, make_report):
    first = make_report("noise", description="Generator noise")
    second = make_report("noise", description="Generator again", reporter=users["process_manager"])
    mod = as_user(users["moderator"])
    highways = manchester.departments.get(slug="highways")
    assert mod.post(f"/reports/{first.pk}/reassign/", {"department": highways.pk}).status_code == 302
    first.refresh_from_db()
    assert first.department == highways
    # a service conflict (already with that department) comes back on the field, with its 409 status
    resp = mod.post(f"/reports/{first.pk}/reassign/", {"department": highways.pk})
    assert resp.status_code == 409 and "department" in resp.context["reassign_form"].errors
    resp = mod.post(f"/reports/{second.pk}/duplicate/", {"original": 999999})
    assert resp.status_code == 400 and "original" in resp.context["duplicate_form"].errors
    assert mod.post(f"/reports/{second.pk}/duplicate/", {"original": first.pk}).status_code == 302
    second.refresh_from_db()
    assert second.duplicate_of == first and second.status == Status.CLOSED
    assert f"duplicate of report #{first.pk}" in as_user(None).get(f"/reports/{second.pk}/").content.decode()
    resp = mod.post(
        f"/reports/{first.pk}/moderate/", {"visibility": "show", "description": "Generator noise (edited)"}
    )
    assert resp.status_code == 302
    first.refresh_from_db()
    assert first.description == "Generator noise (edited)"
    # reporter reopens a closed report
    pm = as_user(users["process_manager"])
    assert "reopen" in pm.get(f"/reports/{second.pk}/").content.decode()
    assert pm.post(f"/reports/{second.pk}/reopen/", {"text": "Still noisy"}).status_code == 302
    second.refresh_from_db()
    assert second.status == Status.OPEN
    # someone else flags it
    resp = as_user(users["analyst"]).post(
        f"/reports/{second.pk}/flag/", {"reason": "Names a neighbour"}, **HTMX
    )
    assert resp.status_code == 200 and "A moderator will look" in resp.content.decode()
    assert second.flags.count() == 1


def test_moderator_hides_through_htmx_and_public_loses_it(as_user, users, make_report):
    report = make_report("noise")
    resp = as_user(users["moderator"]).post(
        f"/reports/{report.pk}/moderate/", {"visibility": "hide", "description": report.description}, **HTMX
    )
    assert resp.status_code == 200 and "hidden from the public" in resp.content.decode()
    assert as_user(None).get(f"/reports/{report.pk}/").status_code == 404
    assert report.pk not in [r.pk for r in as_user(None).get("/reports/").context["page"].object_list]


def test_me_too_on_the_report_page(as_user, users, make_report):
    report = make_report("noise")
    anonymous = as_user(None).get(f"/reports/{report.pk}/").content.decode()
    assert f"/accounts/login/?next=/reports/{report.pk}/" in anonymous and "Me too:" not in anonymous
    assert "Me too" not in as_user(users["citizen"]).get(f"/reports/{report.pk}/").content.decode()  # own
    client = as_user(users["analyst"])
    resp = client.post(f"/reports/{report.pk}/support/", {}, **HTMX)
    assert resp.status_code == 200 and "You support this report" in resp.content.decode()
    assert client.post(f"/reports/{report.pk}/support/", {}).status_code == 302  # idempotent
    report.refresh_from_db()
    assert report.support_count == 1
