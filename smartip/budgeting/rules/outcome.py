"""What every counting rule returns: the selected projects and a cheap per-project explanation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProjectNote:
    """Why one project was or was not funded.

    - greedy: `available` = the budget left when the project was considered (`step` = its rank in the
      greedy order); not funded when `cost > available`.
    - MES: `available` = what the project's supporters could still pay (sum of their remaining budgets)
      in the round it was funded (`step` = that round, `rho` = its affordability: each supporter paid
      min(budget, rho * utility)); for a project not funded, `available` is what its supporters held when
      MES stopped, and `shortfall = cost - available` when that was not enough.
    - Phragmén: `rho` = the maximal voter load after buying the project (for a project not funded: what it
      would have been when the rule stopped, `threshold` = that of the next project in line, `available` =
      the budget left; `stage` says why, see `phragmen._stop_notes`).
    - knapsack, not funded: `stage` says why (see `knapsack._unfunded_note`), `available` = budget left.
    """

    project: int
    selected: bool
    cost: float
    available: float | None = None
    rho: float | None = None
    step: int | None = None
    shortfall: float | None = None
    stage: str = ""  # which part of a pipeline funded it ("mes", "greedy", "zero-cost"), or why not
    threshold: float | None = None  # Phragmén, not funded: the new load of the next project in line


@dataclass(frozen=True)
class Outcome:
    """The result of `count(election, rule)`.

    `selected` holds project indices (into `election.project_ids`) in selection order; `details` has one
    `ProjectNote` per project (selected first, in order, then the others by project index).
    """

    selected: tuple[int, ...]
    total_cost: float
    rule: str
    details: tuple[ProjectNote, ...] = ()
    meta: tuple[tuple[str, float], ...] = ()  # rule-level figures, e.g. ("per_voter_budget", 12.5)

    def selected_ids(self, project_ids: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(project_ids[p] for p in self.selected)
