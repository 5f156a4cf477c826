"""One entry point over both families of counting rules (pure, no Django):

- the pabutools-compatible rules (`smartip.budgeting.rules.count`): greedy, greedy-card, mes, mes-card,
  mes-add1, mes-add1-greedy, phragmen, knapsack — outcomes identical to pabutools;
- the rules cities declare in pabulib files (`smartip.budgeting.rules.official`): greedy-no-skip,
  greedy-threshold, equalshares, equalshares/add1, … — outcomes identical to the published winners.
  They are named here with the prefix "official:" where a name exists in both families ("official:greedy").
"""

import time
from dataclasses import dataclass, field
from typing import Any

from smartip.budgeting.rules.election import Election
from smartip.core.errors import Invalid

PABUTOOLS_RULES = (
    "greedy",
    "greedy-card",
    "greedy-score",
    "mes",
    "mes-card",
    "mes-score",
    "mes-add1",
    "mes-add1-greedy",
    "phragmen",
    "knapsack",
)


def official_rule_names() -> tuple[str, ...]:
    from smartip.budgeting.rules.official import OFFICIAL_RULES

    return tuple(name if name not in PABUTOOLS_RULES else f"official:{name}" for name in OFFICIAL_RULES)


def all_rule_names() -> tuple[str, ...]:
    return (*PABUTOOLS_RULES, *official_rule_names(), "official")


@dataclass(frozen=True)
class CountResult:
    rule: str
    selected: tuple[str, ...]  # project ids in the order they were funded
    total_cost: float
    budget: float
    duration_s: float
    explanations: dict[str, dict[str, Any]] = field(default_factory=dict)  # project id -> why

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "selected": list(self.selected),
            "total_cost": self.total_cost,
            "budget": self.budget,
            "duration_s": round(self.duration_s, 6),
            "explanations": self.explanations,
        }


def count(election: Election, rule: str) -> CountResult:
    """Count `election` with `rule` ("official" = the rule the file's META declares)."""
    started = time.perf_counter()
    if rule in PABUTOOLS_RULES:
        from smartip.budgeting.rules import count as count_pabutools

        out = count_pabutools(election, rule)
        ids = election.project_ids
        explanations = {ids[n.project]: _note(n) for n in out.details}
        selected, total, name = out.selected_ids(ids), float(out.total_cost), out.rule
    elif rule == "official" or rule.removeprefix("official:") in _official():
        from smartip.budgeting.rules.official import count_official

        official = count_official(election, None if rule == "official" else rule.removeprefix("official:"))
        explanations = {
            p.project_id: {k: v for k, v in p.__dict__.items() if v not in (None, "")}
            for p in official.projects
        }
        selected, total, name = official.selected, official.total_cost, official.rule
    else:
        raise Invalid(f"unknown rule {rule!r}; choose one of {', '.join(all_rule_names())}", field="rule")
    return CountResult(
        rule=name,
        selected=tuple(selected),
        total_cost=total,
        budget=float(election.budget),
        duration_s=time.perf_counter() - started,
        explanations=explanations,
    )


def _official() -> dict[str, str]:
    from smartip.budgeting.rules.official import OFFICIAL_RULES

    return OFFICIAL_RULES


def _note(note: Any) -> dict[str, Any]:
    return {k: v for k, v in note.__dict__.items() if k != "project" and v not in (None, "")}
