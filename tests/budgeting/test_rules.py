"""Counting rules against pabutools 1.2.3 as the live oracle, on real pabulib files and random elections."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartip.budgeting.rules import RULES, Election, count
from smartip.budgeting.rules.pabutools_oracle import pabutools_count
from smartip.budgeting.rules.prepared import exact, prepare
from smartip.core.errors import Invalid

pabutools = pytest.importorskip("pabutools")

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT.parent / "shared" / "data" / "pabulib"
FAST_RULES = ["greedy", "greedy-card", "greedy-score", "mes", "mes-card", "mes-score", "phragmen", "knapsack"]


def to_pabutools(e: Election) -> tuple[object, object]:
    """The same election as pabutools objects (exact costs and budget)."""
    from gmpy2 import mpq
    from pabutools.election import (
        ApprovalBallot,
        ApprovalProfile,
        CumulativeBallot,
        CumulativeProfile,
        Instance,
        Project,
    )

    def q(x: float) -> object:
        f = exact(x)
        return mpq(f.numerator, f.denominator)

    projects = [Project(pid, q(c)) for pid, c in zip(e.project_ids, e.costs.tolist(), strict=True)]
    instance = Instance(projects, budget_limit=q(e.budget))
    ballots = []
    for v in range(e.n_voters):
        lo, hi = int(e.voter_ptr[v]), int(e.voter_ptr[v + 1])
        items = [
            (projects[int(p)], int(s))
            for p, s in zip(e.entry_project[lo:hi], e.entry_score[lo:hi], strict=True)
        ]
        if e.ballot_kind == "cumulative":
            ballots.append(CumulativeBallot(dict(items)))
        else:
            ballots.append(ApprovalBallot([p for p, _ in items]))
    if e.ballot_kind == "cumulative":
        return instance, CumulativeProfile(ballots, instance=instance)
    return instance, ApprovalProfile(ballots, instance=instance)


def ours_ids(e: Election, rule: str) -> list[str]:
    return list(count(e, rule).selected_ids(e.project_ids))


def welfare(e: Election, ids: list[str]) -> Fraction:
    totals = prepare(e).total_sat_q("cost")
    index = {pid: i for i, pid in enumerate(e.project_ids)}
    return sum((totals[index[i]] for i in ids), Fraction(0))


def assert_same(e: Election, rule: str, ours: list[str], theirs: list[str]) -> None:
    if rule == "knapsack":  # several optimal sets may exist; pabutools' pick depends on set order
        assert welfare(e, ours) == welfare(e, theirs), (ours, theirs)
    else:
        assert set(ours) == set(theirs), (ours, theirs)
        if rule == "phragmen":  # pabutools returns Phragmén's outcome sorted by id, not in selection order
            return
        free = {pid for pid, c in zip(e.project_ids, e.costs.tolist(), strict=True) if c == 0}
        assert [p for p in ours if p not in free] == [p for p in theirs if p not in free]


# ---- real pabulib files ---------------------------------------------------------------------------------


def _sample() -> list[Path]:
    if not DATA.is_dir():
        return []
    paths = sorted(DATA.glob("*.pb"), key=lambda p: (p.stat().st_size, p.name))
    small = [p for p in paths if p.stat().st_size < 40_000]
    return small[:: max(1, len(small) // 60)][:60]


def _vote_type(path: Path) -> str:
    for line in path.read_text(encoding="utf-8-sig").splitlines()[:40]:
        cells = [c.strip() for c in line.split(";")]
        if cells[0].lower() == "vote_type":
            return cells[1].lower()
    return "approval"


def _need_data() -> None:
    if not DATA.is_dir():
        pytest.skip(f"pabulib test data not found at {DATA} (shared data folder absent)")


@pytest.mark.parametrize("path", _sample(), ids=lambda p: p.stem[:60])
def test_real_instances_match_pabutools(path: Path) -> None:
    from pabutools.election import parse_pabulib

    from smartip.budgeting.pabulib import load_election

    election = load_election(path)
    instance, profile = parse_pabulib(str(path))
    multi = profile.as_multiprofile()
    rules = [r for r in FAST_RULES if election.ballot_kind in RULES[r].ballots]
    if election.n_voters * election.n_projects < 3_000:
        rules += ["mes-add1", "mes-add1-greedy"]
    for rule in rules:
        assert_same(election, rule, ours_ids(election, rule), pabutools_count(instance, multi, rule))


def test_sample_is_large_enough() -> None:
    _need_data()
    assert len(_sample()) >= 50


@pytest.mark.slow
def test_largest_instance_greedy_and_mes() -> None:
    _need_data()
    from pabutools.election import parse_pabulib

    from smartip.budgeting.pabulib import load_election

    path = max(DATA.glob("*.pb"), key=lambda p: p.stat().st_size)
    election = load_election(path)
    instance, profile = parse_pabulib(str(path))
    multi = profile.as_multiprofile()
    for rule in ["greedy", "mes"]:
        assert_same(election, rule, ours_ids(election, rule), pabutools_count(instance, multi, rule))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["Poland_Wroclaw_2017", "Poland_Wroclaw_2018", "Poland_Wroclaw_2020"])
def test_add_one_rules_on_large_real_files(name: str) -> None:
    """The add-one completions on three of the largest files (2.6-3.6 MB) where pabutools' loop is short."""
    _need_data()
    from pabutools.election import parse_pabulib

    from smartip.budgeting.pabulib import load_election

    path = DATA / f"{name}.pb"
    election = load_election(path)
    instance, profile = parse_pabulib(str(path))
    multi = profile.as_multiprofile()
    for rule in ["mes-add1", "mes-add1-greedy", "mes-card"]:
        assert_same(election, rule, ours_ids(election, rule), pabutools_count(instance, multi, rule))


