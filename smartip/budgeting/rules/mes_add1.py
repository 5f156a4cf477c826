"""MES with the Add-1 completion, and Add-1 followed by greedy, as pabutools runs them.

`mes_add1`: pabutools' `method_of_equal_shares(..., voter_budget_increment=1)`: run MES with per-voter
budget b0 = B/n, then b0 + 1, b0 + 2, ... and return the first outcome that is exhaustive over the MES
candidates (supported projects with a positive cost), or the previous outcome as soon as one overspends
the real budget B.

`mes_add1_greedy` (in `__init__`): pabutools' `completion_by_rule_combination(instance, profile,
[method_of_equal_shares, greedy_utilitarian_welfare], [{"sat_class": Cost_Sat, "voter_budget_increment":
1}, {"sat_class": Cost_Sat}])`: the Add-1 outcome, then, if it is not exhaustive over all projects, greedy
by votes from there.

Jumps, exactly: along one run, every voter budget and every affordability is an affine function of the
starting budget b as long as the run's *decision path* stays the same (which projects are evaluated in each
round, which of their supporters pay all they have, which are dropped, which wins). Each decision is an
affine inequality in b, so the set of b sharing a path is an interval. `run_mes` digests its path; when two
runs at b0+i and b0+j have the same digest, every step between them has the same outcome (feasible and not
exhaustive, or we would have stopped), so we jump over them. Galloping then bisection finds the end of each
interval with O(log length) MES runs instead of one run per step.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from smartip.budgeting.rules.mes import MesResult, MesSetup, money_left, run_mes
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


def mes_add1(prep: Prepared, sat: SatKind) -> tuple[MesResult, int]:
    """The Add-1 outcome and the number of MES runs it took."""
    setup = MesSetup(prep, sat)
    if prep.total_weight_q == 0:
        empty = MesResult(
            [], [], [], np.zeros(prep.n_voters), Fraction(0), money_left=np.zeros(prep.n_projects)
        )
        return empty, 0
    b0 = prep.budget_q / prep.total_weight_q
    runs: dict[int, MesResult] = {}
    count = [0]

    def at(k: int) -> MesResult:
        if k not in runs:
            runs[k] = run_mes(setup, b0 + k)
            count[0] += 1
        return runs[k]

    k, span = 0, 1
    while True:
        result = at(k)
        if _cost(prep, result.selected) > prep.budget_q:
            if k == 0:
                up = list(setup.upfront)
                result = MesResult(up, [], up, np.full(prep.n_voters, float(b0)), b0)
            else:
                result = at(k - 1)
            break
        if _exhaustive(prep, result.selected, setup.candidates):
            break
        # the last step sharing this run's decision path: gallop, then bisect
        lo, hi, step = k, None, span
        while hi is None:
            if at(lo + step).signature == result.signature:
                lo, step = lo + step, step * 2
            else:
                hi = lo + step
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if at(mid).signature == result.signature:
                lo = mid
            else:
                hi = mid
        span = max(1, (lo - k) // 2)
        for old in [j for j in runs if j < lo]:
            del runs[old]
        k = lo + 1
    result.money_left = money_left(setup, result)
    return result, count[0]
