"""Greedy utilitarian welfare, exactly as pabutools' `greedy_utilitarian_welfare` for additive satisfactions.

Projects are ordered by satisfaction density (total satisfaction / cost; infinite for a supported free
project, 0 for an unsupported one) descending, ties by project id as a string; each project that still fits
in the remaining budget is funded (skip and continue). Densities and the budget are exact rationals.
"""

from __future__ import annotations

from fractions import Fraction

from smartip.budgeting.rules.outcome import ProjectNote
from smartip.budgeting.rules.prepared import Prepared, SatKind

_INF = Fraction(10) ** 400  # above every density a real election can have


def density_order(prep: Prepared, sat: SatKind, exclude: set[int]) -> list[int]:
    """Projects not in `exclude`, best density first, ties by id string (pabutools' order)."""
    totals = prep.total_sat_q(sat)

    def density(p: int) -> Fraction:
        if totals[p] > 0:
            return totals[p] / prep.cost_q[p] if prep.cost_q[p] > 0 else _INF
        return Fraction(0)

    return sorted(
        (p for p in range(prep.n_projects) if p not in exclude), key=lambda p: (-density(p), prep.rank[p])
    )


def greedy(
    prep: Prepared, sat: SatKind, initial: list[int] | None = None, stage: str = "greedy"
) -> tuple[list[int], list[ProjectNote]]:
    """Greedy completion of `initial` (default: nothing). Returns (newly selected, one note per considered project)."""
    chosen = set(initial or [])
    left = prep.budget_q - sum((prep.cost_q[p] for p in chosen), Fraction(0))
    selected: list[int] = []
    notes: list[ProjectNote] = []
    for step, p in enumerate(density_order(prep, sat, chosen)):
        fits = prep.cost_q[p] <= left
        notes.append(
            ProjectNote(
                p, fits, float(prep.cost[p]), available=float(left), step=step, stage=stage if fits else ""
            )
        )
        if fits:
            selected.append(p)
            left -= prep.cost_q[p]
    return selected, notes
