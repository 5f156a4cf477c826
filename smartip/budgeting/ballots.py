"""Ballot validation, pure (no Django): does a set of choices fit the process's ballot rules?

A ballot is a list of (project_id, value) pairs: value 1 for approval ballots, the points for cumulative
ballots, and for ranking ballots the list order is the ranking (value = position, 1 = first).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from smartip.core.errors import Invalid

APPROVAL_BUDGET = "approval_budget"
APPROVAL_MINMAX = "approval_minmax"
K_APPROVAL = "k_approval"
CUMULATIVE = "cumulative"
RANKING = "ranking"
KINDS = (APPROVAL_BUDGET, APPROVAL_MINMAX, K_APPROVAL, CUMULATIVE, RANKING)


@dataclass(frozen=True)
class BallotRules:
    kind: str
    budget: Decimal
    min_projects: int = 0
    max_projects: int | None = None
    total_points: int | None = None
    max_points_per_project: int | None = None


def validate_choices(
    rules: BallotRules, costs: Mapping[int, Decimal], choices: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Return the normalised choices, or raise Invalid naming the field and the reason."""
    if rules.kind not in KINDS:
        raise Invalid(f"unknown ballot kind {rules.kind!r}", field="kind")
    seen: set[int] = set()
    for project_id, value in choices:
        if project_id not in costs:
            raise Invalid(f"project {project_id} is not on this ballot", field="choices")
        if project_id in seen:
            raise Invalid(f"project {project_id} is chosen twice", field="choices")
        seen.add(project_id)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise Invalid(
                f"project {project_id}: the value must be a whole number of at least 1", field="choices"
            )
    n = len(choices)
    if n == 0:
        raise Invalid("choose at least one project", field="choices")
    if n < rules.min_projects:
        raise Invalid(f"choose at least {rules.min_projects} projects (you chose {n})", field="choices")
    if rules.max_projects is not None and n > rules.max_projects:
        raise Invalid(f"choose at most {rules.max_projects} projects (you chose {n})", field="choices")
    if rules.kind == APPROVAL_BUDGET:
        spent = sum((costs[p] for p, _ in choices), Decimal(0))
        if spent > rules.budget:
            raise Invalid(
                f"your choices cost {spent}, more than the budget of {rules.budget}", field="choices"
            )
    if rules.kind in (APPROVAL_BUDGET, APPROVAL_MINMAX, K_APPROVAL):
        return [(p, 1) for p, _ in choices]
    if rules.kind == RANKING:
        return [(p, i + 1) for i, (p, _) in enumerate(choices)]
    return _check_points(rules, choices)


def _check_points(rules: BallotRules, choices: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    total = sum(v for _, v in choices)
    if rules.total_points is not None and total > rules.total_points:
        raise Invalid(f"you gave {total} points; you have {rules.total_points}", field="choices")
    cap = rules.max_points_per_project
    if cap is not None and any(v > cap for _, v in choices):
        raise Invalid(f"give at most {cap} points to one project", field="choices")
    return list(choices)
