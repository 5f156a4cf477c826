"""Participatory-budgeting pages: who sees which page, the no-JavaScript ballot (budget errors, replacing a
ballot, confirmation), proposals with escaping, results that explain every project, staff forms (review,
merge, assisted ballots, census, counting), htmx partials and pinned query counts."""

import html
from decimal import Decimal

import pytest

from smartip.budgeting import services
from smartip.budgeting.models import (
    Ballot,
    BallotKind,
    CensusEntry,
    Milestone,
    Outcome,
    Phase,
    Process,
    Project,
    Proposal,
    ProposalComment,
    Verification,
)
from smartip.budgeting.views import explain
from tests.budgeting.factories import make_process

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"
HTMX = {"HTTP_HX_REQUEST": "true"}
ROLES = ("anonymous", "citizen", "moderator", "department_staff", "process_manager", "analyst", "admin")
MANAGERS = {"process_manager", "admin"}


def url(process, page=""):
    return f"/budgets/{process.city.slug}/{process.slug}/{page}"


def text(response):
    return response.content.decode()


def cast_many(process, users_and_choices):
    area = process.areas.get()
    ids = {p.code: p.pk for p in process.projects.all()}
    for user, codes in users_and_choices:
        services.cast_ballot(process=process, voter=user, area=area, choices=[(ids[c], 1) for c in codes])


def voters(manchester, n):
    from tests.factories import make_user

    return [make_user(f"voter{i}", city=manchester, role="citizen") for i in range(n)]


# --- who may see which page -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_public_pages_render_for_every_role(role, users, manchester, as_user):
    process = make_process(manchester, phase=Phase.RESULTS)
    client = as_user(users[role])
    for page in ("", "proposals/", "results/", "delivery/"):
        assert client.get(url(process, page)).status_code == 200, page
    assert client.get("/budgets/").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_staff_page_only_for_process_managers(role, users, manchester, as_user):
    process = make_process(manchester, phase=Phase.REVIEW)
    response = as_user(users[role]).get(url(process, "manage/"))
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login" in response["Location"]
    else:
        assert response.status_code == (200 if role in MANAGERS else 403)


@pytest.mark.parametrize("role", ROLES)
def test_results_before_publication_only_for_managers(role, users, manchester, as_user):
    process = make_process(manchester, phase=Phase.VOTING)
    response = as_user(users[role]).get(url(process, "results/"))
    assert response.status_code == (200 if role in MANAGERS else 403)


@pytest.mark.parametrize("page", ["vote/", "proposals/new/"])
def test_account_pages_send_anonymous_visitors_to_log_in(page, manchester, as_user):
    process = make_process(manchester, phase=Phase.VOTING)
    response = as_user(None).get(url(process, page))
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_draft_process_is_hidden_from_citizens(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.DRAFT)
    process.title = "Secret draft"
    process.save()
    assert as_user(users["citizen"]).get(url(process)).status_code == 404
    assert "Secret draft" not in text(as_user(users["citizen"]).get("/budgets/"))
    assert as_user(users["process_manager"]).get(url(process)).status_code == 200


# --- list and process page --------------------------------------------------------------------------------


def test_list_shows_city_processes_with_phase_badges(manchester, cities, as_user):
    make_process(manchester, phase=Phase.VOTING)
    other = make_process(cities["ghent"], phase=Phase.VOTING)
    other.title = "Gent budget"
    other.save()
    body = text(as_user(None).get("/budgets/"))
    assert "Green streets" in body and "phase-voting" in body
    assert "Gent budget" not in body


def test_list_empty_state(manchester, as_user):
    response = as_user(None).get("/budgets/")
    assert response.status_code == 200
    assert 'class="empty"' in text(response)


def test_list_query_count_does_not_grow_with_processes(manchester, as_user, django_assert_max_num_queries):
    client = as_user(None)
    make_process(manchester, phase=Phase.VOTING)
    with django_assert_max_num_queries(7) as one:
        client.get("/budgets/")
    for _ in range(6):
        make_process(manchester, phase=Phase.RESULTS)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert text(client.get("/budgets/")).count("phase-results") >= 6


