"""Census lines with district and birth year (page, API, CLI), district and age checks, publishing results
and counting officially through the API, per-budget export with shuffled rows, delivery through the API,
and who may propose and support."""

import io
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from smartip.budgeting import services
from smartip.budgeting.counting import count
from smartip.budgeting.models import (
    Ballot,
    BallotEntry,
    BudgetArea,
    CensusEntry,
    Milestone,
    Outcome,
    Phase,
    Process,
    ProcessAudit,
    Project,
    Proposal,
    Verification,
)
from smartip.budgeting.pabulib import load_election, loads
from tests.budgeting.factories import make_process
from tests.budgeting.test_process_admin import district
from tests.factories import make_user

pytestmark = pytest.mark.django_db
J = "application/json"
THIS_YEAR = timezone.localdate().year


def _login(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)


def _census_api(client, process, codes):
    return client.post(f"/api/budgeting/processes/{process.pk}/census", {"codes": codes}, content_type=J)


def _vote(client, process, code, area=None):
    area = area or process.areas.order_by("id").first()
    body = {"area_id": area.pk, "choices": [{"project_id": area.projects.first().pk}], "census_code": code}
    return client.put(f"/api/budgeting/processes/{process.pk}/ballot", body, content_type=J)


def _voter(manchester, name):
    return make_user(name, city=manchester, role="citizen")


# 1. census with district and birth year -----------------------------------------------------------------


def test_district_process_takes_its_residents_and_refuses_others(client, users, manchester):
    ancoats, hulme = district(manchester, "Ancoats"), district(manchester, "Hulme")
    process = make_process(manchester, verification=Verification.CENSUS, district=ancoats)
    _login(client, users["process_manager"])
    loaded = _census_api(
        client,
        process,
        [{"code": "RES1", "district": "Ancoats", "birth_year": 1980}, {"code": "OUT1", "district": hulme.pk}],
    )
    assert loaded.status_code == 201, loaded.content
    assert dict(CensusEntry.objects.values_list("district_id", "birth_year")) == {
        ancoats.pk: 1980,
        hulme.pk: None,
    }

    _login(client, _voter(manchester, "resident"))
    assert _vote(client, process, "res1").status_code == 200
    _login(client, _voter(manchester, "outsider"))
    refused = _vote(client, process, "OUT1")
    assert refused.status_code == 403
    assert "another district" in refused.json()["error"]["message"]
    assert Ballot.objects.count() == 1


def test_minimum_age_refuses_young_and_unknown_birth_years(client, users, manchester):
    process = make_process(manchester, verification=Verification.CENSUS, min_age=16)
    services.add_census(
        process=process,
        by=users["process_manager"],
        codes=[
            ("OLD", None, THIS_YEAR - 17),  # 16 on 1 January at the latest
            ("TURNS", None, THIS_YEAR - 16),  # turns 16 this year: the list cannot show they already have
            ("YOUNG", None, THIS_YEAR - 10),
            ("NOYEAR", None, None),
        ],
    )
    for name, code, status, words in [
        ("young", "YOUNG", 403, "at least 16 years old"),
        ("turns", "TURNS", 403, "at least 16 years old"),
        ("noyear", "NOYEAR", 403, "no birth year"),
        ("old", "OLD", 200, None),
    ]:
        _login(client, _voter(manchester, name))
        resp = _vote(client, process, code)
        assert resp.status_code == status, (code, resp.content)
        if words:
            assert words in resp.json()["error"]["message"]
    assert Ballot.objects.count() == 1
    assert CensusEntry.objects.filter(claimed=True).count() == 1


def test_assisted_ballot_checks_age_too(users, manchester):
    from smartip.core.errors import Forbidden

    process = make_process(manchester, verification=Verification.CENSUS, min_age=18)
    services.add_census(process=process, by=users["process_manager"], codes=[("P1", None, None)])
    area = process.areas.get()
    with pytest.raises(Forbidden, match="no birth year"):
        services.cast_assisted_ballot(
            process=process,
            staff=users["process_manager"],
            area=area,
            census_code="P1",
            choices=[(area.projects.first().pk, 1)],
        )
    assert not Ballot.objects.exists()


