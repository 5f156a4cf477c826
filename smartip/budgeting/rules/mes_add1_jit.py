"""The Add-1 loop (`mes_add1`) with compiled float runs at every step, and proofs only over long stretches.

Each step's outcome comes from `mes_jit` (tens of microseconds); a step it cannot call in floats is
counted by `mes.run_mes` (exact). After `PATIENCE` steps with the same winners, `mes_certify` proofs try to
jump over the rest of the stretch (Budapest 2022: 153,144 steps, a handful of outcomes); they stop at spans
below `MIN_SPAN` steps, where stepping is cheaper. The returned result is an exact run at the kept budget.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from smartip.budgeting.rules.mes import MesResult, MesSetup, money_left, run_mes
from smartip.budgeting.rules.mes_certify import cert_setup
from smartip.budgeting.rules.mes_jit import OK, CompiledMes

PATIENCE = 16
MIN_SPAN = 16


def _cost(setup: MesSetup, projects: list[int]) -> Fraction:
    return sum((setup.prep.cost_q[p] for p in projects), Fraction(0))


def walk(setup: MesSetup) -> tuple[MesResult, int]:
    """`mes_add1` for cost utilities: (the exact result at the kept budget, runs + proofs made)."""
    from smartip.budgeting.rules.mes_add1 import _exhaustive, _same_outcome_steps

    prep = setup.prep
    b0 = prep.budget_q / prep.total_weight_q
    cm, cs = CompiledMes(setup), None
    k, work, streak, guess = 0, 0, 0, 4 * MIN_SPAN
    prev: list[int] | None = None
    while True:
        status, won = cm.run(float(b0 + k), prev or [])
        work += 1
        if status != OK:
            won = [r.project for r in run_mes(setup, b0 + k).rounds]
        selected = setup.upfront + won
        if _cost(setup, selected) > prep.budget_q:
            if k == 0:
                up = list(setup.upfront)
                return MesResult(up, [], up, np.full(prep.n_voters, float(b0)), b0), work
            return _final(setup, b0 + k - 1), work + 1
        if _exhaustive(prep, selected, setup.candidates):
            return _final(setup, b0 + k), work + 1
        streak = streak + 1 if won == prev else 0
        prev = won
        if streak >= PATIENCE:
            cs = cs or cert_setup(setup)
            same, proofs, _ = _same_outcome_steps(cs, won, b0 + k, guess, MIN_SPAN)
            work += proofs
            guess = max(4 * MIN_SPAN, same // 2)
            k += same
            streak = 0
        k += 1


def _final(setup: MesSetup, budget: Fraction) -> MesResult:
    result = run_mes(setup, budget)
    result.money_left = money_left(setup, result)
    return result