def test_process_page_highlights_current_phase_and_offers_the_vote(manchester, as_user):
    process = make_process(manchester, phase=Phase.VOTING)
    body = text(as_user(None).get(url(process)))
    assert 'class="current" aria-current="step"' in body
    assert url(process, "vote/") in body
    assert url(process, "results/") not in body  # not published yet


def test_htmx_gets_the_partial_and_a_browser_the_page(manchester, as_user):
    process = make_process(manchester, phase=Phase.RESULTS)
    client = as_user(None)
    for page in ("", "results/", "proposals/"):
        full, partial = client.get(url(process, page)), client.get(url(process, page), **HTMX)
        assert "<html" in text(full) and "<html" not in text(partial)
        assert process.title in text(partial)
        assert "HX-Request" in partial["Vary"]


# --- proposals --------------------------------------------------------------------------------------------


def _proposal_data(process, **extra):
    return {
        "title": "More trees",
        "description": "Plant twenty trees along the road.",
        "area": str(process.areas.get().pk),
        "category": "green",
        "estimated_cost": "250",
        "lat": "",
        "lon": "",
        **extra,
    }


def test_proposal_form_without_js_and_script_is_escaped(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.PROPOSALS)
    client = as_user(users["citizen"])
    assert client.get(url(process, "proposals/new/")).status_code == 200
    lat, lon = manchester.center
    response = client.post(
        url(process, "proposals/new/"), _proposal_data(process, title=SCRIPT, lat=str(lat), lon=str(lon))
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get(process=process)
    assert proposal.title == SCRIPT and proposal.lat == pytest.approx(lat)
    ProposalComment.objects.create(proposal=proposal, text=f"comment {SCRIPT}")
    body = text(client.get(url(process, "proposals/")))
    assert SCRIPT not in body
    assert html.escape(SCRIPT) in body
    assert "comment &lt;script&gt;" in body


def test_proposal_errors_name_the_field(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.PROPOSALS, budget=1000)
    response = as_user(users["citizen"]).post(
        url(process, "proposals/new/"), _proposal_data(process, estimated_cost="5000")
    )
    assert response.status_code == 400
    assert 'href="#id_estimated_cost"' in text(response)
    assert "at most the budget" in text(response)
    assert not Proposal.objects.exists()


def test_proposal_outside_proposals_phase_is_refused(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.VOTING)
    response = as_user(users["citizen"]).post(url(process, "proposals/new/"), _proposal_data(process))
    assert response.status_code == 403
    assert not Proposal.objects.exists()


def test_support_button_without_js_and_with_htmx(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.PROPOSALS)
    area = process.areas.get()
    proposal = services.submit_proposal(
        process=process,
        author=users["moderator"],
        area=area,
        title="Benches",
        description="Benches by the canal.",
        estimated_cost=Decimal(100),
    )
    client = as_user(users["citizen"])
    assert client.post(url(process, f"proposals/{proposal.pk}/support/")).status_code == 302
    assert proposal.supporters.filter(pk=users["citizen"].pk).exists()
    partial = client.post(url(process, f"proposals/{proposal.pk}/support/"), **HTMX)
    assert partial.status_code == 200 and "<html" not in text(partial)
    assert "You support this" in text(partial)


# --- ballot -----------------------------------------------------------------------------------------------


def _ids(process):
    return {p.code: p.pk for p in process.projects.all()}


def test_ballot_plain_post_saves_and_confirms(users, manchester, as_user):
    process = make_process(manchester, budget=1000, costs=(300, 400, 500, 200))
    ids = _ids(process)
    client = as_user(users["citizen"])
    page = text(client.get(url(process, "vote/")))
    assert 'aria-live="polite"' in page and "€0 of €1,000 chosen, €1,000 left" in page
    response = client.post(url(process, "vote/"), {"project": [ids["1"], ids["2"]]})
    assert response.status_code == 302
    ballot = Ballot.objects.get(process=process)
    assert ballot.channel == Ballot.Channel.ONLINE
    assert sorted(ballot.entries.values_list("project_id", flat=True)) == sorted([ids["1"], ids["2"]])
    confirmation = text(client.get(response["Location"]))
    assert 'id="confirmation"' in confirmation
    assert "Project 1" in confirmation and "€700 of €1,000 chosen, €300 left" in confirmation


def test_over_budget_ballot_is_refused_with_the_reason(users, manchester, as_user):
    process = make_process(manchester, budget=1000, costs=(300, 400, 500, 200))
    ids = _ids(process)
    response = as_user(users["citizen"]).post(
        url(process, "vote/"), {"project": [ids["1"], ids["2"], ids["3"]]}
    )
    assert response.status_code == 400
    body = text(response)
    assert "Your choices cost €1,200, more than the budget of €1,000" in body
    assert 'href="#ballot-choices"' in body
    assert "€200 over the budget" in body  # the bar shows what was ticked
    assert body.count("checked") == 3  # the ticks are kept
    assert not Ballot.objects.exists()


def test_changing_the_ballot_replaces_it(users, manchester, as_user):
    process = make_process(manchester, budget=1000, costs=(300, 400, 500, 200))
    ids = _ids(process)
    client = as_user(users["citizen"])
    client.post(url(process, "vote/"), {"project": [ids["1"], ids["2"]]})
    page = text(client.get(url(process, "vote/")))
    assert "You have already voted" in page and page.count("checked") == 2
    assert client.post(url(process, "vote/"), {"project": [ids["3"]]}).status_code == 302
    ballot = Ballot.objects.get(process=process)
    assert list(ballot.entries.values_list("project_id", flat=True)) == [ids["3"]]


def test_census_code_is_asked_and_checked(users, manchester, as_user):
    process = make_process(manchester, verification=Verification.CENSUS)
    services.add_census(process=process, by=users["process_manager"], codes=[("ABC123", None, None)])
    ids = _ids(process)
    client = as_user(users["citizen"])
    assert 'name="census_code"' in text(client.get(url(process, "vote/")))
    response = client.post(url(process, "vote/"), {"project": [ids["1"]], "census_code": "WRONG"})
    assert response.status_code == 400 and 'href="#id_census_code"' in text(response)
    assert not Ballot.objects.exists()
    assert (
        client.post(url(process, "vote/"), {"project": [ids["1"]], "census_code": "abc123"}).status_code
        == 302
    )
    assert CensusEntry.objects.get(process=process).claimed


def test_a_refused_ballot_does_not_use_up_the_census_code(users, manchester, as_user):
    """The service marks the code used before it validates the choices; the page's savepoint undoes that."""
    process = make_process(manchester, verification=Verification.CENSUS, budget=1000, costs=(600, 600))
    services.add_census(process=process, by=users["process_manager"], codes=[("ABC123", None, None)])
    ids = _ids(process)
    client = as_user(users["citizen"])
    over = client.post(url(process, "vote/"), {"project": [ids["1"], ids["2"]], "census_code": "ABC123"})
    assert over.status_code == 400
    assert not CensusEntry.objects.get(process=process).claimed
    assert (
        client.post(url(process, "vote/"), {"project": [ids["1"]], "census_code": "ABC123"}).status_code
        == 302
    )


def test_cumulative_ballot_with_number_inputs(users, manchester, as_user):
    process = make_process(manchester, kind=BallotKind.CUMULATIVE, total_points=10, max_points_per_project=6)
    ids = _ids(process)
    client = as_user(users["citizen"])
    assert 'name="points_' in text(client.get(url(process, "vote/")))
    too_many = client.post(url(process, "vote/"), {f"points_{ids['1']}": "6", f"points_{ids['2']}": "5"})
    assert too_many.status_code == 400 and "You gave 11 points; you have 10." in text(too_many)
    ok = client.post(url(process, "vote/"), {f"points_{ids['1']}": "6", f"points_{ids['2']}": "4"})
    assert ok.status_code == 302
    points = dict(Ballot.objects.get().entries.values_list("project_id", "points"))
    assert points == {ids["1"]: 6, ids["2"]: 4}


def test_ranking_ballot_with_ordered_selects(users, manchester, as_user):
    process = make_process(manchester, kind=BallotKind.RANKING, max_projects=3)
    ids = _ids(process)
    client = as_user(users["citizen"])
    page = text(client.get(url(process, "vote/")))
    assert 'name="rank_3"' in page and 'name="rank_4"' not in page
    twice = client.post(url(process, "vote/"), {"rank_1": ids["2"], "rank_2": ids["2"]})
    assert twice.status_code == 400 and "chosen twice" in text(twice)
    saved = client.post(url(process, "vote/"), {"rank_1": ids["3"], "rank_2": ids["1"]}, follow=True)
    ranks = list(Ballot.objects.get().entries.order_by("rank").values_list("project_id", "rank"))
    assert ranks == [(ids["3"], 1), (ids["1"], 2)]
    confirmation = text(saved).split('id="confirmation"')[1].split("</div>")[0]
    assert "<ol>" in confirmation
    assert confirmation.index("Project 3") < confirmation.index("Project 1")


def test_ballot_outside_voting_redirects_to_the_process(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.RESULTS)
    response = as_user(users["citizen"]).get(url(process, "vote/"))
    assert response.status_code == 302 and response["Location"] == url(process)


# --- results ----------------------------------------------------------------------------------------------


def _counted(manchester, rule="mes-add1-greedy"):
    process = make_process(manchester, budget=1000, costs=(300, 400, 500, 200, 900))
    process.rule = rule
    process.save()
    people = voters(manchester, 6)
    cast_many(
        process,
        [
            (people[0], ["1", "2"]),
            (people[1], ["1", "3"]),
            (people[2], ["3"]),
            (people[3], ["5"]),
            (people[4], ["1", "4"]),
            (people[5], ["2", "4"]),
        ],
    )
    for area in process.areas.all():
        services.count_area(area=area, rule=rule, official=True)
    process.phase = Phase.RESULTS
    process.save()
    return process


@pytest.mark.parametrize("rule", ["mes-add1-greedy", "greedy", "official:greedy", "equalshares"])
def test_results_explain_every_project(rule, manchester, as_user):
    process = _counted(manchester, rule)
    outcome = Outcome.objects.get(area__process=process, rule=rule)
    body = html.unescape(text(as_user(None).get(url(process, "results/"))))
    for project in process.projects.all():
        assert project.title in body
        why = explain(outcome.details["projects"].get(project.code), process.currency, rule)
        assert why in body, (project.code, why)
        assert why.startswith("Funded" if project.code in outcome.selected_codes else "Not funded")
    assert "Method of Equal Shares" in body or "Greedy" in body or "Projects by decreasing votes" in body


def test_mes_explanation_names_what_supporters_could_pay(manchester, as_user):
    process = _counted(manchester, "mes")
    outcome = Outcome.objects.get(area__process=process, rule="mes")
    body = html.unescape(text(as_user(None).get(url(process, "results/"))))
    not_funded = [c for c in outcome.details["projects"] if c not in outcome.selected_codes]
    assert not_funded
    for code in not_funded:
        assert "its supporters could pay only" in explain(outcome.details["projects"][code], "EUR")
    assert "its supporters could pay only" in body


def test_results_page_query_count_is_pinned(manchester, as_user, django_assert_max_num_queries):
    process = _counted(manchester)
    client = as_user(None)
    with django_assert_max_num_queries(10) as before:
        client.get(url(process, "results/"))
    area = process.areas.get()
    for i in range(5):
        Project.objects.create(process=process, area=area, code=f"x{i}", title=f"Extra {i}", cost=Decimal(10))
    with django_assert_max_num_queries(len(before.captured_queries)):
        assert "Extra 4" in text(client.get(url(process, "results/")))


def test_staff_see_other_rules_side_by_side(users, manchester, as_user):
    process = _counted(manchester, "mes")
    body = html.unescape(text(as_user(users["process_manager"]).get(url(process, "results/"))))
    assert "Staff: other rules, side by side" in body
    for rule in ("greedy", "mes-add1-greedy", "phragmen"):
        assert Outcome.objects.filter(area__process=process, rule=rule).exists()
        assert f"<h4>{rule}</h4>" in body
    mes = set(Outcome.objects.get(area__process=process, rule="mes").selected_codes)
    greedy = set(Outcome.objects.get(area__process=process, rule="greedy").selected_codes)
    titles = {p.code: p.title for p in process.projects.all()}
    for code in greedy - mes:
        assert titles[code] in body.split("greedy would also have funded:")[1].split("</p>")[0]
    assert "other rules" not in html.unescape(text(as_user(users["citizen"]).get(url(process, "results/"))))


# --- delivery ---------------------------------------------------------------------------------------------


def test_delivery_timeline_and_subscription(users, manchester, as_user):
    process = _counted(manchester)
    process.phase = Phase.DELIVERY
    process.save()
    project = process.projects.filter(is_funded=True).first()
    services.add_milestone(
        project=project, by=users["process_manager"], title="Design ready", status="planning"
    )
    client = as_user(users["citizen"])
    body = text(client.get(url(process, "delivery/")))
    assert "Design ready" in body and "Planning" in body
    assert client.post(url(process, f"delivery/{project.pk}/subscribe/"), {"on": "1"}).status_code == 302
    assert project.subscribers.filter(pk=users["citizen"].pk).exists()
    partial = client.post(url(process, f"delivery/{project.pk}/subscribe/"), {"on": "0"}, **HTMX)
    assert "<html" not in text(partial) and "Follow by email" in text(partial)
    assert not project.subscribers.filter(pk=users["citizen"].pk).exists()


def test_followers_get_an_email_per_milestone(users, manchester, django_capture_on_commit_callbacks):
    from django.core import mail

    process = _counted(manchester)
    project = process.projects.filter(is_funded=True).first()
    services.subscribe(project=project, user=users["citizen"])
    with django_capture_on_commit_callbacks(execute=True):
        services.add_milestone(project=project, by=users["process_manager"], title="Works started")
    assert [m.to for m in mail.outbox] == [[users["citizen"].email]]
    assert mail.outbox[0].subject == f"{project.title}: Works started"
    services.subscribe(project=project, user=users["citizen"], on=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_milestone(project=project, by=users["process_manager"], title="Works done")
    assert len(mail.outbox) == 1, "an unfollowed project sends nothing"


def test_staff_add_a_milestone_through_the_form(users, manchester, as_user):
    process = _counted(manchester)
    project = process.projects.filter(is_funded=True).first()
    data = {f"ms{project.pk}-title": "Works started", f"ms{project.pk}-status": "in_progress"}
    assert (
        as_user(users["citizen"]).post(url(process, f"delivery/{project.pk}/milestone/"), data).status_code
        == 403
    )
    response = as_user(users["process_manager"]).post(url(process, f"delivery/{project.pk}/milestone/"), data)
    assert response.status_code == 302
    assert Milestone.objects.get(project=project).title == "Works started"
    project.refresh_from_db()
    assert project.delivery_status == "in_progress"


# --- staff forms ------------------------------------------------------------------------------------------


def _submitted(process, author, title="Playground"):
    return services.submit_proposal(
        process=process,
        author=author,
        area=process.areas.get(),
        title=title,
        description="A new playground for the park.",
        estimated_cost=Decimal(300),
    )


def test_review_through_the_form(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.PROPOSALS, costs=())
    good, bad = _submitted(process, users["citizen"]), _submitted(process, users["citizen"], "Moon base")
    process.phase = Phase.REVIEW
    process.save()
    client = as_user(users["process_manager"])
    page = text(client.get(url(process, "manage/")))
    assert "Moon base" in page and "Playground" in page
    response = client.post(
        url(process, f"manage/review/{good.pk}/"),
        {f"r{good.pk}-feasible": "yes", f"r{good.pk}-official_cost": "350"},
    )
    assert response.status_code == 302
    assert Project.objects.get(proposal=good).cost == Decimal(350)
    missing_reason = client.post(url(process, f"manage/review/{bad.pk}/"), {f"r{bad.pk}-feasible": "no"})
    assert missing_reason.status_code == 400 and "say why the proposal is not feasible" in text(
        missing_reason
    )
    assert (
        client.post(
            url(process, f"manage/review/{bad.pk}/"),
            {f"r{bad.pk}-feasible": "no", f"r{bad.pk}-reason": "Not city land"},
        ).status_code
        == 302
    )
    bad.refresh_from_db()
    assert bad.status == Proposal.Status.NOT_FEASIBLE and not Project.objects.filter(proposal=bad).exists()
    assert as_user(users["citizen"]).post(url(process, f"manage/review/{bad.pk}/"), {}).status_code == 403


def test_merge_duplicates_through_the_form(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.PROPOSALS, costs=())
    first, dup = (
        _submitted(process, users["citizen"]),
        _submitted(process, users["moderator"], "Playground again"),
    )
    response = as_user(users["process_manager"]).post(
        url(process, f"manage/merge/{dup.pk}/"), {f"m{dup.pk}-into": first.pk}
    )
    assert response.status_code == 302
    dup.refresh_from_db()
    assert dup.status == Proposal.Status.MERGED and dup.merged_into_id == first.pk


def test_assisted_ballot_and_census_through_the_forms(users, manchester, as_user):
    process = make_process(manchester, budget=1000, costs=(300, 400, 500, 200))
    ids = _ids(process)
    client = as_user(users["process_manager"])
    assert client.post(url(process, "manage/census/"), {"codes": "P-001\n\nP-002\n"}).status_code == 302
    assert CensusEntry.objects.filter(process=process).count() == 2
    again = client.post(url(process, "manage/census/"), {"codes": "P-001"})
    assert again.status_code == 400 and "already loaded" in text(again)
    over = client.post(
        url(process, "manage/assisted/"),
        {"assisted-census_code": "P-001", "assisted-project": [ids["1"], ids["2"], ids["3"]]},
    )
    assert over.status_code == 400 and "more than the budget" in text(over)
    assert not Ballot.objects.exists()
    ok = client.post(
        url(process, "manage/assisted/"), {"assisted-census_code": "P-001", "assisted-project": [ids["1"]]}
    )
    assert ok.status_code == 302
    assert Ballot.objects.get().channel == Ballot.Channel.ASSISTED
    twice = client.post(
        url(process, "manage/assisted/"), {"assisted-census_code": "P-001", "assisted-project": [ids["2"]]}
    )
    assert twice.status_code == 409 and "already voted" in text(twice)
    assert as_user(users["citizen"]).post(url(process, "manage/assisted/"), {}).status_code == 403


def test_phase_control_and_count_with_a_chosen_rule(users, manchester, as_user):
    process = make_process(manchester, budget=1000, costs=(300, 400, 500, 200))
    cast_many(process, [(v, ["1", "2"]) for v in voters(manchester, 3)])
    client = as_user(users["process_manager"])
    area = process.areas.get()
    response = client.post(url(process, "manage/count/"), {"rule": "greedy", "area": area.pk})
    assert response.status_code == 302
    assert Outcome.objects.filter(area=area, rule="greedy", is_official=False).exists()
    bad = client.post(url(process, "manage/count/"), {"rule": "no-such-rule", "area": area.pk})
    assert bad.status_code == 400
    assert client.post(url(process, "manage/phase/"), {"phase": "results"}).status_code == 302
    process.refresh_from_db()
    assert process.phase == Phase.RESULTS
    assert Outcome.objects.get(area=area, rule=process.rule).is_official
    page = text(client.get(url(process, "manage/")))
    assert f"/api/budgeting/processes/{process.pk}/export.pb" in page


def test_voting_needs_projects(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.REVIEW, costs=())
    response = as_user(users["process_manager"]).post(url(process, "manage/phase/"), {"phase": "voting"})
    assert response.status_code == 400 and "no projects on the ballot" in text(response)
    assert Process.objects.get(pk=process.pk).phase == Phase.REVIEW


@pytest.mark.parametrize("lang", ["en", "nl", "de", "it", "fi"])
def test_pages_render_in_every_language(lang, users, manchester, as_user, settings):
    assert lang in dict(settings.LANGUAGES)
    process = _counted(manchester)
    client = as_user(users["process_manager"])
    for page in ("", "results/", "delivery/", "manage/", "proposals/"):
        response = client.get(url(process, page), HTTP_ACCEPT_LANGUAGE=lang)
        assert response.status_code == 200, page
        assert f'<html lang="{lang}"' in text(response)


def test_results_map_data_is_json_not_html(manchester, as_user):
    process = _counted(manchester)
    lat, lon = manchester.center
    process.projects.filter(code="1").update(lat=lat, lon=lon, title=SCRIPT)
    body = text(as_user(None).get(url(process, "results/")))
    assert 'id="pb-points"' in body and 'data-map="projects"' in body
    assert SCRIPT not in body  # json_script escapes < > & inside the data too


def test_htmx_staff_form_error_comes_back_as_a_400_partial(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.REVIEW, costs=())
    proposal = Proposal.objects.create(
        process=process,
        area=process.areas.get(),
        title="Moon base",
        description="A base on the moon.",
        estimated_cost=Decimal(10),
    )
    client = as_user(users["process_manager"])
    response = client.post(
        url(process, f"manage/review/{proposal.pk}/"), {f"r{proposal.pk}-feasible": "no"}, **HTMX
    )
    assert response.status_code == 400
    body = text(response)
    assert "<html" not in body and "say why the proposal is not feasible" in body
    ok = client.post(
        url(process, f"manage/review/{proposal.pk}/"),
        {f"r{proposal.pk}-feasible": "no", f"r{proposal.pk}-reason": "No"},
        **HTMX,
    )
    assert ok.status_code == 200 and "Review of “Moon base” saved." in text(
        ok
    )  # the message is in the partial


def test_anonymous_visitors_are_invited_to_log_in_to_support(users, manchester, as_user):
    process = make_process(manchester, phase=Phase.PROPOSALS)
    _submitted(process, users["citizen"])
    body = text(as_user(None).get(url(process, "proposals/")))
    assert "Log in to support" in body and "/support/" not in body


def test_an_account_that_cannot_vote_is_told_before_filling_in(users, manchester, as_user):
    process = make_process(manchester)
    assert "cannot vote" not in text(as_user(users["citizen"]).get(url(process, "vote/")))
    page = as_user(users["moderator"]).get(url(process, "vote/"))
    assert page.status_code == 200 and "This account cannot vote in this process." in text(page)
    refused = as_user(users["moderator"]).post(url(process, "vote/"), {"project": [_ids(process)["1"]]})
    assert refused.status_code == 403 and not Ballot.objects.exists()


def test_following_an_unfunded_project_is_404(client, manchester, users):
    from smartip.budgeting.models import Phase
    from tests.budgeting.factories import make_process

    process = make_process(manchester, phase=Phase.DELIVERY)
    funded, unfunded = list(process.projects.order_by("id"))[:2]
    type(funded).objects.filter(pk=funded.pk).update(is_funded=True)
    client.force_login(users["citizen"])
    base = f"/budgets/{manchester.slug}/{process.slug}/delivery"
    assert client.post(f"{base}/{unfunded.pk}/subscribe/").status_code == 404
    assert client.post(f"{base}/{funded.pk}/subscribe/").status_code in (200, 302)
    assert not unfunded.subscribers.exists() and funded.subscribers.filter(pk=users["citizen"].pk).exists()
