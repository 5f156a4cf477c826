"""The greedy rules cities declare in pabulib files, as the pabulib checker (v1.0.8) verifies them.

Projects are taken in decreasing order of their score (ties keep the file order: a stable sort); money is
compared as the checker does (`budget_left >= cost`).
- greedy: fund every project that still fits, skip the others and go on;
- greedy-threshold: the same, over the projects whose score is >= `min_project_score_threshold`;
- greedy-no-skip: stop at the first project that does not fit (a withdrawn project, cost 999999999, is
  passed over without stopping).
A declared threshold applies to every variant, as in the checker.
"""

from collections.abc import Sequence
from dataclasses import dataclass

SENTINEL_COST = 999_999_999  # pabulib marks a withdrawn project with this cost


@dataclass(frozen=True)
class GreedyStep:
    project: int  # index into the election's projects
    score: float
    budget_left: float  # money left when the project was considered
    selected: bool
    reason: str  # "fits", "does not fit", "below threshold", "after stop", "withdrawn"


def greedy_order(scores: Sequence[float]) -> list[int]:
    """Indices by decreasing score, ties in file order."""
    return sorted(range(len(scores)), key=lambda p: -scores[p])


def count_greedy(
    costs: Sequence[float],
    scores: Sequence[float],
    budget: float,
    *,
    threshold: float = 0,
    skip: bool = True,
) -> list[GreedyStep]:
    """One step per project, in the order considered; `skip=False` is greedy-no-skip."""
    steps: list[GreedyStep] = []
    left, stopped = float(budget), False
    for p in greedy_order(scores):
        cost, score = float(costs[p]), scores[p]
        if score < threshold:
            reason = "below threshold"
        elif stopped:
            reason = "after stop"
        elif not skip and cost == SENTINEL_COST:
            reason = "withdrawn"
        elif left >= cost:
            steps.append(GreedyStep(p, score, left, True, "fits"))
            left -= cost
            continue
        else:
            reason = "does not fit"
            stopped = not skip
        steps.append(GreedyStep(p, score, left, False, reason))
    return steps
