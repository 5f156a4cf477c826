"""MES with the Add-1 completion, and Add-1 followed by greedy, as pabutools runs them.

`mes_add1`: pabutools' `method_of_equal_shares(..., voter_budget_increment=1)`: run MES with per-voter
budget b0 = B/n, then b0 + 1, b0 + 2, ... and return the first outcome that is exhaustive over the MES
candidates (supported projects with a positive cost), or the previous outcome as soon as one overspends
the real budget B.

`mes_add1_greedy`: pabutools' `completion_by_rule_combination(instance, profile, [method_of_equal_shares,
greedy_utilitarian_welfare], [{"sat_class": Cost_Sat, "voter_budget_increment": 1}, {"sat_class":
Cost_Sat}])`: the Add-1 outcome, then (if it is not exhaustive over all projects) greedy by votes from there.

Speed: each step reuses the per-election arrays (`MesSetup`) and the exact ledger's storage; the
feasibility and exhaustiveness tests are exact.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from smartip.budgeting.rules.mes import MesResult, MesSetup, run_mes
from smartip.budgeting.rules.prepared import Prepared, SatKind


def _cost(prep: Prepared, projects: list[int]) -> Fraction:
    return sum((prep.cost_q[p] for p in projects), Fraction(0))


def _exhaustive(prep: Prepared, selected: list[int], among: list[int]) -> bool:
    left = prep.budget_q - _cost(prep, selected)
    chosen = set(selected)
    return not any(prep.cost_q[p] <= left for p in among if p not in chosen)


def mes_add1(prep: Prepared, sat: SatKind) -> tuple[MesResult, int]:
    """The Add-1 outcome and the number of MES runs it took."""
    setup = MesSetup(prep, sat)
    if prep.total_weight_q == 0:
        return MesResult([], [], [], np.zeros(prep.n_projects), Fraction(0)), 0
    b0 = prep.budget_q / prep.total_weight_q
    previous = MesResult(list(setup.upfront), [], list(setup.upfront), np.zeros(prep.n_projects), b0)
    runs = 0
    while True:
        result = run_mes(setup, b0)
        runs += 1
        if _cost(prep, result.selected) > prep.budget_q:
            return previous, runs
        if _exhaustive(prep, result.selected, setup.candidates):
            return result, runs
        previous = result
        b0 += 1


def exhaustive(prep: Prepared, selected: list[int]) -> bool:
    """No project (of any kind) could be added within the budget."""
    return _exhaustive(prep, selected, list(range(prep.n_projects)))