# ---- random small elections -------------------------------------------------------------------------------


@st.composite
def elections(draw: st.DrawFn, kind: str = "approval", scale: int = 1) -> Election:
    m = draw(st.integers(1, 7))
    n = draw(st.integers(1, 9))
    costs = draw(st.lists(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 10, 2.5]), min_size=m, max_size=m))
    budget = draw(st.sampled_from([1, 3, 5, 6, 8, 10, 12, 15, 7.5]))
    ptr, proj, score = [0], [], []
    for _ in range(n):
        chosen = draw(st.lists(st.integers(0, m - 1), unique=True, max_size=m))
        proj += chosen
        score += [draw(st.integers(1, 4)) if kind == "cumulative" else 1 for _ in chosen]
        ptr.append(len(proj))
    ids = tuple(draw(st.permutations([str(i) for i in [1, 2, 9, 10, 11, 20, 100][:m]])))
    cost_arr = (
        np.array(costs, dtype=np.float64) if any(isinstance(c, float) for c in costs) else np.array(costs)
    )
    return Election(
        project_ids=ids,
        costs=cost_arr * scale,  # money scaled up: the Add-1 steps of 1 become small, so there are many
        budget=budget * scale,
        ballot_kind=kind,  # type: ignore[arg-type]
        voter_ptr=np.array(ptr, dtype=np.int64),
        entry_project=np.array(proj, dtype=np.int32),
        entry_score=np.array(score, dtype=np.float64),
    )


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(elections())
def test_random_approval_matches_pabutools(e: Election) -> None:
    instance, profile = to_pabutools(e)
    for rule in [
        "greedy",
        "greedy-card",
        "mes",
        "mes-card",
        "mes-add1",
        "mes-add1-greedy",
        "phragmen",
        "knapsack",
    ]:
        assert_same(e, rule, ours_ids(e, rule), pabutools_count(instance, profile, rule))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(scale=37))
def test_random_add1_with_many_steps_matches_pabutools(e: Election) -> None:
    # budgets ~37x the per-voter increment: Add-1 takes many steps, so the jumps over equal paths are exercised
    instance, profile = to_pabutools(e)
    for rule in ["mes-add1", "mes-add1-greedy"]:
        assert_same(e, rule, ours_ids(e, rule), pabutools_count(instance, profile, rule))


@PROPERTY_SETTINGS
@given(elections("cumulative"))
def test_random_cumulative_matches_pabutools(e: Election) -> None:
    instance, profile = to_pabutools(e)
    for rule in ["greedy", "greedy-score", "mes", "mes-score", "mes-add1-greedy", "knapsack"]:
        assert_same(e, rule, ours_ids(e, rule), pabutools_count(instance, profile, rule))


@PROPERTY_SETTINGS
@given(elections())
def test_outcomes_within_budget_and_completion_exhaustive(e: Election) -> None:
    budget = exact(e.budget)
    for rule in RULES:
        if e.ballot_kind not in RULES[rule].ballots:
            continue
        out = count(e, rule)
        assert len(set(out.selected)) == len(out.selected)
        assert sum((exact(e.costs[p]) for p in out.selected), Fraction(0)) <= budget
        assert [n.project for n in out.details if n.selected] == list(out.selected)
    full = count(e, "mes-add1-greedy").selected
    spent = sum((exact(e.costs[p]) for p in full), Fraction(0))
    assert all(p in full or exact(e.costs[p]) > budget - spent for p in range(e.n_projects))


def test_unknown_rule_and_ballot_kind_are_rejected() -> None:
    e = Election(
        ("1",), np.array([1]), 1, "ordinal", np.array([0, 1]), np.array([0], np.int32), np.array([1.0])
    )
    with pytest.raises(Invalid):
        count(e, "nope")
    with pytest.raises(Invalid):
        count(e, "phragmen")


def test_mes_details_explain_rounds() -> None:
    # two voters, budget 10: A (cost 6) is backed by both, B (cost 6) by voter 0 only
    e = Election(
        ("A", "B"),
        np.array([6, 6]),
        10,
        "approval",
        np.array([0, 2, 3]),
        np.array([0, 1, 0], np.int32),
        np.array([1.0, 1.0, 1.0]),
    )
    out = count(e, "mes")
    assert out.selected == (0,)
    funded, unfunded = out.details
    assert funded.rho == pytest.approx(0.5) and funded.available == pytest.approx(10)
    assert unfunded.available == pytest.approx(2) and unfunded.shortfall == pytest.approx(4)
