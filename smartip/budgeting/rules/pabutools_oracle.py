"""pabutools as the reference oracle for our counting rules (tests and benchmarks only).

This module is the single place that says which pabutools call each of our rule names means. It imports
pabutools lazily, so the production rules never depend on it. Outcomes are lists of project ids (strings),
in pabutools' selection order.
"""

from __future__ import annotations

from typing import Any

# rule name -> ballot kinds (pabulib vote_type) the rule is defined for
RULE_BALLOTS: dict[str, frozenset[str]] = {
    "greedy": frozenset({"approval", "choose-1", "cumulative", "ordinal"}),
    "greedy-card": frozenset({"approval", "choose-1", "cumulative", "ordinal"}),
    "greedy-score": frozenset({"cumulative", "scoring"}),
    "mes": frozenset({"approval", "choose-1", "cumulative", "ordinal"}),
    "mes-card": frozenset({"approval", "choose-1", "cumulative", "ordinal"}),
    "mes-score": frozenset({"cumulative", "scoring"}),
    "mes-add1": frozenset({"approval", "choose-1", "cumulative", "ordinal"}),
    "mes-add1-greedy": frozenset({"approval", "choose-1", "cumulative", "ordinal"}),
    "phragmen": frozenset({"approval", "choose-1"}),
    "knapsack": frozenset({"approval", "choose-1", "cumulative", "ordinal"}),
}


def _sat(name: str) -> Any:
    from pabutools.election import Additive_Cardinal_Sat, Cardinality_Sat, Cost_Sat

    return {"cost": Cost_Sat, "card": Cardinality_Sat, "score": Additive_Cardinal_Sat}[name]


def pabutools_count(instance: Any, profile: Any, rule: str) -> list[str]:
    """Count `rule` with pabutools on a parsed (instance, profile); return the selected project ids.

    `profile` may be a plain profile or a multiprofile (pabutools gives the same outcome for both).
    """
    from pabutools import rules as pr

    if rule == "greedy":
        out = pr.greedy_utilitarian_welfare(instance, profile, sat_class=_sat("cost"))
    elif rule == "greedy-card":
        out = pr.greedy_utilitarian_welfare(instance, profile, sat_class=_sat("card"))
    elif rule == "greedy-score":
        out = pr.greedy_utilitarian_welfare(instance, profile, sat_class=_sat("score"))
    elif rule == "mes":
        out = pr.method_of_equal_shares(instance, profile, sat_class=_sat("cost"))
    elif rule == "mes-card":
        out = pr.method_of_equal_shares(instance, profile, sat_class=_sat("card"))
    elif rule == "mes-score":
        out = pr.method_of_equal_shares(instance, profile, sat_class=_sat("score"))
    elif rule == "mes-add1":
        out = pr.method_of_equal_shares(instance, profile, sat_class=_sat("cost"), voter_budget_increment=1)
    elif rule == "mes-add1-greedy":
        out = pr.completion_by_rule_combination(
            instance,
            profile,
            [pr.method_of_equal_shares, pr.greedy_utilitarian_welfare],
            [{"sat_class": _sat("cost"), "voter_budget_increment": 1}, {"sat_class": _sat("cost")}],
        )
    elif rule == "phragmen":
        out = pr.sequential_phragmen(instance, profile)
    elif rule == "knapsack":
        # the default primal/dual solver crashes (IndexError) on some instances: use the ILP (PuLP + CBC)
        out = pr.max_additive_utilitarian_welfare(
            instance, profile, sat_class=_sat("cost"), inner_algo=pr.MaxAddUtilWelfareAlgo.ILP_SOLVER
        )
    else:
        raise ValueError(f"unknown rule {rule!r}")
    return [p.name for p in out]
