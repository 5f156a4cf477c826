"""Why knapsack and sequential Phragmén left a project out: the notes the rules attach (small elections whose
reasons are known by hand, outcomes checked against pabutools) and the sentences on the results page."""

import html

import numpy as np
import pytest

from smartip.budgeting import services
from smartip.budgeting.models import Outcome, Phase
from smartip.budgeting.rules import Election, count
from smartip.budgeting.views import explain
from tests.budgeting.factories import make_process
from tests.budgeting.test_pages import cast_many, text, url, voters


def election(costs: dict[str, float], budget: float, ballots: list[list[str]]) -> Election:
    ids = tuple(costs)
    index = {pid: i for i, pid in enumerate(ids)}
    ptr = np.cumsum([0, *(len(b) for b in ballots)]).astype(np.int64)
    entries = np.array([index[p] for b in ballots for p in b], dtype=np.int32)
    return Election(
        project_ids=ids,
        costs=np.array([costs[p] for p in ids], dtype=np.float64),
        budget=budget,
        ballot_kind="approval",
        voter_ptr=ptr,
        entry_project=entries,
        entry_score=np.ones(len(entries)),
    )


def notes(e: Election, rule: str) -> dict[str, object]:
    out = count(e, rule)
    return {e.project_ids[n.project]: n for n in out.details}


def pabutools_selected(e: Election, rule: str) -> set[str]:
    from pabutools.election import Cost_Sat
    from pabutools.rules import max_additive_utilitarian_welfare, sequential_phragmen

    from tests.budgeting.test_rules import to_pabutools

    instance, profile = to_pabutools(e)
    if rule == "phragmen":
        chosen = sequential_phragmen(instance, profile)
    else:
        chosen = max_additive_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    return {p.name for p in chosen}


# Knapsack: budget 1000; a (600, 3 supporters: 1800), b (500, 2: 1000), c (400, 2: 800), d (100, nobody),
# f (free, one supporter: Cost_Sat 0). Best set {a, c} = 2600 (vs {b, c} 1800, {a, d} 1800), nothing left.
KNAPSACK = election(
    {"a": 600, "b": 500, "c": 400, "d": 100, "f": 0},
    1000,
    [["a", "c"], ["a", "c"], ["a", "f"], ["b"], ["b"]],
)

# Phragmén: budget 1000. Round 1: A 600/3 = 200 (B 250, C 300, F 450, G 250) -> A; left 400. Round 2: B 250
# and G 250 tie for the lowest load, B does not fit (500 > 400) so the rule stops; G (250) fits but was tied;
# C would load its one supporter (already at 200) to 500 > 250 and fits; F (450 > 250) does not fit either;
# D costs more than the whole budget; E has no supporters.
PHRAGMEN = election(
    {"A": 600, "B": 500, "C": 300, "D": 1200, "E": 100, "F": 450, "G": 250},
    1000,
    [["A", "C"], ["A"], ["A"], ["B", "F"], ["B"], ["G"]],
)


def test_knapsack_outcome_matches_pabutools_and_each_left_out_project_has_its_reason():
    assert set(count(KNAPSACK, "knapsack").selected_ids(KNAPSACK.project_ids)) == {"a", "c"}
    assert pabutools_selected(KNAPSACK, "knapsack") == {"a", "c"}
    by = notes(KNAPSACK, "knapsack")
    assert by["b"].stage == "knapsack-no-fit" and by["b"].available == 0 and by["b"].cost == 500
    assert by["d"].stage == "knapsack-no-support"
    assert by["f"].stage == "knapsack-free"
    assert all(by[p].selected and by[p].stage == "knapsack" for p in "ac")


def test_knapsack_note_never_claims_no_fit_when_money_is_left():
    # budget 1000, best set {a} (cost 600, left 400): b (500) does not fit; c (300) has no supporters
    e = election({"a": 600, "b": 500, "c": 300}, 1000, [["a"], ["a"], ["b"]])
    by = notes(e, "knapsack")
    assert [p for p in by if by[p].selected] == ["a"]
    assert (by["b"].stage, by["b"].available) == ("knapsack-no-fit", 400)
    assert by["c"].stage == "knapsack-no-support"  # it would fit in the 400 left, but adds nothing


def test_phragmen_outcome_matches_pabutools_and_each_left_out_project_has_its_reason():
    assert count(PHRAGMEN, "phragmen").selected_ids(PHRAGMEN.project_ids) == ("A",)
    assert pabutools_selected(PHRAGMEN, "phragmen") == {"A"}
    by = notes(PHRAGMEN, "phragmen")
    assert (by["A"].selected, by["A"].stage, by["A"].rho) == (True, "phragmen", 200)
    assert (by["B"].stage, by["B"].rho, by["B"].available) == ("phragmen-no-fit", 250, 400)
    assert (by["G"].stage, by["G"].rho) == ("phragmen-tied", 250)
    assert (by["C"].stage, by["C"].rho, by["C"].threshold) == ("phragmen-load", 500, 250)
    assert (by["F"].stage, by["F"].rho, by["F"].threshold) == ("phragmen-load-no-fit", 450, 250)
    assert (by["D"].stage, by["D"].available) == ("phragmen-over-budget", 1000)
    assert by["E"].stage == "phragmen-no-support"
    assert len(by) == 7


