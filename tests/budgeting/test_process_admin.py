"""Creating and editing a process and its budgets: who may (pages and API, as a matrix), every refused input
(status, field, nothing written), what is fixed once voting opens, the audit trail, the forms without
JavaScript, other languages, the manage page's pinned query count and the command line."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict
from django.test import Client

from smartip.budgeting import services
from smartip.budgeting.models import BudgetArea, Phase, Process, ProcessAudit, Proposal
from smartip.cities.models import Neighbourhood
from smartip.core.errors import Conflict, Invalid
from tests.budgeting.factories import make_process

pytestmark = pytest.mark.django_db
J = "application/json"
ROLES = ("anonymous", "citizen", "moderator", "department_staff", "process_manager", "analyst", "admin")
MANAGERS = {"process_manager", "admin"}


def district(city, name="Ancoats"):
    lat, lon = city.center
    square = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat]]
    return Neighbourhood.objects.create(
        city=city,
        code=name.lower(),
        name=name,
        geometry={"type": "Polygon", "coordinates": [square]},
        min_lat=lat,
        min_lon=lon,
        max_lat=lat + 0.01,
        max_lon=lon + 0.01,
    )


def snapshot():
    """Everything a refused request must leave as it was."""
    return (
        [model_to_dict(p) for p in Process.objects.order_by("pk")],
        [model_to_dict(a) for a in BudgetArea.objects.order_by("pk")],
        ProcessAudit.objects.count(),
    )


def new_process(city, by, **settings):
    return services.create_process(city=city, by=by, title="Parks 2027", budget=Decimal(50_000), **settings)


# --- services ----------------------------------------------------------------------------------------------


def test_a_new_process_is_a_draft_with_one_budget_and_is_audited(users, manchester):
    manager = users["process_manager"]
    process = new_process(manchester, manager, description="Greener parks.")
    assert process.phase == Phase.DRAFT and process.slug == "parks-2027"
    area = process.areas.get()
    assert (area.name, area.budget) == ("Manchester", Decimal(50_000))
    audit = list(process.audit.values_list("action", "actor", "details"))
    assert [(a, actor) for a, actor, _ in audit] == [
        ("process_created", manager.pk),
        ("area_added", manager.pk),
    ]
    assert audit[0][2]["title"] == "Parks 2027" and audit[1][2]["budget"] == "50000.00"
    assert process not in Process.objects.public()


def test_the_address_is_made_from_the_title_and_numbered_when_taken(users, manchester, cities):
    first = new_process(manchester, users["process_manager"])
    second = new_process(manchester, users["process_manager"])
    elsewhere = new_process(cities["ghent"], None)  # the command line: no user
    assert (first.slug, second.slug, elsewhere.slug) == ("parks-2027", "parks-2027-2", "parks-2027")


def test_district_and_age_need_census_or_code_letters(users, manchester):
    ancoats = district(manchester)
    with pytest.raises(Invalid) as refused:
        new_process(manchester, users["process_manager"], district=ancoats)
    assert refused.value.field == "verification" and "census list or code letters" in str(refused.value)
    with pytest.raises(Invalid):
        new_process(manchester, users["process_manager"], min_age=16)
    process = new_process(
        manchester, users["process_manager"], district=ancoats, min_age=16, verification="census"
    )
    assert process.areas.get().district == ancoats and process.areas.get().name == "Ancoats"


def test_leaving_draft_needs_a_budget(users, manchester):
    process = services.create_process(city=manchester, by=users["process_manager"], title="No money yet")
    with pytest.raises(Invalid) as refused:
        services.set_phase(process=process, by=users["process_manager"], phase=Phase.PROPOSALS)
    assert refused.value.field == "phase"
    services.add_area(process=process, by=users["process_manager"], name="City", budget=Decimal(10))
    services.set_phase(process=process, by=users["process_manager"], phase=Phase.PROPOSALS)
    assert process.phase == Phase.PROPOSALS


def test_a_process_with_nothing_changed_is_not_audited(users, manchester):
    process = new_process(manchester, users["process_manager"])
    before = ProcessAudit.objects.count()
    services.update_process(process=process, by=users["process_manager"], title=" Parks 2027 ")
    assert ProcessAudit.objects.count() == before


# --- API: creating -----------------------------------------------------------------------------------------

GOOD = {"city": "manchester", "title": "Parks 2027", "budget": "50000"}
BAD_NEW = [
    ({"title": "ab"}, 400, "title"),
    ({"title": None}, 422, "title"),
    ({"slug": "Not a slug!"}, 400, "slug"),
    ({"description": "x" * 20_001}, 400, "description"),
    ({"voting_open": "2027-03-01", "voting_close": "2027-02-01"}, 400, "voting_close"),
    ({"proposals_open": "2027-03-01", "review_open": "2027-02-01"}, 400, "review_open"),
    ({"voting_open": "2027-03-01", "results_on": "2027-02-01"}, 400, "results_on"),
    ({"ballot_kind": "plurality"}, 400, "ballot_kind"),
    ({"ballot_kind": "k_approval"}, 400, "max_projects"),
    ({"ballot_kind": "k_approval", "max_projects": 0}, 400, "max_projects"),
    ({"ballot_kind": "cumulative"}, 400, "total_points"),
    ({"ballot_kind": "approval_minmax", "min_projects": 4, "max_projects": 2}, 400, "min_projects"),
    ({"min_projects": -1}, 400, "min_projects"),
    (
        {"ballot_kind": "cumulative", "total_points": 10, "max_points_per_project": 11},
        400,
        "max_points_per_project",
    ),
    ({"total_points": 10}, 400, "total_points"),
    ({"rule": "coin-toss"}, 400, "rule"),
    ({"currency": "EURO"}, 400, "currency"),
    ({"currency": "E1"}, 400, "currency"),
    ({"currency": "€UR"}, 400, "currency"),
    ({"budget": "0"}, 400, "budget"),
    ({"budget": "-5"}, 400, "budget"),
    ({"budget": "10.005"}, 400, "budget"),
    ({"budget": "1e20"}, 400, "budget"),
    ({"budget": "lots"}, 422, "budget"),
    ({"verification": "dna"}, 400, "verification"),
    ({"min_age": 16}, 400, "verification"),
    ({"verification": "census", "min_age": 200}, 400, "min_age"),
    ({"district_id": 999_999}, 400, "district"),
    ({"phase": "voting"}, 422, "phase"),
    ({"areas": [{"name": "Arts", "budget": "0"}]}, 400, "budget"),
    ({"areas": [{"name": "Manchester", "budget": "10"}]}, 400, "name"),
    ({"areas": [{"name": " ", "budget": "10"}]}, 400, "name"),
    ({"city": "atlantis"}, 404, "city"),
]


@pytest.mark.parametrize(("change", "status", "field"), BAD_NEW)
def test_bad_new_process_is_refused_with_the_field_and_nothing_written(
    client, users, manchester, change, status, field
):
    client.force_login(users["process_manager"])
    before = snapshot()
    resp = client.post("/api/budgeting/processes", {**GOOD, **change}, content_type=J)
    assert resp.status_code == status, resp.content
    assert resp.json()["error"]["field"] == field and resp.json()["error"]["message"]
    assert snapshot() == before


def test_district_must_be_in_the_city_and_the_address_free(client, users, manchester, cities):
    client.force_login(users["process_manager"])
    gent = district(cities["ghent"], "Sint-Amandsberg")
    new_process(manchester, users["process_manager"])
    before = snapshot()
    for change, field in (
        ({"district_id": gent.pk, "verification": "census"}, "district"),
        ({"district_id": district(manchester).pk}, "verification"),
        ({"slug": "parks-2027"}, "slug"),
        ({"areas": [{"name": "Gent", "budget": "5", "district_id": gent.pk}]}, "district"),
    ):
        resp = client.post("/api/budgeting/processes", {**GOOD, **change}, content_type=J)
        assert resp.status_code == 400 and resp.json()["error"]["field"] == field, (change, resp.content)
        assert snapshot() == before


def test_create_with_budgets_per_district_and_category(client, users, manchester):
    ancoats = district(manchester)
    client.force_login(users["process_manager"])
    payload = {
        **GOOD,
        "budget": None,
        "ballot_kind": "cumulative",
        "total_points": 10,
        "max_points_per_project": 5,
        "voting_open": "2027-03-01",
        "voting_close": "2027-03-21",
        "areas": [
            {"name": "Ancoats", "budget": "20000", "district_id": ancoats.pk},
            {"name": "Culture", "budget": "5000.50", "category": "culture"},
        ],
    }
    resp = client.post("/api/budgeting/processes", payload, content_type=J)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["phase"] == "draft" and body["total_points"] == 10 and body["voting_close"] == "2027-03-21"
    assert [(a["name"], a["budget"], a["district_id"], a["category"]) for a in body["areas"]] == [
        ("Ancoats", "20000.00", ancoats.pk, ""),
        ("Culture", "5000.50", None, "culture"),
    ]
    assert Process.objects.get().total_budget == Decimal("25000.50")


# --- API: editing ------------------------------------------------------------------------------------------

BAD_EDIT = [
    ({"title": "x"}, 400, "title"),
    ({"title": None}, 400, "title"),
    ({"slug": "UPPER"}, 400, "slug"),
    ({"voting_open": "2027-03-01", "voting_close": "2027-02-01"}, 400, "voting_close"),
    ({"ballot_kind": "k_approval"}, 400, "max_projects"),
    ({"ballot_kind": "cumulative"}, 400, "total_points"),
    ({"rule": "coin-toss"}, 400, "rule"),
    ({"currency": "euro"}, 400, "currency"),
    ({"min_age": 18}, 400, "verification"),
    ({"district_id": 999_999}, 400, "district"),
    ({"phase": "results"}, 422, "phase"),
]


@pytest.mark.parametrize(("change", "status", "field"), BAD_EDIT)
def test_bad_edit_is_refused_and_nothing_changes(client, users, manchester, change, status, field):
    process = new_process(manchester, users["process_manager"])
    client.force_login(users["process_manager"])
    before = snapshot()
    resp = client.patch(f"/api/budgeting/processes/{process.pk}", change, content_type=J)
    assert resp.status_code == status, resp.content
    assert resp.json()["error"]["field"] == field
    assert snapshot() == before


def test_edit_is_audited_with_old_and_new_values(client, users, manchester):
    process = new_process(manchester, users["process_manager"])
    client.force_login(users["admin"])
    resp = client.patch(
        f"/api/budgeting/processes/{process.pk}",
        {
            "title": "Parks and squares",
            "ballot_kind": "k_approval",
            "max_projects": 3,
            "voting_open": "2027-05-01",
        },
        content_type=J,
    )
    assert resp.status_code == 200 and resp.json()["max_projects"] == 3
    entry = ProcessAudit.objects.filter(action="process_updated").get()
    assert entry.actor == users["admin"]
    assert entry.details == {
        "ballot_kind": ["approval_budget", "k_approval"],
        "max_projects": [None, 3],
        "title": ["Parks 2027", "Parks and squares"],
        "voting_open": [None, "2027-05-01"],
    }


@pytest.mark.parametrize("phase", [Phase.VOTING, Phase.RESULTS])
def test_ballot_rule_eligibility_and_budgets_are_fixed_once_voting_opened(client, users, manchester, phase):
    process = make_process(manchester, phase=phase)
    area = process.areas.get()
    client.force_login(users["process_manager"])
    before = snapshot()
    base = f"/api/budgeting/processes/{process.pk}"
    for change, field in (
        ({"ballot_kind": "k_approval", "max_projects": 2}, "ballot_kind"),
        ({"rule": "greedy"}, "rule"),
        ({"verification": "census"}, "verification"),
        ({"max_projects": 2}, "max_projects"),
        ({"currency": "GBP"}, "currency"),
    ):
        resp = client.patch(base, change, content_type=J)
        assert resp.status_code == 409 and resp.json()["error"]["field"] == field, change
        assert "once voting has opened" in resp.json()["error"]["message"]
    assert client.post(f"{base}/areas", {"name": "More", "budget": "5"}, content_type=J).status_code == 409
    assert client.patch(f"{base}/areas/{area.pk}", {"budget": "5000"}, content_type=J).status_code == 409
    assert client.delete(f"{base}/areas/{area.pk}").status_code == 409
    assert snapshot() == before
    resp = client.patch(
        base,
        {"title": "Green streets 2026", "description": "Now with dates.", "voting_close": "2027-01-31"},
        content_type=J,
    )
    assert resp.status_code == 200 and resp.json()["title"] == "Green streets 2026"
    assert Process.objects.get(pk=process.pk).voting_close == date(2027, 1, 31)


def test_budgets_are_added_changed_and_removed_while_unused(client, users, manchester):
    process = new_process(manchester, users["process_manager"])
    ancoats = district(manchester)
    client.force_login(users["process_manager"])
    base = f"/api/budgeting/processes/{process.pk}/areas"
    resp = client.post(base, {"name": "Ancoats", "budget": "2000", "district_id": ancoats.pk}, content_type=J)
    assert resp.status_code == 201 and resp.json()["district_id"] == ancoats.pk
    area_id = resp.json()["id"]
    resp = client.patch(f"{base}/{area_id}", {"budget": "2500", "category": "streets"}, content_type=J)
    assert resp.status_code == 200 and resp.json()["budget"] == "2500.00"
    assert client.delete(f"{base}/{area_id}").status_code == 204
    assert [a for (a,) in ProcessAudit.objects.filter(process=process).values_list("action")][-3:] == [
        "area_added",
        "area_updated",
        "area_removed",
    ]
    assert ProcessAudit.objects.get(action="area_updated").details == {
        "area": area_id,
        "budget": ["2000.00", "2500.00"],
        "category": ["", "streets"],
    }


def test_bad_budget_changes_are_refused(client, users, manchester):
    process = make_process(manchester, phase=Phase.PROPOSALS, costs=(300, 400))
    area = process.areas.get()
    other = services.add_area(process=process, by=None, name="Culture", budget=Decimal(100))
    Proposal.objects.create(
        process=process, area=area, title="Bench", description="A bench.", estimated_cost=10
    )
    client.force_login(users["process_manager"])
    base = f"/api/budgeting/processes/{process.pk}/areas"
    before = snapshot()
    for method, path, body, status, field in (
        ("patch", f"{base}/{area.pk}", {"budget": "399"}, 400, "budget"),
        ("patch", f"{base}/{area.pk}", {"name": "culture"}, 400, "name"),
        ("patch", f"{base}/{other.pk}", {"budget": "0.001"}, 400, "budget"),
        ("delete", f"{base}/{area.pk}", None, 409, "area"),
        ("patch", f"{base}/999999", {"budget": "5"}, 400, "area_id"),
    ):
        resp = getattr(client, method)(path, body, content_type=J)
        assert resp.status_code == status and resp.json()["error"]["field"] == field, (
            path,
            body,
            resp.content,
        )
    assert snapshot() == before


API_ACTIONS = ("create", "edit", "add_area", "edit_area", "remove_area")


def _api_call(client, action, process):
    area = process.areas.get()
    base = f"/api/budgeting/processes/{process.pk}"
    return {
        "create": lambda: client.post("/api/budgeting/processes", GOOD, content_type=J),
        "edit": lambda: client.patch(base, {"title": "Taken over"}, content_type=J),
        "add_area": lambda: client.post(f"{base}/areas", {"name": "More", "budget": "5"}, content_type=J),
        "edit_area": lambda: client.patch(f"{base}/areas/{area.pk}", {"budget": "5"}, content_type=J),
        "remove_area": lambda: client.delete(f"{base}/areas/{area.pk}"),
    }[action]()


@pytest.mark.parametrize("phase", [Phase.DRAFT, Phase.PROPOSALS])
@pytest.mark.parametrize("role", [*ROLES, "other_city"])
@pytest.mark.parametrize("action", API_ACTIONS)
def test_api_permission_matrix(client, users, cities, manchester, role, action, phase):
    from tests.factories import make_user

    process = make_process(manchester, phase=phase, costs=())
    user = (
        make_user("gent_pm", city=cities["ghent"], role="process_manager")
        if role == "other_city"
        else users[role]
    )
    if user is not None:
        client.force_login(user)
    before = snapshot()
    resp = _api_call(client, action, process)
    if role in MANAGERS:
        assert resp.status_code in (200, 201, 204), resp.content
    else:
        assert resp.status_code in (401, 403, 404), (resp.status_code, resp.content)
        assert snapshot() == before


# --- pages -------------------------------------------------------------------------------------------------

FORM = {
    "title": "Parks 2027",
    "budget": "50000",
    "currency": "EUR",
    "ballot_kind": "approval_budget",
    "rule": "mes-add1-greedy",
    "verification": "account",
}


def url(process, page=""):
    return f"/budgets/{process.city.slug}/{process.slug}/{page}"


@pytest.mark.parametrize("role", ROLES)
def test_page_permission_matrix(role, users, manchester, cities, as_user):
    process = make_process(manchester, phase=Phase.PROPOSALS, costs=())
    client = as_user(users[role])
    area = process.areas.get()
    before = snapshot()
    calls = {
        "new": lambda: client.get("/budgets/new/"),
        "create": lambda: client.post("/budgets/new/", FORM),
        "edit": lambda: client.get(url(process, "manage/edit/")),
        "save": lambda: client.post(url(process, "manage/edit/"), {**FORM, "title": "Taken over"}),
        "add_area": lambda: client.post(
            url(process, "manage/areas/"), {"area-name": "X", "area-budget": "5"}
        ),
        "edit_area": lambda: client.post(
            url(process, f"manage/areas/{area.pk}/"), {f"a{area.pk}-name": "Y", f"a{area.pk}-budget": "5"}
        ),
        "remove_area": lambda: client.post(url(process, f"manage/areas/{area.pk}/remove/")),
    }
    for name, call in calls.items():
        resp = call()
        if role == "anonymous":
            assert resp.status_code == 302 and "/accounts/login" in resp["Location"], name
        elif role in MANAGERS:
            assert resp.status_code in (200, 302), (name, resp.status_code)
        else:
            assert resp.status_code == 403, (name, resp.status_code)
    if role not in MANAGERS:
        assert snapshot() == before


def test_other_citys_manager_cannot_edit_here(users, cities, manchester):
    from tests.factories import make_user

    process = make_process(manchester, phase=Phase.PROPOSALS)
    client = Client()
    client.force_login(make_user("gent_pm", city=cities["ghent"], role="process_manager"))
    before = snapshot()
    assert client.get(url(process, "manage/edit/")).status_code == 403
    assert client.post(url(process, "manage/edit/"), {**FORM, "title": "Taken over"}).status_code == 403
    assert snapshot() == before


def test_new_process_through_the_form_without_javascript(users, manchester, as_user):
    manager = as_user(users["process_manager"])
    listing = manager.get("/budgets/").content.decode()
    assert 'href="/budgets/new/"' in listing
    assert 'href="/budgets/new/"' not in as_user(users["citizen"]).get("/budgets/").content.decode()
    page = manager.get("/budgets/new/").content.decode()
    assert '<label for="id_title"' in page and "<legend>" in page and 'type="date"' in page
    resp = manager.post(
        "/budgets/new/", {**FORM, "description": "Greener parks.", "voting_open": "2027-03-01"}
    )
    process = Process.objects.get()
    assert resp.status_code == 302 and resp["Location"] == url(process, "manage/")
    assert process.phase == Phase.DRAFT and process.voting_open == date(2027, 3, 1)
    assert process.areas.get().budget == Decimal(50_000)
    assert "Parks 2027" not in as_user(users["citizen"]).get("/budgets/").content.decode()
    assert as_user(users["citizen"]).get(url(process)).status_code == 404
    followed = manager.get(resp["Location"]).content.decode()
    assert "in preparation (not public yet)" in followed


def test_new_process_form_errors_name_the_field(users, manchester, as_user):
    manager = as_user(users["process_manager"])
    resp = manager.post("/budgets/new/", {**FORM, "ballot_kind": "k_approval"})
    body = resp.content.decode()
    assert resp.status_code == 400
    assert 'href="#id_max_projects"' in body and "needs the maximum number k" in body
    resp = manager.post("/budgets/new/", {**FORM, "min_age": "16"})
    assert resp.status_code == 400 and "census list or code letters" in resp.content.decode()
    assert Process.objects.count() == 0 and ProcessAudit.objects.count() == 0


def test_edit_page_keeps_the_ballot_once_voting_opened(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.VOTING, rule="greedy")
    ancoats = district(manchester)
    manager = as_user(users["process_manager"])
    page = manager.get(url(process, "manage/edit/")).content.decode()
    assert 'name="ballot_kind"' in page and "disabled" in page
    resp = manager.post(
        url(process, "manage/edit/"),
        {
            **FORM,
            "title": "Green streets 2026",
            "ballot_kind": "cumulative",
            "rule": "phragmen",
            "slug": process.slug,
            "district": ancoats.pk,
            "verification": "census",
        },
    )
    assert resp.status_code == 302
    process.refresh_from_db()
    assert (process.title, process.ballot_kind, process.rule) == (
        "Green streets 2026",
        "approval_budget",
        "greedy",
    )
    assert (process.district, process.verification) == (None, "account")


def test_edit_form_error_keeps_what_is_stored(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.PROPOSALS)
    manager = as_user(users["process_manager"])
    before = snapshot()
    resp = manager.post(
        url(process, "manage/edit/"),
        {**FORM, "slug": process.slug, "voting_open": "2027-03-01", "voting_close": "2027-02-01"},
    )
    assert resp.status_code == 400 and 'href="#id_voting_close"' in resp.content.decode()
    assert snapshot() == before


def test_budgets_through_the_manage_page(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.PROPOSALS, costs=())
    area = process.areas.get()
    manager = as_user(users["process_manager"])
    page = manager.get(url(process, "manage/")).content.decode()
    assert 'id="areas"' in page and f'for="id_a{area.pk}-budget"' in page and 'for="id_area-name"' in page
    resp = manager.post(url(process, "manage/areas/"), {"area-name": "Culture", "area-budget": "abc"})
    assert resp.status_code == 400 and 'href="#id_area-budget"' in resp.content.decode()
    resp = manager.post(url(process, "manage/areas/"), {"area-name": area.name, "area-budget": "10"})
    assert resp.status_code == 400 and "already has a budget named" in resp.content.decode()
    resp = manager.post(
        url(process, "manage/areas/"), {"area-name": "Culture", "area-budget": "10", "area-category": "arts"}
    )
    assert resp.status_code == 302 and resp["Location"].endswith("manage/#areas")
    culture = process.areas.get(name="Culture")
    resp = manager.post(
        url(process, f"manage/areas/{culture.pk}/"),
        {f"a{culture.pk}-name": "Arts", f"a{culture.pk}-budget": "20"},
    )
    assert resp.status_code == 302
    culture.refresh_from_db()
    assert (culture.name, culture.budget, culture.category) == ("Arts", Decimal(20), "")
    Proposal.objects.create(
        process=process, area=area, title="Bench", description="A bench.", estimated_cost=10
    )
    page = manager.get(url(process, "manage/")).content.decode()
    assert f"manage/areas/{area.pk}/remove/" not in page and f"manage/areas/{culture.pk}/remove/" in page
    resp = manager.post(url(process, f"manage/areas/{area.pk}/remove/"))
    assert resp.status_code == 409 and "cannot be removed" in resp.content.decode()
    assert manager.post(url(process, f"manage/areas/{culture.pk}/remove/")).status_code == 302
    assert list(process.areas.values_list("name", flat=True)) == [area.name]


def test_manage_page_shows_fixed_budgets_once_voting_opened(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.VOTING)
    page = as_user(users["process_manager"]).get(url(process, "manage/")).content.decode()
    assert "fixed once voting has opened" in page and "manage/areas/" not in page


@pytest.mark.parametrize("lang", ["nl", "de", "it", "fi"])
def test_admin_pages_render_in_other_languages(lang, users, manchester, as_user):
    process = make_process(manchester, phase=Phase.PROPOSALS)
    client = as_user(users["process_manager"])
    for path in ("/budgets/new/", url(process, "manage/edit/"), url(process, "manage/")):
        resp = client.get(path, HTTP_ACCEPT_LANGUAGE=lang)
        assert resp.status_code == 200 and f'<html lang="{lang}"' in resp.content.decode(), path


def test_manage_page_query_count_does_not_grow_with_budgets(
    users, manchester, as_user, django_assert_max_num_queries
):
    process = make_process(manchester, phase=Phase.PROPOSALS)
    for name in ("North", "South"):
        district(manchester, name)
    client = as_user(users["process_manager"])
    with django_assert_max_num_queries(16) as one:  # measured: 16 with one budget
        client.get(url(process, "manage/"))
    for i in range(6):
        services.add_area(process=process, by=None, name=f"Area {i}", budget=Decimal(100))
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(url(process, "manage/")).content.decode().count("Save the budget") == 7


# --- command line ------------------------------------------------------------------------------------------


def test_cli_creates_a_draft_process(manchester, capsys):
    call_command(
        "pb",
        "create",
        "--city",
        "manchester",
        "--title",
        "Parks 2027",
        "--budget",
        "50000",
        "--ballot",
        "k_approval",
        "--max-projects",
        "3",
        "--json",
    )
    out = json.loads(capsys.readouterr().out)
    assert (
        out["phase"] == "draft"
        and out["ballot_kind"] == "k_approval"
        and out["areas"][0]["budget"] == "50000.00"
    )
    assert ProcessAudit.objects.filter(action="process_created", actor=None).count() == 1


def test_cli_refuses_bad_input_naming_the_field(manchester):
    with pytest.raises(CommandError, match="max_projects"):
        call_command(
            "pb",
            "create",
            "--city",
            "manchester",
            "--title",
            "Parks",
            "--budget",
            "5",
            "--ballot",
            "k_approval",
        )
    assert Process.objects.count() == 0


def test_cli_creates_from_the_api_body_in_a_file(manchester, tmp_path, capsys):
    body = {
        "city": "manchester",
        "title": "Parks 2027",
        "ballot_kind": "cumulative",
        "total_points": 10,
        "areas": [{"name": "North", "budget": "100"}, {"name": "South", "budget": "200"}],
    }
    path = tmp_path / "process.json"
    path.write_text(json.dumps(body))
    call_command("pb", "create", "--file", str(path), "--title", "Parks and squares")
    process = Process.objects.get()
    assert process.title == "Parks and squares" and process.total_points == 10
    assert list(process.areas.values_list("name", "budget")) == [("North", 100), ("South", 200)]
    assert "in preparation" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"city": "manchester", "title": "Parks", "colour": "green"}', "field colour"),
        ('{"city": "manchester", "title": "Parks",', "line 1"),
        ('{"city": "manchester", "title": "Parks", "areas": [{"name": "A", "budget": "0"}]}', "budget"),
    ],
)
def test_cli_file_errors_say_where(manchester, tmp_path, text, message):
    path = tmp_path / "process.json"
    path.write_text(text)
    with pytest.raises(CommandError, match=message):
        call_command("pb", "create", "--file", str(path))
    assert Process.objects.count() == 0


def test_conflict_is_a_domain_error_with_the_field(users, manchester):
    process = make_process(manchester, phase=Phase.VOTING)
    with pytest.raises(Conflict) as refused:
        services.remove_area(area=process.areas.get(), by=users["process_manager"])
    assert refused.value.field == "area" and refused.value.status == 409