BAD_LINES = [
    ("A1\nA2;Nowhere;1990\n", "line 2: no district 'Nowhere'"),
    ("A1\n\nA3;Ancoats;90\n", "line 3: the birth year '90'"),
    ("A1;Ancoats;1850\n", "line 1: the birth year '1850'"),
    (f"A1;;{THIS_YEAR + 1}\n", f"line 1: the birth year '{THIS_YEAR + 1}'"),
    ("A1\nA2;Ancoats;1990;x\n", "line 2: write CODE or CODE;DISTRICT;BIRTH_YEAR"),
    ("A1\nB2\na1\n", "line 3: the code is listed twice (first on line 1)"),
    ("A1\n;Ancoats;1990\n", "line 2: the code is missing"),
]


@pytest.mark.parametrize("text,error", BAD_LINES)
def test_bad_census_line_on_the_page_stores_nothing(as_user, users, manchester, text, error):
    district(manchester, "Ancoats")
    process = make_process(manchester, verification=Verification.CENSUS)
    before = ProcessAudit.objects.count()
    resp = as_user(users["process_manager"]).post(
        f"/budgets/{manchester.slug}/{process.slug}/manage/census/", {"codes": text}
    )
    assert resp.status_code == 400
    assert error in resp.content.decode().replace("&#x27;", "'")
    assert not CensusEntry.objects.exists() and ProcessAudit.objects.count() == before


def test_census_page_stores_district_and_birth_year(as_user, users, manchester):
    ancoats = district(manchester, "Ancoats")
    district(manchester, "Hulme Park")
    process = make_process(manchester, verification=Verification.CENSUS)
    text = "# code;district;year\nA1\nA2;ancoats;1990\nA3;hulme-park;\nA4;;2001\n"
    resp = as_user(users["process_manager"]).post(
        f"/budgets/{manchester.slug}/{process.slug}/manage/census/", {"codes": text}
    )
    assert resp.status_code == 302
    rows = sorted(CensusEntry.objects.values_list("district__name", "birth_year"), key=str)
    assert rows == sorted([(None, None), ("Ancoats", 1990), ("Hulme Park", None), (None, 2001)], key=str)
    assert CensusEntry.objects.filter(district=ancoats).count() == 1


def test_bad_census_entry_in_the_api_stores_nothing(client, users, manchester):
    district(manchester, "Ancoats")
    process = make_process(manchester, verification=Verification.CENSUS)
    _login(client, users["process_manager"])
    resp = _census_api(
        client,
        process,
        ["A1", {"code": "A2", "district": "Ancoats", "birth_year": 1990}, {"code": "A3", "birth_year": 1776}],
    )
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["field"] == "codes" and error["message"].startswith("line 3: the birth year '1776'")
    unknown = _census_api(client, process, [{"code": "A4", "district": 999999}])
    assert unknown.status_code == 400 and "line 1: no district '999999'" in unknown.json()["error"]["message"]
    assert not CensusEntry.objects.exists()
    assert _census_api(client, process, ["A1", {"code": "A2", "district": "ancoats"}]).status_code == 201
    assert CensusEntry.objects.filter(district__name="Ancoats").count() == 1


