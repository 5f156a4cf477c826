"""The add-one loop of the cities' Method of Equal Shares.

Definition (`add1_step_by_step`): count MES with per-voter budget `first`; then for j = 1, 2, ... count it
with `base + j` and keep that outcome while its total cost stays within the real budget B; stop at the first
one that overspends (or, with `stop_when_exhaustive`, as soon as the kept outcome leaves no project that
still fits). The checker starts at first = B/n with base = floor(B/n); the equalshares.net tool with its
"integral" option at first = base = floor(B/n). The loop also stops once every project MES can fund is
funded (more money cannot change that outcome; the checker would loop for ever there).

Fast path (`add1_fast`): the same sequence of counts, each by the compiled run of `official_mes_jit`
(tens of microseconds instead of milliseconds), warm-started with the previous budget's winners; a count
too close to call in floats is made by `official_mes.run` (exact). Most real elections change outcome every
few steps (Toulouse 2022: 680 outcomes in 1619 steps; the winner and the runner-up of a round are usually
closer than one more unit of budget moves them), so there every step is counted. Some loops are long and
mostly flat (Budapest 2022: 153,146 steps, 17 outcomes): after a streak of unchanged steps the
loop tries to prove the outcome constant over a stretch (`official_certify`) and jumps over it.
"""

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from smartip.budgeting.rules.official_certify import longest_certified
from smartip.budgeting.rules.official_mes import ApprovalTypes, MesRun, run, run_exact


@dataclass
class Add1Result:
    run: MesRun  # the kept fixed-budget run
    per_voter: Fraction  # its per-voter budget
    counts: int  # MES counts made


def _cost(t: ApprovalTypes, winners: list[int]) -> int:
    return sum(t.costs[c] for c in winners)


def _exhaustive(t: ApprovalTypes, winners: list[int], budget: int) -> bool:
    spent, chosen = _cost(t, winners), set(winners)
    return all(c in chosen or spent + t.costs[c] > budget for c in range(t.n_projects))


def _complete(t: ApprovalTypes, winners: list[int]) -> bool:
    """Every project MES can ever fund is funded: more money cannot change anything."""
    return set(t.selectable()) <= set(winners)


def add1_step_by_step(
    t: ApprovalTypes, budget: int, first: Fraction, base: Fraction, *, stop_when_exhaustive: bool = False
) -> Add1Result:
    """The literal definition, one exact MES count per +1 step (reference for tests and benchmarks)."""
    kept, kept_b, j = run_exact(t, first), first, 0
    while not _complete(t, kept.winners):
        if stop_when_exhaustive and _exhaustive(t, kept.winners, budget):
            break
        j += 1
        nxt = run_exact(t, base + j)
        if _cost(t, nxt.winners) > budget:
            break
        kept, kept_b = nxt, base + j
    return Add1Result(kept, kept_b, j + 1)


class _Stop:
    """The loop's stopping tests on winner arrays, without Python sets (called once per step)."""

    def __init__(self, t: ApprovalTypes, budget: int, stop_when_exhaustive: bool) -> None:
        self.costs = np.array(t.costs, dtype=np.int64)
        self.n_selectable = len(t.selectable())
        self.budget, self.exhaustive = budget, stop_when_exhaustive

    def cost(self, winners: npt.NDArray[np.int64]) -> int:
        return int(self.costs[winners].sum())

    def stops(self, winners: npt.NDArray[np.int64]) -> bool:
        if len(winners) == self.n_selectable:  # winners are distinct selectable projects: all funded
            return True
        if not self.exhaustive:
            return False
        left = np.ones(len(self.costs), dtype=bool)
        left[winners] = False
        money_left = self.budget - self.cost(winners)
        return not bool(np.any(self.costs[left] <= money_left))


STREAK, PATIENCE_MAX, JUMP_PAYS = 16, 4096, 64  # see add1_fast


def add1_fast(
    t: ApprovalTypes, budget: int, first: Fraction, base: Fraction, *, stop_when_exhaustive: bool = False
) -> Add1Result:
    """Same result as `add1_step_by_step`: the same counts, each by the compiled run (exact fallback), and
    proved jumps over long stretches where the outcome stays the same.

    A jump is tried once the outcome has stayed the same for `patience` steps (first STREAK); a proof costs
    about as much as JUMP_PAYS compiled steps, so proofs never cover fewer steps, and patience halves after
    a jump that long and doubles (up to PATIENCE_MAX) after a shorter one: elections whose outcome keeps
    changing soon stop trying.
    """
    from smartip.budgeting.rules.official_mes_jit import EXACT, LIMIT, OVERSPENT, PROVE, CompiledTypes

    kept = run(t, first)
    compiled, stop = CompiledTypes(t), _Stop(t, budget, stop_when_exhaustive)
    winners = np.array(kept.winners, dtype=np.int64)
    kept_b, j, counts = first, 0, 1
    j_max = max(1, int(sum(t.costs) - base) + 1)  # from here on each voter alone affords everything
    streak, patience, span = 0, STREAK, 1
    while True:
        why, steps, winners, streak = compiled.walk(
            int(base) + j + 1, int(base) + j_max, winners, (budget, stop_when_exhaustive), streak, patience
        )
        counts += steps
        j, kept_b = j + steps, (base + j + steps if steps else kept_b)
        if why == PROVE:
            d, tries, _ = longest_certified(t, run(t, kept_b), kept_b, j_max - j, span, JUMP_PAYS)
            counts += 1 + tries
            j, kept_b = j + d, kept_b + d
            patience = max(STREAK, patience // 2) if d >= JUMP_PAYS else min(PATIENCE_MAX, 2 * patience)
            span, streak = max(1, d // 4), 0
        elif why == EXACT:  # too close in floats: this step counted exactly
            nxt = np.array(run(t, base + j + 1).winners, dtype=np.int64)
            counts += 1
            if stop.cost(nxt) > budget:
                break
            streak = streak + 1 if np.array_equal(nxt, winners) else 0
            j, winners, kept_b = j + 1, nxt, base + j + 1
            if stop.stops(winners):
                break
        elif why == LIMIT:  # x reached sum(costs) + 1, where everything is funded: the next walk stops
            continue
        else:  # the kept outcome stops the loop (STOPS), or the next one overspends (counted)
            counts += why == OVERSPENT
            break
    if kept_b != first:
        kept = run(t, kept_b)  # the kept budget's own figures (payments, money behind)
        counts += 1
    return Add1Result(kept, kept_b, counts)
