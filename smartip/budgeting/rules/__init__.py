"""Participatory-budgeting counting rules (pure numpy core; outcomes equal pabutools 1.2.3's).

    from smartip.budgeting.rules import count, RULES
    outcome = count(election, "mes-add1-greedy")
    outcome.selected_ids(election.project_ids)   # pabulib ids, in selection order
    outcome.details                              # one ProjectNote per project: why (not) funded

Every rule breaks ties like pabutools' default (`lexico_tie_breaking`): by project id compared as a string
("10" < "9"), and decides with exact rationals (floats for speed, exact settling of close calls).

Rule x ballot kind (pabutools semantics; "approval-like" = approval, choose-1, cumulative, ordinal, scoring,
where Cost_Sat / Cardinality_Sat read a ballot as the set of projects it lists, so ordinal ranks and
cumulative points are ignored by those rules):
- greedy, greedy-card, mes, mes-card, mes-add1, mes-add1-greedy, knapsack: approval-like ballots;
- greedy-score, mes-score (Additive_Cardinal_Sat, the points): cumulative / scoring only (pabutools
  refuses that satisfaction for other ballots);
- phragmen: approval / choose-1 only (pabutools raises for other profiles).
Not implemented: Borda-type satisfactions for ordinal ballots, irresolute outcomes, other tie-breakings.
MES needs integer scores and integer voter weights (multiplicities) to count exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from smartip.budgeting.rules.election import Election
from smartip.budgeting.rules.greedy import greedy
from smartip.budgeting.rules.knapsack import max_welfare
from smartip.budgeting.rules.mes import MesResult, method_of_equal_shares
from smartip.budgeting.rules.mes_add1 import exhaustive, mes_add1
from smartip.budgeting.rules.outcome import Outcome, ProjectNote
from smartip.budgeting.rules.phragmen import sequential_phragmen
from smartip.budgeting.rules.prepared import Prepared, SatKind, prepare
from smartip.core.errors import Invalid

__all__ = ["RULES", "Election", "Outcome", "ProjectNote", "RuleInfo", "count"]

APPROVAL_LIKE = frozenset({"approval", "choose-1", "cumulative", "ordinal", "scoring"})
SCORED = frozenset({"cumulative", "scoring"})


@dataclass(frozen=True)
class RuleInfo:
    name: str
    description: str
    ballots: frozenset[str]  # ballot kinds the rule is defined for
    run: Callable[[Prepared], tuple[list[int], list[ProjectNote], tuple[tuple[str, float], ...]]]


def _greedy(
    sat: SatKind,
) -> Callable[[Prepared], tuple[list[int], list[ProjectNote], tuple[tuple[str, float], ...]]]:
    def run(prep: Prepared) -> tuple[list[int], list[ProjectNote], tuple[tuple[str, float], ...]]:
        selected, notes = greedy(prep, sat)
        return selected, notes, ()

    return run


def _mes_notes(prep: Prepared, res: MesResult, stage: str = "mes") -> list[ProjectNote]:
    notes = [ProjectNote(p, True, float(prep.cost[p]), stage="zero-cost") for p in res.upfront]
    for step, r in enumerate(res.rounds):
        notes.append(
            ProjectNote(r.project, True, r.cost, available=r.available, rho=r.rho, step=step, stage=stage)
        )
    chosen = set(res.selected)
    for p in range(prep.n_projects):
        if p not in chosen:
            left = float(res.money_left[p]) if res.money_left is not None else float("nan")
            short = max(float(prep.cost[p]) - left, 0.0)
            notes.append(ProjectNote(p, False, float(prep.cost[p]), available=left, shortfall=short))
    return notes


def _mes(
    sat: SatKind,
) -> Callable[[Prepared], tuple[list[int], list[ProjectNote], tuple[tuple[str, float], ...]]]:
    def run(prep: Prepared) -> tuple[list[int], list[ProjectNote], tuple[tuple[str, float], ...]]:
        res = method_of_equal_shares(prep, sat)
        return res.selected, _mes_notes(prep, res), (("per_voter_budget", float(res.per_voter_budget)),)

    return run


def _add1(prep: Prepared) -> tuple[list[int], list[ProjectNote], tuple[tuple[str, float], ...]]:
    res, runs = mes_add1(prep, "cost")
    return (
        res.selected,
        _mes_notes(prep, res),
        (("per_voter_budget", float(res.per_voter_budget)), ("runs", runs)),
    )


def _add1_greedy(prep: Prepared) -> tuple[list[int], list[ProjectNote], tuple[tuple[str, float], ...]]:
    res, runs = mes_add1(prep, "cost")
    meta = (("per_voter_budget", float(res.per_voter_budget)), ("runs", float(runs)))
    notes = _mes_notes(prep, res)
    if exhaustive(prep, res.selected):
        return res.selected, notes, meta
    extra, gnotes = greedy(prep, "cost", res.selected)
    by_project = {n.project: n for n in gnotes if n.selected}
    notes = [by_project.get(n.project, n) for n in notes]
    return res.selected + extra, notes, meta


def _phragmen(prep: Prepared) -> tuple[list[int], list[ProjectNote], tuple[tuple[str, float], ...]]:
    selected, notes = sequential_phragmen(prep)
    return selected, notes, ()


def _knapsack(prep: Prepared) -> tuple[list[int], list[ProjectNote], tuple[tuple[str, float], ...]]:
    selected, notes = max_welfare(prep, "cost")
    return selected, notes, ()


RULES: dict[str, RuleInfo] = {
    r.name: r
    for r in [
        RuleInfo(
            "greedy",
            "Greedy by votes: most supporters per unit of cost first (pabutools Cost_Sat greedy), "
            "skipping projects that no longer fit",
            APPROVAL_LIKE,
            _greedy("cost"),
        ),
        RuleInfo(
            "greedy-card",
            "Greedy by supporters per unit of cost (Cardinality_Sat)",
            APPROVAL_LIKE,
            _greedy("card"),
        ),
        RuleInfo(
            "greedy-score",
            "Greedy by points per unit of cost (Additive_Cardinal_Sat)",
            SCORED,
            _greedy("score"),
        ),
        RuleInfo(
            "mes",
            "Method of Equal Shares, utility = cost of approved projects (Cost_Sat)",
            APPROVAL_LIKE,
            _mes("cost"),
        ),
        RuleInfo(
            "mes-card",
            "Method of Equal Shares, utility = 1 per approved project (Cardinality_Sat)",
            APPROVAL_LIKE,
            _mes("card"),
        ),
        RuleInfo(
            "mes-score",
            "Method of Equal Shares, utility = points given (Additive_Cardinal_Sat)",
            SCORED,
            _mes("score"),
        ),
        RuleInfo(
            "mes-add1",
            "Method of Equal Shares with the Add-1 completion (per-voter budget raised by 1 "
            "until the outcome is exhaustive)",
            APPROVAL_LIKE,
            _add1,
        ),
        RuleInfo(
            "mes-add1-greedy",
            "Method of Equal Shares, Add-1 completion, then greedy by votes "
            "(equalshares.net's full pipeline)",
            APPROVAL_LIKE,
            _add1_greedy,
        ),
        RuleInfo(
            "phragmen",
            "Sequential Phragmén (approval ballots)",
            frozenset({"approval", "choose-1"}),
            _phragmen,
        ),
        RuleInfo(
            "knapsack", "Maximum utilitarian welfare (Cost_Sat), exact knapsack", APPROVAL_LIKE, _knapsack
        ),
    ]
}


def count(election: Election, rule: str) -> Outcome:
    """Count `election` with `rule` (a key of RULES). Raises Invalid for an unknown rule or ballot kind."""
    info = RULES.get(rule)
    if info is None:
        raise Invalid(f"unknown rule {rule!r}; known: {', '.join(RULES)}", field="rule")
    if election.ballot_kind not in info.ballots:
        raise Invalid(f"rule {rule!r} is not defined for {election.ballot_kind} ballots", field="rule")
    prep = prepare(election)
    selected, notes, meta = info.run(prep)
    chosen = set(selected)
    order = {p: i for i, p in enumerate(selected)}
    notes = sorted(notes, key=lambda n: (0, order[n.project]) if n.project in chosen else (1, n.project))
    total = float(sum((prep.cost_q[p] for p in selected), Fraction(0)))
    return Outcome(
        tuple(int(p) for p in selected), total, rule, tuple(notes), tuple((k, float(v)) for k, v in meta)
    )