def test_census_command(tmp_path, manchester):
    ancoats = district(manchester, "Ancoats")
    process = make_process(manchester, verification=Verification.CENSUS)
    bad = tmp_path / "bad.csv"
    bad.write_text("C1;Ancoats;1990\nC2;Ancoats;19x0\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"bad.csv: line 2: the birth year '19x0'"):
        call_command("pb", "census", str(process.pk), "--file", str(bad))
    assert not CensusEntry.objects.exists()
    good = tmp_path / "codes.csv"
    good.write_text("\ufeffC1;Ancoats;1990\nC2\n", encoding="utf-8")
    out = io.StringIO()
    call_command("pb", "census", f"{manchester.slug}/{process.slug}", "--file", str(good), stdout=out)
    assert "loaded 2 census codes" in out.getvalue()
    assert CensusEntry.objects.get(district=ancoats).birth_year == 1990
    assert ProcessAudit.objects.filter(action="census_loaded", actor=None).count() == 1


# 2. publishing results through the API ------------------------------------------------------------------


def test_api_voting_to_results_publishes_official_outcomes(client, users, manchester):
    process = make_process(manchester, budget=700, costs=(300, 400, 500))
    area = process.areas.get()
    _login(client, _voter(manchester, "v1"))
    for project in area.projects.order_by("id")[:2]:
        body = {"area_id": area.pk, "choices": [{"project_id": project.pk}]}
        assert (
            client.put(f"/api/budgeting/processes/{process.pk}/ballot", body, content_type=J).status_code
            == 200
        )
    _login(client, users["process_manager"])
    resp = client.post(f"/api/budgeting/processes/{process.pk}/phase", {"phase": "results"}, content_type=J)
    assert resp.status_code == 200 and resp.json()["phase"] == "results"
    outcome = Outcome.objects.get(area=area)
    assert outcome.is_official and outcome.rule == process.rule and outcome.selected_codes
    funded = set(area.projects.filter(is_funded=True).values_list("code", flat=True))
    assert funded == set(outcome.selected_codes)
    _login(client, None)
    public = client.get(f"/api/budgeting/processes/{process.pk}/results").json()
    assert [o["is_official"] for o in public] == [True]


def test_api_count_can_be_official(client, users, manchester):
    process = make_process(manchester)
    area = process.areas.get()
    Ballot.objects.create(process=process, area=area, voter_key="k")
    BallotEntry.objects.create(ballot=Ballot.objects.get(), project=area.projects.first(), points=1)
    _login(client, users["process_manager"])
    trial = client.post(f"/api/budgeting/areas/{area.pk}/count?rule=greedy")
    assert trial.status_code == 200 and not trial.json()["is_official"]
    assert not area.projects.filter(is_funded=True).exists()
    official = client.post(f"/api/budgeting/areas/{area.pk}/count?rule=greedy&official=true")
    assert official.json()["is_official"]
    funded = set(area.projects.filter(is_funded=True).values_list("code", flat=True))
    assert "1" in funded and funded == set(official.json()["selected"])


# 3. export per budget -------------------------------------------------------------------------------------


def _two_budgets(manchester):
    process = make_process(manchester, phase=Phase.RESULTS)
    second = BudgetArea.objects.create(process=process, name="Ancoats", budget=Decimal(500))
    Project.objects.create(process=process, area=second, code="A1", title="Ancoats park", cost=Decimal(200))
    return process, process.areas.order_by("id").first(), second


def test_api_export_needs_the_budget_when_there_are_several(client, manchester):
    process, first, second = _two_budgets(manchester)
    base = f"/api/budgeting/processes/{process.pk}/export.pb"
    before = ProcessAudit.objects.count()
    refused = client.get(base)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["field"] == "area" and f"{second.pk} = Ancoats" in error["message"]
    assert client.get(base + "?area=999999").json()["error"]["field"] == "area"
    assert ProcessAudit.objects.count() == before  # a refused export is not an export
    text = client.get(base + f"?area={second.pk}").content.decode()
    assert [p["project_id"] for p in loads(text).projects] == ["A1"]
    assert "budget;500" in text
    assert ProcessAudit.objects.filter(action="exported", details__area=second.pk).count() == 1


def test_api_export_of_a_single_budget_needs_no_area(client, manchester):
    process = make_process(manchester, phase=Phase.RESULTS)
    resp = client.get(f"/api/budgeting/processes/{process.pk}/export.pb")
    assert resp.status_code == 200 and len(loads(resp.content.decode()).projects) == 4


def test_manage_page_links_every_budget(as_user, users, manchester):
    process, first, second = _two_budgets(manchester)
    page = as_user(users["process_manager"]).get(f"/budgets/{manchester.slug}/{process.slug}/manage/")
    body = page.content.decode()
    for area in (first, second):
        assert f"/api/budgeting/processes/{process.pk}/export.pb?area={area.pk}" in body


def test_export_command_needs_the_area_and_audits(tmp_path, manchester):
    process, first, second = _two_budgets(manchester)
    with pytest.raises(
        CommandError, match=rf"2 budgets.*{first.pk} = {manchester.name}, {second.pk} = Ancoats"
    ):
        call_command("pb", "export", str(process.pk))
    out = tmp_path / "a.pb"
    call_command("pb", "export", str(process.pk), "--area", str(second.pk), "-o", str(out))
    assert [p["project_id"] for p in loads(out.read_text()).projects] == ["A1"]
    audit = ProcessAudit.objects.get(action="exported")
    assert audit.actor is None and audit.details == {"area": second.pk}


def test_import_command_is_audited(tmp_path, manchester):
    process = make_process(manchester, phase=Phase.RESULTS)
    path = tmp_path / "in.pb"
    path.write_text(services_export(process), encoding="utf-8")
    call_command(
        "pb", "import", str(path), "--city", manchester.slug, stdout=io.StringIO(), stderr=io.StringIO()
    )
    imported = Process.objects.exclude(pk=process.pk).get()
    assert ProcessAudit.objects.filter(process=imported, action="imported", details__source="in.pb").exists()


def services_export(process):
    from smartip.budgeting.io import export_pabulib

    return export_pabulib(process=process)


# 4. ballot secrecy: row order --------------------------------------------------------------------------


def test_exported_rows_do_not_follow_the_order_of_voting(manchester):
    process = make_process(manchester, budget=100, costs=(1, 1, 1, 1, 1, 1), phase=Phase.RESULTS)
    area = process.areas.get()
    projects = list(area.projects.order_by("id"))
    subsets = []
    for n in range(1, 51):  # 50 ballots, each a different set of projects: a row tells which ballot it is
        chosen = [p for i, p in enumerate(projects) if n >> i & 1]
        ballot = Ballot.objects.create(process=process, area=area, voter_key=f"key{n}")
        BallotEntry.objects.bulk_create(BallotEntry(ballot=ballot, project=p, points=1) for p in chosen)
        subsets.append(frozenset(p.code for p in chosen))
    text = services_export(process)
    pb = loads(text)
    i_vote, i_id = pb.vote_columns.index("vote"), pb.vote_columns.index("voter_id")
    rows = [frozenset(r[i_vote].split(",")) for r in pb.votes]
    order = [subsets.index(r) for r in rows]
    assert sorted(order) == list(range(50))  # every ballot once
    assert order != list(range(50))  # not in the order the ballots were cast (1 chance in 50! to fail)
    assert [r[i_id] for r in pb.votes] == [str(i) for i in range(1, 51)]
    assert services_export(process) != text  # a fresh random order on every export
    # the file recounts exactly as the platform does
    for rule in ("greedy", "mes-add1-greedy"):
        assert (
            count(load_election(io.StringIO(text)), rule).selected
            == count(services.election_for(area), rule).selected
        )
    assert Counter(rows) == Counter(subsets)


# 5. delivery through the API ---------------------------------------------------------------------------


def _delivered(manchester, users):
    process = make_process(manchester, phase=Phase.DELIVERY)
    funded, unfunded = process.projects.order_by("id")[:2]
    Project.objects.filter(pk=funded.pk).update(is_funded=True)
    funded.refresh_from_db()
    manager = users["process_manager"]
    services.add_milestone(project=funded, by=manager, title="Works start", due_on=timezone.localdate())
    services.add_milestone(project=funded, by=manager, title="Tender")
    return process, funded, unfunded


def test_api_lists_a_funded_projects_milestones(client, users, manchester):
    process, funded, unfunded = _delivered(manchester, users)
    base = f"/api/budgeting/processes/{process.pk}/projects"
    resp = client.get(f"{base}/{funded.pk}/milestones")
    assert resp.status_code == 200
    titles = [m["title"] for m in resp.json()]
    assert sorted(titles) == ["Tender", "Works start"]
    assert titles == list(funded.milestones.order_by("due_on", "id").values_list("title", flat=True))
    assert client.get(f"{base}/{unfunded.pk}/milestones").status_code == 404
    other = make_process(manchester, phase=Phase.DELIVERY)
    assert (
        client.get(f"/api/budgeting/processes/{other.pk}/projects/{funded.pk}/milestones").status_code == 404
    )
    Process.objects.filter(pk=process.pk).update(phase=Phase.DRAFT)
    assert client.get(f"{base}/{funded.pk}/milestones").status_code == 404


def test_api_subscribe_refuses_what_the_page_refuses(client, users, manchester):
    process, funded, unfunded = _delivered(manchester, users)
    citizen = users["citizen"]
    _login(client, citizen)
    resp = client.post(f"/api/budgeting/projects/{unfunded.pk}/subscribe")
    assert resp.status_code == 404 and resp.json()["error"]["field"] == "project_id"
    assert client.post(f"/api/budgeting/projects/{funded.pk}/subscribe").json() == {"subscribed": True}
    assert funded.subscribers.filter(pk=citizen.pk).exists() and not unfunded.subscribers.exists()
    Process.objects.filter(pk=process.pk).update(phase=Phase.DRAFT)
    assert client.post(f"/api/budgeting/projects/{funded.pk}/subscribe?on=false").status_code == 404
    assert funded.subscribers.filter(pk=citizen.pk).exists()
    assert Milestone.objects.count() == 2


# 6. who may propose and support ------------------------------------------------------------------------


def test_people_of_another_city_cannot_propose_or_support(client, users, cities, manchester):
    process = make_process(manchester, costs=(), phase=Phase.PROPOSALS)
    area = process.areas.get()
    proposal = services.submit_proposal(
        process=process,
        author=users["citizen"],
        area=area,
        title="Benches",
        description="Benches by the canal.",
        estimated_cost=Decimal(100),
    )
    stranger = make_user("ghent_citizen", city=cities["ghent"], role="citizen")
    _login(client, stranger)
    body = {"area_id": area.pk, "title": "Trees", "description": "Plant trees here.", "estimated_cost": "10"}
    resp = client.post(f"/api/budgeting/processes/{process.pk}/proposals", body, content_type=J)
    assert resp.status_code == 403 and "registered in Manchester" in resp.json()["error"]["message"]
    resp = client.post(f"/api/budgeting/proposals/{proposal.pk}/support")
    assert resp.status_code == 403
    assert Proposal.objects.count() == 1 and not proposal.supporters.exists()
    neighbour = make_user("mcr_new", home_city=manchester)  # registered here, no role yet
    _login(client, neighbour)
    assert client.post(f"/api/budgeting/proposals/{proposal.pk}/support").status_code == 200
    assert list(proposal.supporters.values_list("username", flat=True)) == ["mcr_new"]


def test_merged_and_not_feasible_proposals_cannot_be_supported(client, users, manchester):
    process = make_process(manchester, costs=(), phase=Phase.PROPOSALS)
    area = process.areas.get()
    manager = users["process_manager"]

    def propose(title):
        return services.submit_proposal(
            process=process,
            author=users["citizen"],
            area=area,
            title=title,
            description="A description long enough.",
            estimated_cost=Decimal(100),
        )

    kept, duplicate, rejected = propose("Trees"), propose("More trees"), propose("A tower")
    services.merge_proposals(duplicate=duplicate, into=kept, by=manager)
    services.review_proposal(proposal=rejected, by=manager, feasible=False, reason="Too tall")
    _login(client, users["moderator"])
    for proposal, words in [(duplicate, "merged into another"), (rejected, "not feasible")]:
        resp = client.post(f"/api/budgeting/proposals/{proposal.pk}/support")
        assert resp.status_code == 409, resp.content
        assert words in resp.json()["error"]["message"] and resp.json()["error"]["field"] == "proposal"
        assert not proposal.supporters.exists()
    assert client.post(f"/api/budgeting/proposals/{kept.pk}/support").status_code == 200
