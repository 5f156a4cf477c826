"""Official counting: real published winners, greedy variants, the add-one loop, and the pabulib checker."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from smartip.budgeting.pabulib import read_pb, to_election
from smartip.budgeting.rules import official_add1
from smartip.budgeting.rules.election import Election
from smartip.budgeting.rules.official import (
    OFFICIAL_RULES,
    approval_types,
    ballot_scores,
    count_official,
    count_official_pb,
    declared_rule,
)
from smartip.budgeting.rules.official_add1 import add1_fast, add1_step_by_step
from smartip.budgeting.rules.official_mes import group_ballots, run, run_exact
from smartip.budgeting.rules.official_mes_jit import OK, CompiledTypes
from smartip.core.errors import Invalid
from tests.conftest import shared_path


def _declared_winners(pb: object) -> set[str]:
    rows = pb.projects  # type: ignore[attr-defined]
    return {r["project_id"] for r in rows if r.get("selected") == "1"}


@pytest.mark.parametrize(
    "name",
    ["Poland_Swiecie_2023.pb", "Poland_Wieliczka_2023_Green_Budget.pb", "Netherlands_Assen_2024.pb"],
)
def test_equal_shares_cities_reproduce_their_published_winners(name: str) -> None:
    pb = read_pb(shared_path("data", "pabulib", name))
    outcome = count_official_pb(pb)
    assert outcome.rule == pb.meta["rule"]
    assert set(outcome.selected) == _declared_winners(pb)
    assert outcome.total_cost <= float(pb.meta["budget"])


def test_wieliczka_comparison_step_keeps_equal_shares() -> None:
    pb = read_pb(shared_path("data", "pabulib", "Poland_Wieliczka_2023_Green_Budget.pb"))
    outcome = count_official_pb(pb)
    assert outcome.details["greedy_won"] is False
    assert outcome.details["prefer_mes"] > outcome.details["prefer_greedy"]  # type: ignore[operator]


def _files_declaring(rule: str, limit: int) -> list[str]:
    index = shared_path("data", "pabulib", "INDEX.tsv").read_text(encoding="utf-8").splitlines()
    names = [line.split("\t")[0] for line in index[1:] if line.split("\t")[10] == rule]
    step = max(1, len(names) // limit)
    return names[::step][:limit]


@pytest.mark.parametrize("rule", ["greedy", "greedy-no-skip", "greedy-threshold", "greedy-custom"])
def test_greedy_variants_reproduce_a_sample_of_declared_winners(rule: str) -> None:
    checked = 0
    for name in _files_declaring(rule, 12):
        pb = read_pb(shared_path("data", "pabulib", name))
        if not pb.projects or "selected" not in pb.projects[0] or pb.meta.get("unit") == "Łódź":
            continue  # Łódź 2020 documents a budget top-up that was not spent by any rule
        outcome = count_official_pb(pb)
        marked = {r["project_id"] for r in pb.projects if r.get("selected") in ("2", "3")}
        want = _declared_winners(pb)
        if outcome.rule == "greedy-poznan":  # the 80% project is published as 2
            want |= {r["project_id"] for r in pb.projects if r.get("selected") == "2"}
            marked -= want
        assert set(outcome.selected) - marked == want, name
        checked += 1
    assert checked >= 5


def test_rule_names_and_unknown_rule() -> None:
    assert {"greedy", "greedy-no-skip", "greedy-threshold", "equalshares/add1"} <= set(OFFICIAL_RULES)
    pb = read_pb(shared_path("data", "pabulib", "Netherlands_Assen_2024.pb"))
    with pytest.raises(Invalid):
        count_official(to_election(pb), "borda")


# ---- the add-one loop: fast path == the literal step-by-step definition --------------------------------


@st.composite
def small_elections(draw: st.DrawFn) -> tuple[object, int]:
    n_projects = draw(st.integers(2, 6))
    costs = draw(st.lists(st.integers(1, 40), min_size=n_projects, max_size=n_projects))
    ballots = draw(
        st.lists(st.frozensets(st.integers(0, n_projects - 1), max_size=n_projects), min_size=1, max_size=9)
    )
    budget = draw(st.integers(1, sum(costs)))
    return group_ballots(n_projects, ballots, costs), budget


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(small_elections(), st.booleans(), st.booleans())
def test_add1_fast_is_identical_to_step_by_step(
    case: tuple[object, int], exact_start: bool, stop: bool
) -> None:
    t, budget = case
    n = t.n_voters  # type: ignore[attr-defined]
    first = Fraction(budget, n) if exact_start else Fraction(budget // n)
    base = Fraction(budget // n)
    slow = add1_step_by_step(t, budget, first, base, stop_when_exhaustive=stop)  # type: ignore[arg-type]
    fast = add1_fast(t, budget, first, base, stop_when_exhaustive=stop)  # type: ignore[arg-type]
    assert fast.run.winners == slow.run.winners
    assert fast.per_voter == slow.per_voter


@FAST
@given(small_elections(), st.booleans())
def test_add1_with_eager_jumps_is_identical_to_step_by_step(case: tuple[object, int], stop: bool) -> None:
    # a proof after every unchanged step, however short: exercises the jumps on small instances
    t, budget = case
    base = Fraction(budget // t.n_voters)  # type: ignore[attr-defined]
    saved = (official_add1.STREAK, official_add1.JUMP_PAYS)
    official_add1.STREAK, official_add1.JUMP_PAYS = 1, 1
    try:
        fast = add1_fast(t, budget, base, base, stop_when_exhaustive=stop)  # type: ignore[arg-type]
    finally:
        official_add1.STREAK, official_add1.JUMP_PAYS = saved
    slow = add1_step_by_step(t, budget, base, base, stop_when_exhaustive=stop)  # type: ignore[arg-type]
    assert (fast.run.winners, fast.per_voter) == (slow.run.winners, slow.per_voter)


def test_jumps_on_a_long_real_loop_land_where_counting_every_step_lands() -> None:
    # Budapest 2022: 153,146 steps of +1 and 17 outcomes; the fast path proves most steps instead of counting
    election = to_election(
        read_pb(shared_path("data", "pabulib", "Hungary_Budapest_2022_VIII_Jozsefvaros.pb"))
    )
    t = approval_types(election)
    budget, base = int(election.budget), election.budget // election.n_voters
    fast = add1_fast(t, budget, Fraction(base), Fraction(base))
    compiled, kept, j = CompiledTypes(t), run(t, Fraction(base)).winners, 0
    while True:  # every step, by the compiled run (itself checked against the exact run above)
        j += 1
        status, nxt = compiled.run(base + j, np.array(kept, dtype=np.int64))
        winners = nxt.tolist() if status == OK else run(t, Fraction(base + j)).winners
        if sum(t.costs[c] for c in winners) > budget:
            break
        kept = winners
    assert (fast.run.winners, fast.per_voter) == (kept, base + j - 1)
    assert fast.counts < j // 10


@FAST
@given(small_elections(), st.fractions(min_value=0, max_value=60, max_denominator=7))
def test_float_run_with_fallback_equals_exact_run(case: tuple[object, int], per_voter: Fraction) -> None:
    t, _ = case
    assert run(t, per_voter).winners == run_exact(t, per_voter).winners  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["Netherlands_Assen_2024.pb", "Poland_Warszawa_2019_Sielce.pb"])
def test_add1_on_real_files_matches_step_by_step(name: str) -> None:
    election = to_election(read_pb(shared_path("data", "pabulib", name)))
    t = approval_types(election)
    budget, n = int(election.budget), election.n_voters
    first = base = Fraction(budget // n)
    fast = add1_fast(t, budget, first, base)
    if name.startswith("Netherlands"):  # the rational definition: seconds here, minutes for Sielce
        slow = add1_step_by_step(t, budget, first, base)
        assert (fast.run.winners, fast.per_voter) == (slow.run.winners, slow.per_voter)
    kept, j = run(t, first).winners, 0  # the definition with `run` (floats, exact when too close)
    while True:
        j += 1
        nxt = run(t, base + j).winners
        if sum(t.costs[c] for c in nxt) > budget:
            break
        kept = nxt
    assert (fast.run.winners, fast.per_voter) == (kept, base + j - 1)


@FAST
@given(small_elections(), st.integers(0, 60), st.lists(st.integers(0, 5), max_size=6))
def test_compiled_run_equals_exact_run(case: tuple[object, int], per_voter: int, hint: list[int]) -> None:
    t, _ = case
    compiled = CompiledTypes(t)  # type: ignore[arg-type]
    hint_arr = np.array([h for h in hint if h < t.n_projects], dtype=np.int64)  # type: ignore[attr-defined]
    status, winners = compiled.run(per_voter, hint_arr)
    assume(status == OK)  # too close in floats: the caller counts exactly (tested through add1_fast)
    assert winners.tolist() == run_exact(t, Fraction(per_voter)).winners  # type: ignore[arg-type]


@FAST
@given(
    st.integers(1, 12).flatmap(
        lambda n_projects: st.tuples(
            st.just(n_projects),
            st.lists(st.lists(st.integers(0, n_projects - 1), max_size=5), min_size=1, max_size=30),
        )
    )
)
def test_approval_types_group_identical_ballots(case: tuple[int, list[list[int]]]) -> None:
    n_projects, votes = case
    ballots = [frozenset(v) for v in votes]
    costs = list(range(1, n_projects + 1))
    ptr = np.cumsum([0] + [len(v) for v in votes])
    election = Election(
        project_ids=tuple(str(p) for p in range(n_projects)),
        costs=np.array(costs, dtype=np.int64),
        budget=sum(costs),
        ballot_kind="approval",
        voter_ptr=ptr.astype(np.int64),
        entry_project=np.array([p for v in votes for p in v], dtype=np.int32),  # repeats allowed
        entry_score=np.ones(int(ptr[-1])),
    )
    got, want = approval_types(election), group_ballots(n_projects, ballots, costs)
    assert got.weights.tolist() == want.weights.tolist()
    assert [s.tolist() for s in got.supporters] == [s.tolist() for s in want.supporters]
    assert (got.approvals, got.costs, got.n_voters) == (want.approvals, want.costs, want.n_voters)


# ---- the pabulib checker as oracle ---------------------------------------------------------------------


def _checker() -> object:
    """A fresh pabulib-checker `Checker` (the reference the pabulib maintainers validate files with)."""
    module = pytest.importorskip("pabulib.checker", reason="pip install pabulib-checker (test oracle)")
    return module.Checker()


def _checker_for(t: object, ballots: list[frozenset[int]], costs: list[int], budget: int) -> object:
    c = _checker()
    c.meta = {"budget": str(budget)}
    c.projects = {str(p): {"cost": str(cost)} for p, cost in enumerate(costs)}
    c.votes = {str(v): {"vote": ",".join(str(p) for p in sorted(b))} for v, b in enumerate(ballots)}
    return c


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_checker_equal_shares_add1_agrees(data: st.DataObject) -> None:
    n_projects = data.draw(st.integers(2, 6))
    costs = data.draw(st.lists(st.integers(1, 40), min_size=n_projects, max_size=n_projects, unique=True))
    ballots = data.draw(
        st.lists(st.frozensets(st.integers(0, n_projects - 1), max_size=n_projects), min_size=1, max_size=9)
    )
    supported = {p for b in ballots for p in b}
    budget = data.draw(st.integers(1, sum(costs)))
    assume(sum(costs[p] for p in supported) > budget)  # else the checker's loop never ends
    t = group_ballots(n_projects, ballots, costs)
    checker = _checker_for(t, ballots, costs, budget)
    try:
        plain = checker._compute_equalshares_winners(add1=False)  # type: ignore[attr-defined]
        add1 = checker._compute_equalshares_winners(add1=True)  # type: ignore[attr-defined]
    except ValueError:  # an unresolved tie: the checker refuses, we take the file order
        assume(False)
    n = len(ballots)
    assert [str(p) for p in run(t, Fraction(budget, n)).winners] == plain
    ours = add1_fast(t, budget, Fraction(budget, n), Fraction(budget // n)).run.winners
    assert [str(p) for p in ours] == add1
    # the whole pipeline, comparison step included, as the checker verifies a declared rule
    cost = {str(p): c for p, c in enumerate(costs)}
    approvers = checker._build_approval_approvers()  # type: ignore[attr-defined]
    compared = checker._apply_equalshares_comparison_step(add1, cost, approvers)  # type: ignore[attr-defined]
    election = _election(ballots, costs, budget)
    outcome = count_official(election, "equalshares/add1-comparison", mes_start="exact")
    assert set(outcome.selected) == set(compared)


def _election(ballots: list[frozenset[int]], costs: list[int], budget: int) -> Election:
    ptr = np.cumsum([0] + [len(b) for b in ballots])
    entries = [p for b in ballots for p in sorted(b)]
    return Election(
        project_ids=tuple(str(p) for p in range(len(costs))),
        costs=np.array(costs, dtype=np.int64),
        budget=budget,
        ballot_kind="approval",
        voter_ptr=ptr.astype(np.int64),
        entry_project=np.array(entries, dtype=np.int32),
        entry_score=np.ones(len(entries)),
    )


def test_comparison_step_can_hand_the_win_to_greedy() -> None:
    # MES funds the small project of the minority; greedy funds the two projects of the majority
    ballots = [frozenset({0, 1})] * 6 + [frozenset({2})] * 4
    election = _election(ballots, [50, 50, 40], 100)
    mes = count_official(election, "equalshares")
    compared = count_official(election, "equalshares-comparison")
    assert set(mes.selected) == {"0", "2"}
    assert set(compared.selected) == {"0", "1"}
    assert compared.details["greedy_won"] is True
    assert [p.reason for p in compared.projects][1].startswith("funded: the greedy outcome")


@pytest.mark.parametrize("rule", ["greedy", "greedy-no-skip", "greedy-threshold", "equalshares/add1"])
def test_checker_verdict_agrees_with_our_recount(rule: str, capsys: pytest.CaptureFixture[str]) -> None:
    # the checker needs ~40 s (exact fractions, one MES per +1 step) for Świecie: Assen only here
    names = ["Netherlands_Assen_2024.pb"] if rule.startswith("equalshares") else _files_declaring(rule, 4)
    if rule == "greedy-threshold":
        names.append("Poland_Warszawa_2018_Las.pb")  # the city left out a project the rule funds
    for name in names:
        path = shared_path("data", "pabulib", name)
        pb = read_pb(path)
        if not pb.projects or "selected" not in pb.projects[0]:
            continue
        results = _checker().process_files([str(path)])  # type: ignore[attr-defined]
        errors = results.get(path.stem, {}).get("results", {}).get("errors", {})
        checker_ok = not any("rule not followed" in kind for kind in errors)
        ours_ok = set(count_official_pb(pb).selected) == _declared_winners(pb)
        assert checker_ok == ours_ok, name
    capsys.readouterr()


def test_declared_rule_stand_ins() -> None:
    pb = read_pb(shared_path("data", "pabulib", "Netherlands_Assen_2024.pb"))
    election = to_election(pb)
    assert declared_rule(election) == "equalshares/add1"


def test_wieliczka_was_counted_without_the_exhaustive_stop() -> None:
    # with the tool's "exhaustive" option the loop stops at 302 per voter and funds other projects
    pb = read_pb(shared_path("data", "pabulib", "Poland_Wieliczka_2023_Green_Budget.pb"))
    election = to_election(pb)
    plain = count_official(election, mes_start="exact")
    early = count_official(election, stop_when_exhaustive=True)
    assert set(plain.selected) == _declared_winners(pb)
    assert set(early.selected) != _declared_winners(pb)
    assert early.details["per_voter_budget"] < plain.details["per_voter_budget"]  # type: ignore[operator]


def test_ordinal_greedy_from_ballots_ranks_by_borda_points_like_the_files() -> None:
    # Kraków publishes a Borda `score` (L, L-1, ..., 1 down each ballot); the Election alone must give it too
    pb = read_pb(shared_path("data", "pabulib", "Poland_Krakow_2024_Bienczyce.pb"))
    election = to_election(pb)
    assert ballot_scores(election) == [float(r["score"]) for r in pb.projects]
    assert set(count_official(election).selected) == _declared_winners(pb)
