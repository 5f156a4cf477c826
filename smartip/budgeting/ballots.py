"""Ballot validation, pure (no Django): does a set of choices fit the process's ballot rules?

A ballot is a list of (project_id, value) pairs: value 1 for approval ballots, the points for cumulative
ballots, and for ranking ballots the list order is the ranking (value = position, 1 = first).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from smartip.core.errors import Invalid, gettext_noop

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
        raise Invalid(gettext_noop("unknown ballot kind %(kind)s"), field="kind", kind=repr(rules.kind))
    seen: set[int] = set()
    for project_id, value in choices:
        if project_id not in costs:
            raise Invalid(
                gettext_noop("project %(project)s is not on this ballot"), field="choices", project=project_id
            )
        if project_id in seen:
            raise Invalid(
                gettext_noop("project %(project)s is chosen twice"), field="choices", project=project_id
            )
        seen.add(project_id)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise Invalid(
                gettext_noop("project %(project)s: the value must be a whole number of at least 1"),
                field="choices",
                project=project_id,
            )
    n = len(choices)
    if n == 0:
        raise Invalid(gettext_noop("choose at least one project"), field="choices")
    if n < rules.min_projects:
        raise Invalid(
            gettext_noop("the minimum number of projects is %(minimum)s; you chose %(chosen)s"),
            field="choices",
            minimum=rules.min_projects,
            chosen=n,
        )
    if rules.max_projects is not None and n > rules.max_projects:
        raise Invalid(
            gettext_noop("the maximum number of projects is %(maximum)s; you chose %(chosen)s"),
            field="choices",
            maximum=rules.max_projects,
            chosen=n,
        )
    if rules.kind == APPROVAL_BUDGET:
        spent = sum((costs[p] for p, _ in choices), Decimal(0))
        if spent > rules.budget:
            raise Invalid(
                gettext_noop("your choices cost %(spent)s, more than the budget of %(budget)s"),
                field="choices",
                spent=spent,
                budget=rules.budget,
            )
    if rules.kind in (APPROVAL_BUDGET, APPROVAL_MINMAX, K_APPROVAL):
        return [(p, 1) for p, _ in choices]
    if rules.kind == RANKING:
        return [(p, i + 1) for i, (p, _) in enumerate(choices)]
    return _check_points(rules, choices)


def _check_points(rules: BallotRules, choices: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    total = sum(v for _, v in choices)
    if rules.total_points is not None and total > rules.total_points:
        raise Invalid(
            gettext_noop("you gave %(given)s points; you have %(available)s"),
            field="choices",
            given=total,
            available=rules.total_points,
        )
    cap = rules.max_points_per_project
    if cap is not None and any(v > cap for _, v in choices):
        raise Invalid(gettext_noop("give at most %(cap)s points to one project"), field="choices", cap=cap)
    return list(choices)