def test_phragmen_that_buys_everything_affordable_only_notes_the_over_budget_project():
    e = election({"A": 300, "B": 200, "C": 2000}, 1000, [["A"], ["B"], ["C"]])
    by = notes(e, "phragmen")
    assert {p for p in by if by[p].selected} == {"A", "B"}
    assert by["C"].stage == "phragmen-over-budget"


def as_dicts(e: Election, rule: str) -> dict[str, dict]:
    from smartip.budgeting.counting import count as count_all

    return count_all(e, rule).explanations


def test_sentences_for_knapsack():
    by = as_dicts(KNAPSACK, "knapsack")
    assert explain(by["b"], "EUR", "knapsack") == (
        "Not funded: it did not fit in the budget left (it cost €500, €0 was left). The funded projects have "
        "the highest total support (cost × supporters) that fits the budget; making room for this one would "
        "have meant dropping funded projects worth at least as much."
    )
    assert explain(by["d"], "EUR", "knapsack").startswith(
        "Not funded: nobody voted for it, so it adds nothing"
    )
    assert explain(by["f"], "EUR", "knapsack").startswith(
        "Not funded: it costs nothing, and this rule counts"
    )


def test_sentences_for_phragmen():
    by = as_dicts(PHRAGMEN, "phragmen")
    say = {p: explain(by[p], "EUR", "phragmen") for p in by}
    assert say["B"] == (
        "Not funded: it was next in line (each of its supporters' load would have risen to €250) but did not "
        "fit in the budget left (it cost €500, €400 was left), so the counting stopped."
    )
    assert say["G"] == (
        "Not funded: it was tied for next in line with a project that did not fit in the budget left (€400), "
        "so the counting stopped."
    )
    assert say["C"] == (
        "Not funded: each of its supporters' load would have risen to €500, more than the €250 of the next "
        "project in line; the counting stopped there because that project did not fit in the budget left "
        "(€400)."
    )
    assert say["F"] == (
        "Not funded: it did not fit in the budget left when the counting stopped (it cost €450, €400 was left)."
    )
    assert say["D"] == "Not funded: it cost €1,200, more than the whole budget of €1,000."
    assert say["E"] == "Not funded: nobody voted for it."
    assert not any("counting stopped before this project was reached" in s for s in say.values())


def _counted(manchester, rule, costs, ballots):
    process = make_process(manchester, budget=1000, costs=costs)
    process.rule = rule
    process.save()
    people = voters(manchester, len(ballots))
    cast_many(process, list(zip(people, ballots, strict=True)))
    for area in process.areas.all():
        services.count_area(area=area, rule=rule, official=True)
    process.phase = Phase.RESULTS
    process.save()
    return process


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rule", "costs", "ballots", "expected"),
    [
        (
            "knapsack",
            (600, 500, 400, 100),
            [["1", "3"], ["1", "3"], ["1"], ["2"], ["2"]],
            {
                "2": "Not funded: it did not fit in the budget left (it cost €500, €0 was left).",
                "4": "Not funded: nobody voted for it, so it adds nothing",
            },
        ),
        (
            "phragmen",
            (600, 500, 300, 1200, 100, 450, 250),
            [["1", "3"], ["1"], ["1"], ["2", "6"], ["2"], ["7"]],
            {
                "2": "Not funded: it was next in line (each of its supporters' load would have risen to €250)",
                "3": "Not funded: each of its supporters' load would have risen to €500, more than the €250",
                "4": "Not funded: it cost €1,200, more than the whole budget of €1,000.",
                "5": "Not funded: nobody voted for it.",
                "6": "Not funded: it did not fit in the budget left when the counting stopped (it cost €450",
                "7": "Not funded: it was tied for next in line with a project that did not fit",
            },
        ),
    ],
)
def test_results_page_explains_unfunded_projects(rule, costs, ballots, expected, manchester, as_user):
    process = _counted(manchester, rule, costs, ballots)
    outcome = Outcome.objects.get(area__process=process, rule=rule)
    assert outcome.selected_codes == (["1", "3"] if rule == "knapsack" else ["1"])
    body = html.unescape(text(as_user(None).get(url(process, "results/"))))
    for project in process.projects.all():
        why = explain(outcome.details["projects"].get(project.code), process.currency, rule)
        assert why in body, (project.code, why)
        if project.code in expected:
            assert why.startswith(expected[project.code]), (project.code, why)
    assert "counting stopped before this project was reached" not in body
