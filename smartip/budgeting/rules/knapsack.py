"""Exact utilitarian-welfare maximisation (0/1 knapsack), the rule of pabutools' `max_additive_utilitarian_welfare`.

Maximises the total satisfaction (Cost_Sat: sum over funded projects of cost x supporters) within the
budget, with exact integer arithmetic (costs scaled to a common denominator) and a depth-first branch and
bound with the fractional (Dantzig) bound. Several sets can be optimal; pabutools then returns whichever
its solver meets first (its item order depends on Python's set order), so only the welfare is comparable.
Ours is deterministic: among optimal sets, the first found when items are tried in density order, ties by
project id as a string, "take" before "skip".
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm

from smartip.budgeting.rules.outcome import ProjectNote
from smartip.budgeting.rules.prepared import Prepared, SatKind
from smartip.core.errors import Invalid

MAX_NODES = 20_000_000


def _search(weights: list[int], profits: list[int], capacity: int) -> list[int]:
    """Indices (into the density-sorted lists) of an optimal 0/1 knapsack solution."""
    n = len(weights)
    best_profit, best_set = 0, []
    take: list[int] = []

    def bound(i: int, cap: int, profit: int) -> Fraction:
        out = Fraction(profit)
        while i < n and weights[i] <= cap:
            cap -= weights[i]
            out += profits[i]
            i += 1
        if i < n:
            out += Fraction(profits[i] * cap, weights[i])
        return out

    nodes = 0
    stack: list[tuple[int, int, int, int]] = [
        (0, capacity, 0, 0)
    ]  # (item, capacity left, profit, depth of take)
    while stack:
        i, cap, profit, depth = stack.pop()
        del take[depth:]
        nodes += 1
        if nodes > MAX_NODES:
            raise Invalid("knapsack search too large for an exact answer", field="rule")
        if profit > best_profit:
            best_profit, best_set = profit, list(take)
        if i >= n or bound(i, cap, profit) <= best_profit:
            continue
        stack.append((i + 1, cap, profit, depth))  # skip item i (explored after "take")
        if weights[i] <= cap:
            take.append(i)
            stack.append((i + 1, cap - weights[i], profit + profits[i], depth + 1))
    return best_set


def max_welfare(prep: Prepared, sat: SatKind) -> tuple[list[int], list[ProjectNote]]:
    totals = prep.total_sat_q(sat)
    items = [p for p in range(prep.n_projects) if prep.cost_q[p] > 0 and totals[p] > 0]
    scale = 1
    for q in [prep.budget_q, *(prep.cost_q[p] for p in items), *(totals[p] for p in items)]:
        scale = lcm(scale, q.denominator)
    items.sort(key=lambda p: (-(totals[p] / prep.cost_q[p]), prep.rank[p]))
    weights = [int(prep.cost_q[p] * scale) for p in items]
    profits = [int(totals[p] * scale) for p in items]
    chosen = [items[i] for i in _search(weights, profits, int(prep.budget_q * scale))]
    notes = [ProjectNote(p, True, float(prep.cost[p]), stage="knapsack") for p in chosen]
    left = prep.budget_q - sum((prep.cost_q[p] for p in chosen), Fraction(0))
    taken = set(chosen)
    notes += [_unfunded_note(prep, p, totals[p], left) for p in range(prep.n_projects) if p not in taken]
    return chosen, notes


def _unfunded_note(prep: Prepared, p: int, total: Fraction, left: Fraction) -> ProjectNote:
    """Why the optimal set leaves `p` out, exactly: it adds no satisfaction, or it does not fit in what is left.

    A project with positive satisfaction that fits in the leftover budget would make the set strictly better,
    so an optimum never leaves one out; `stage` names the reason ("knapsack-no-support", "knapsack-free":
    cost 0 gives 0 Cost_Sat satisfaction, "knapsack-no-fit": cost > leftover, and then any set with `p` that
    fits the budget has at most the optimum's satisfaction, so the projects dropped for it are worth at least
    as much).
    """
    cost = float(prep.cost[p])
    if total <= 0:
        stage = "knapsack-free" if prep.cost_q[p] == 0 else "knapsack-no-support"
        return ProjectNote(p, False, cost, stage=stage)
    if prep.cost_q[p] <= left:  # impossible for an exact optimum; never claim a reason that is not true
        raise AssertionError(
            f"knapsack optimum leaves out project {p} although it fits and adds satisfaction"
        )
    return ProjectNote(p, False, cost, available=float(left), stage="knapsack-no-fit")
