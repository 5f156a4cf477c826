"""The proofs of `mes_certify` against plain MES runs at every step they claim to cover."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartip.budgeting.rules import Election, count
from smartip.budgeting.rules.mes import MesSetup, run_mes
from smartip.budgeting.rules.mes_certify import cert_setup, certify, replay
from smartip.budgeting.rules.prepared import prepare


@st.composite
def elections(draw: st.DrawFn) -> Election:
    """Small approval elections with money in the hundreds: Add-1 steps of 1 are small, outcomes change."""
    m = draw(st.integers(2, 6))
    n = draw(st.integers(2, 9))
    costs = draw(st.lists(st.integers(20, 400), min_size=m, max_size=m))
    ptr, proj = [0], []
    for _ in range(n):
        proj += draw(st.lists(st.integers(0, m - 1), unique=True, min_size=1, max_size=m))
        ptr.append(len(proj))
    weighted = draw(st.booleans())
    return Election(
        project_ids=tuple(str(i) for i in [1, 2, 9, 10, 11, 20][:m]),
        costs=np.array(costs),
        budget=draw(st.integers(50, 600)),
        ballot_kind="approval",
        voter_ptr=np.array(ptr, dtype=np.int64),
        entry_project=np.array(proj, dtype=np.int32),
        entry_score=np.ones(len(proj)),
        voter_weight=np.array(draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)))
        if weighted
        else None,
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(), st.integers(0, 40), st.integers(1, 60))
def test_a_passed_proof_holds_at_every_step(e: Election, start: int, span: int) -> None:
    prep = prepare(e)
    setup = MesSetup(prep, "cost")
    cs = cert_setup(setup)
    b0 = prep.budget_q / prep.total_weight_q + start
    winners = [r.project for r in run_mes(setup, b0).rounds]
    proved, _ = certify(cs, winners, replay(cs, winners, float(b0)), float(b0), float(b0 + span))
    for k in range(span + 1):
        got = [r.project for r in run_mes(setup, b0 + k).rounds]
        if proved > len(winners):  # the whole outcome
            assert got == winners, (k, got, winners)
        else:  # a failed proof still proves its first rounds
            assert got[:proved] == winners[:proved], (k, proved, got, winners)


def test_long_constant_stretches_are_jumped() -> None:
    # "2" is funded at once; "1" (voter 0 alone) only when a voter's budget reaches 2500, ~1630 steps on
    e = Election(
        project_ids=("1", "2", "3"),
        costs=np.array([2500, 40, 5000]),
        budget=2600,
        ballot_kind="approval",
        voter_ptr=np.array([0, 1, 2, 4], dtype=np.int64),
        entry_project=np.array([0, 1, 1, 2], dtype=np.int32),
        entry_score=np.ones(4),
    )
    out = count(e, "mes-add1")
    meta = dict(out.meta)
    steps = meta["per_voter_budget"] - float(Fraction(2600, 3))
    assert out.selected_ids(e.project_ids) == ("2", "1")
    assert steps > 1000 and meta["runs"] < 60, meta


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(), st.integers(0, 60))
def test_compiled_run_decides_like_the_exact_run(e: Election, step: int) -> None:
    from smartip.budgeting.rules.mes_jit import OK, CompiledMes

    prep = prepare(e)
    setup = MesSetup(prep, "cost")
    budget = prep.budget_q / prep.total_weight_q + step
    status, won = CompiledMes(setup).run(float(budget), [])
    if status == OK:  # otherwise it reported a decision too close to call in floats
        assert won == [r.project for r in run_mes(setup, budget).rounds]


def test_compiled_run_settles_exact_ties_by_id() -> None:
    # "2" and "10" both cost 50 and have two supporters each: rho 1/2 exactly, "10" < "2" as strings
    e = Election(
        project_ids=("2", "10"),
        costs=np.array([50, 50]),
        budget=100,
        ballot_kind="approval",
        voter_ptr=np.array([0, 1, 2, 3, 4], dtype=np.int64),
        entry_project=np.array([0, 0, 1, 1], dtype=np.int32),
        entry_score=np.ones(4),
    )
    from smartip.budgeting.rules.mes_jit import OK, CompiledMes

    status, won = CompiledMes(MesSetup(prepare(e), "cost")).run(30.0, [])
    assert (status, won) == (OK, [1, 0])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections())
def test_numpy_and_compiled_add1_loops_agree(e: Election) -> None:
    from smartip.budgeting.rules.mes_add1 import mes_add1

    prep = prepare(e)
    numpy_loop, _ = mes_add1(prep, "cost", compiled=False)
    compiled_loop, _ = mes_add1(prep, "cost")
    assert numpy_loop.selected == compiled_loop.selected
    assert numpy_loop.per_voter_budget == compiled_loop.per_voter_budget
