"""MES with the Add-1 completion, and Add-1 followed by greedy, as pabutools runs them.

`mes_add1`: pabutools' `method_of_equal_shares(..., voter_budget_increment=1)`: run MES with per-voter
budget b0 = B/n, then b0 + 1, b0 + 2, ... and return the first outcome that is exhaustive over the MES
candidates (supported projects with a positive cost), or the previous outcome as soon as one overspends
the real budget B.

`mes_add1_greedy` (in `__init__`): pabutools' `completion_by_rule_combination(instance, profile,
[method_of_equal_shares, greedy_utilitarian_welfare], [{"sat_class": Cost_Sat, "voter_budget_increment":
1}, {"sat_class": Cost_Sat}])`: the Add-1 outcome, then, if it is not exhaustive over all projects, greedy
by votes from there.

Two loops give the same outcome: for cost utilities (every rule that uses Add-1) `mes_add1_jit.walk`
counts each step with a compiled float run (exact when too close) and proves only long stretches; the numpy
loop below (any utility) counts fewer steps but each one costs more:

Jumps, exactly: the loop only needs each step's outcome. After a real MES run at budget b, `mes_certify`
proves (without rerunning MES) that its winner sequence is also the one at every budget of [b, b + x]
(chained proofs over growing spans, shrinking ones after a failure); those steps are feasible and not
exhaustive like b's, so the next real run is at b + x + 1. A failed proof still proves the first winners,
which that run then funds without looking at the other projects. When proofs keep failing (the winners
change at almost every step) they are skipped for a few steps, unless two runs in a row agree.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from smartip.budgeting.rules.mes import MesResult, MesSetup, money_left, run_mes
from smartip.budgeting.rules.mes_certify import CertSetup, cert_setup, certify, replay
from smartip.budgeting.rules.prepared import Prepared, SatKind


def _cost(prep: Prepared, projects: list[int]) -> Fraction:
    return sum((prep.cost_q[p] for p in projects), Fraction(0))


def _exhaustive(prep: Prepared, selected: list[int], among: list[int]) -> bool:
    left = prep.budget_q - _cost(prep, selected)
    chosen = set(selected)
    return not any(prep.cost_q[p] <= left for p in among if p not in chosen)


def exhaustive(prep: Prepared, selected: list[int]) -> bool:
    """No project (of any kind) could be added within the budget."""
    return _exhaustive(prep, selected, list(range(prep.n_projects)))


def mes_add1(prep: Prepared, sat: SatKind, compiled: bool = True) -> tuple[MesResult, int]:
    """The Add-1 outcome and the number of MES runs and proofs it took (`compiled`: numba runs, cost
    utilities only)."""
    setup = MesSetup(prep, sat)
    if prep.total_weight_q == 0:
        empty = MesResult(
            [], [], [], np.zeros(prep.n_voters), Fraction(0), money_left=np.zeros(prep.n_projects)
        )
        return empty, 0
    if compiled and sat == "cost":
        from smartip.budgeting.rules.mes_add1_jit import walk

        return walk(setup)
    b0 = prep.budget_q / prep.total_weight_q
    cs = cert_setup(setup)
    k, span, work, backoff, skip = 0, 1, 0, 0, 0
    prefix: list[int] = []
    last: tuple[int, MesResult] | None = None
    while True:
        result = run_mes(setup, b0 + k, prefix)
        work += 1
        prefix = []
        if _cost(prep, result.selected) > prep.budget_q:
            if k == 0:
                up = list(setup.upfront)
                result = MesResult(up, [], up, np.full(prep.n_voters, float(b0)), b0)
            elif last is not None and last[0] == k - 1:
                result = last[1]
            else:  # k - 1 was proved to have the same outcome as the last run: recount it for its figures
                result = run_mes(setup, b0 + k - 1)
                work += 1
            break
        if _exhaustive(prep, result.selected, setup.candidates):
            break
        repeated = last is not None and last[1].selected == result.selected
        last = (k, result)
        if skip and not repeated:  # the winners changed at the last steps: proofs would fail, save them
            skip -= 1
            k += 1
            continue
        winners = [r.project for r in result.rounds]
        same, proofs, prefix = _same_outcome_steps(cs, winners, b0 + k, span)
        work += proofs
        backoff = 0 if same else min(8, 2 * backoff or 1)
        skip, span = backoff, max(1, same // 2)
        k += same + 1
    result.money_left = money_left(setup, result)
    return result, work


def _same_outcome_steps(
    cs: CertSetup, winners: list[int], budget: Fraction, guess: int, min_span: int = 1
) -> tuple[int, int, list[int]]:
    """(x, proofs, prefix): the run's outcome is proved the same for every per-voter budget in [budget,
    budget + x], and its first winners `prefix` for budget + x + 1 too.

    Chained proofs over [budget + x, budget + x + d]: a success moves x on and doubles d (until the first
    failure, only after two successes in a row), a failure halves d; we stop when a proof over `min_span`
    steps fails (the next real run is then at budget + x + 1; `prefix` is only given when min_span is 1). Near a change the proofs get shorter: each one only uses the winners' figures
    at its own low end.
    """
    whole = len(winners) + 1
    low = replay(cs, winners, float(budget))
    x, d, proofs, streak = 0, max(1, guess), 1, 2
    failed_at, failed_rounds = 0, 0  # the last failed proof covered [., budget + failed_at] for some rounds
    while True:
        proofs += 1
        known = failed_rounds if x + d <= failed_at else 0
        proved, high = certify(cs, winners, low, float(budget + x), float(budget + x + d), known)
        if proved == whole:  # after a failure, double again only after two successes in a row
            x, streak, low = x + d, streak + 1, high
            d = 2 * d if streak >= 2 else d
        elif d <= min_span:
            return x, proofs, winners[:proved] if d == 1 else []
        else:
            failed_at, failed_rounds = x + d, proved
            d, streak = d // 2, 0
