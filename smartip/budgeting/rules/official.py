"""Count a participatory budget the way the city declared it (pabulib META `rule`), to recount real results.

    outcome = count_official(election)                    # the rule in election.meta["rule"]
    outcome = count_official(election, "equalshares/add1") # or a named one (see OFFICIAL_RULES)
    outcome = count_official_pb(pb)                       # a PabulibFile: ranks greedy by its score column

Semantics follow the pabulib checker (pabulib-checker 1.0.8) and the equalshares.net tool: greedy rules in
`official_greedy`, the Method of Equal Shares in `official_mes` (one run) and `official_add1` (the add-one
loop, one compiled run per +1 step: `official_mes_jit`).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Literal

import numpy as np
import numpy.typing as npt

from smartip.budgeting.pabulib import PabulibFile, to_election
from smartip.budgeting.rules.election import Election
from smartip.budgeting.rules.official_add1 import add1_fast
from smartip.budgeting.rules.official_greedy import GreedyStep, count_greedy
from smartip.budgeting.rules.official_mes import ApprovalTypes, MesRun, run
from smartip.core.errors import Invalid

OFFICIAL_RULES: dict[str, str] = {
    "greedy": "Projects by decreasing votes; fund each one that still fits, skip the others.",
    "greedy-threshold": "Greedy over the projects with at least the declared minimum score "
    "(META min_project_score_threshold).",
    "greedy-no-skip": "Projects by decreasing votes; stop at the first one that does not fit.",
    "greedy-poznan": "Poznań: greedy-no-skip, then the first project that did not fit is also funded "
    "(from reserve funds) if the money left covers at least 80% of its cost.",
    "equalshares": "Method of Equal Shares (cost utilities): each voter gets an equal share of the budget; "
    "a project is funded when its supporters can pay for it, the most widely shared first.",
    "equalshares-comparison": "Method of Equal Shares, replaced by the greedy outcome if more voters "
    "prefer the greedy outcome (more of their approved projects funded).",
    "equalshares/add1": "Method of Equal Shares; the per-voter budget starts at budget/voters and rises by "
    "1 while the outcome still fits the real budget (no completion).",
    "equalshares/add1-comparison": "equalshares/add1, then the comparison step against the greedy outcome.",
}
# declared rules counted with a stand-in, and why
STAND_INS: dict[str, str] = {
    "greedy-exclusive": "greedy",  # the exclusion constraints are not in the files
    "greedy-custom": "greedy",  # except Poznań, whose documented 80% rule is greedy-poznan
}

MesStart = Literal["floor", "exact"]


@dataclass(frozen=True)
class ProjectResult:
    """Why a project is (not) funded. Greedy fills `score`/`budget_left`; MES the money figures."""

    project_id: str
    cost: float
    selected: bool
    score: float | None = None
    budget_left: float | None = None  # greedy: money left when the project was considered
    reason: str = ""
    supporters_money: float | None = None  # MES: what its supporters could pay (when chosen / at the end)
    effective_votes: float | None = None  # MES: cost / payment per supporter, when chosen
    payment_per_supporter: float | None = None  # MES: the most one supporter paid
    round: int | None = None  # MES: selection round (1 = first)


@dataclass(frozen=True)
class Outcome:
    rule: str  # the rule actually counted
    selected: tuple[str, ...]  # project ids in the order they were funded
    total_cost: float
    budget: float
    projects: tuple[ProjectResult, ...]  # one per project, in file order
    details: dict[str, object] = field(default_factory=dict)


def declared_rule(election: Election) -> str:
    """The rule to count for a file's META: stand-ins replace rules that cannot be counted literally."""
    rule = election.meta.get("rule", "unknown")
    if rule == "greedy-custom" and election.meta.get("unit") == "Poznań":
        return "greedy-poznan"
    return STAND_INS.get(rule, rule)


def ballot_scores(election: Election) -> list[float]:
    """Per project, the score greedy ranks by, as pabulib files publish it: approvals (approval, choose-1),
    points (cumulative, scoring), or for ordinal ballots Borda points L, L-1, ..., 1 down a ballot of
    length L (the pabulib checker's rule; it matches the `score` column of all 103 ordinal files that have one).
    """
    weights: npt.NDArray[np.float64] | None = None
    if election.ballot_kind in ("cumulative", "scoring"):
        weights = election.entry_score
    elif election.ballot_kind == "ordinal":
        lengths = np.diff(election.voter_ptr)
        voter = np.repeat(np.arange(election.n_voters), lengths)
        position = np.arange(len(election.entry_project)) - election.voter_ptr[voter]
        weights = (lengths[voter] - position).astype(np.float64)
    totals = np.bincount(election.entry_project, weights=weights, minlength=election.n_projects)
    return [float(x) for x in totals]


def count_official(
    election: Election,
    rule: str | None = None,
    *,
    scores: Sequence[float] | None = None,
    mes_start: MesStart = "floor",
    stop_when_exhaustive: bool = False,
) -> Outcome:
    """Count `election` with `rule` (default: the declared one) as the city did.

    `scores` ranks projects for the greedy rules (default: from the ballots). `mes_start`: "floor" starts the
    add-one loop at floor(B/n) (the brief's and equalshares.net's "integral" definition), "exact" at B/n as
    the pabulib checker does; `stop_when_exhaustive` is the tool's "exhaustive" option.
    """
    rule = rule or declared_rule(election)
    if rule not in OFFICIAL_RULES:
        raise Invalid(
            f"unknown or uncountable rule {rule!r}; known: {', '.join(OFFICIAL_RULES)}", field="rule"
        )
    if rule.startswith("greedy"):
        return _count_greedy(election, rule, list(scores) if scores is not None else ballot_scores(election))
    return _count_mes(election, rule, mes_start, stop_when_exhaustive)


def count_official_pb(pb: PabulibFile, rule: str | None = None) -> Outcome:
    """Count a `PabulibFile`, ranking greedy by its PROJECTS `score` (else `votes`) column as the checker does."""
    election = to_election(pb)
    rows = pb.projects
    column = "score" if rows and "score" in rows[0] else "votes" if rows and "votes" in rows[0] else None
    scores = None
    if column and all(column in r for r in rows):
        scores = [float(r[column]) for r in rows]
    return count_official(election, rule, scores=scores)


def _count_greedy(election: Election, rule: str, scores: list[float]) -> Outcome:
    threshold = float(election.meta.get("min_project_score_threshold", 0) or 0)
    costs = [float(c) for c in election.costs]
    steps = count_greedy(
        costs, scores, float(election.budget), threshold=threshold, skip=rule != "greedy-no-skip"
    )
    if rule == "greedy-poznan":
        steps = count_greedy(costs, scores, float(election.budget), threshold=threshold, skip=False)
        steps = _poznan_reserve(steps, costs)
    by_project = {s.project: s for s in steps}
    chosen = [s.project for s in steps if s.selected]
    funded = set(chosen)
    results = tuple(
        ProjectResult(
            election.project_ids[p],
            costs[p],
            p in funded,
            scores[p],
            by_project[p].budget_left,
            by_project[p].reason,
        )
        for p in range(election.n_projects)
    )
    return _outcome(election, rule, chosen, results, {"threshold": threshold})


def _poznan_reserve(steps: list[GreedyStep], costs: list[float]) -> list[GreedyStep]:
    """The first project that did not fit is funded too if the money left covers 80% of its cost."""
    for i, s in enumerate(steps):
        if s.reason == "does not fit":
            if s.budget_left >= 0.8 * costs[s.project]:
                steps[i] = replace(s, selected=True, reason="80% rule")
            break
    return steps


def approval_types(election: Election) -> ApprovalTypes:
    """Voter types of an approval (or choose-1) election, costs floored to integers as the checker does."""
    if election.ballot_kind not in ("approval", "choose-1"):
        raise Invalid(
            f"equal shares is counted on approval ballots, not {election.ballot_kind}", field="vote_type"
        )
    n_voters, n_projects = election.n_voters, election.n_projects
    entries = election.entry_project.astype(np.int64)
    voter = np.repeat(np.arange(n_voters), np.diff(election.voter_ptr))
    packed = np.zeros((n_voters, (n_projects + 7) // 8), dtype=np.uint8)  # one bit per approved project
    np.bitwise_or.at(packed, (voter, entries // 8), (1 << (7 - entries % 8)).astype(np.uint8))
    keys = packed.view(np.dtype((np.void, packed.shape[1])))[:, 0]
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")  # types in order of first appearance, as `group_ballots`
    ballots = np.unpackbits(packed[first[order]], axis=1, count=n_projects).astype(bool)
    weights = counts[order].astype(np.int64)
    supporters = tuple(np.flatnonzero(ballots[:, c]).astype(np.int64) for c in range(n_projects))
    approvals = tuple(int(weights[s].sum()) for s in supporters)
    costs = tuple(math.floor(c) for c in election.costs)
    return ApprovalTypes(n_voters, costs, weights, supporters, approvals)


def _count_mes(election: Election, rule: str, start: MesStart, exhaustive: bool) -> Outcome:
    t = approval_types(election)
    budget, n = math.floor(election.budget), max(1, election.n_voters)
    details: dict[str, object] = {}
    if rule.startswith("equalshares/add1") and sum(t.costs) > budget:
        first = Fraction(budget, n) if start == "exact" else Fraction(budget // n)
        res = add1_fast(t, budget, first, Fraction(budget // n), stop_when_exhaustive=exhaustive)
        mes, per_voter = res.run, res.per_voter
        details["mes_counts"] = res.counts
    else:  # plain MES, or add1 when everything fits anyway (the equalshares.net tool does the same)
        per_voter = Fraction(budget, n)
        mes = run(t, per_voter)
    details["per_voter_budget"] = float(per_voter)
    chosen = list(mes.winners)
    if rule.endswith("comparison"):
        chosen = _comparison_step(t, election, budget, chosen, details)
    results = _mes_results(election, t, mes, set(chosen))
    return _outcome(election, rule, chosen, results, details)


def utilitarian_greedy(t: ApprovalTypes, budget: int) -> list[int]:
    """The comparison step's greedy: by approvals (stable), skip what does not fit."""
    chosen, spent = [], 0
    for c in sorted(range(t.n_projects), key=lambda c: -t.approvals[c]):
        if spent + t.costs[c] <= budget:
            chosen.append(c)
            spent += t.costs[c]
    return chosen


def _comparison_step(
    t: ApprovalTypes, election: Election, budget: int, mes: list[int], details: dict[str, object]
) -> list[int]:
    """Keep MES unless more voters have strictly more approved projects funded by greedy (checker version)."""
    greedy = utilitarian_greedy(t, budget)
    prefer_mes = prefer_greedy = 0
    mes_set, greedy_set = set(mes), set(greedy)
    ptr, entries = election.voter_ptr, election.entry_project
    for v in range(election.n_voters):
        approved = set(entries[ptr[v] : ptr[v + 1]].tolist())
        a, b = len(approved & mes_set), len(approved & greedy_set)
        prefer_mes += a > b
        prefer_greedy += b > a
    details.update(prefer_mes=prefer_mes, prefer_greedy=prefer_greedy, greedy_won=prefer_greedy > prefer_mes)
    return greedy if prefer_greedy > prefer_mes else mes


def _mes_results(
    election: Election, t: ApprovalTypes, mes: MesRun, chosen: set[int]
) -> tuple[ProjectResult, ...]:
    rounds = {w: i for i, w in enumerate(mes.winners)}
    out = []
    for p in range(election.n_projects):
        i = rounds.get(p)
        out.append(
            ProjectResult(
                election.project_ids[p],
                float(election.costs[p]),
                p in chosen,
                score=float(t.approvals[p]),
                supporters_money=mes.money_behind[p],
                effective_votes=mes.eff[i] if i is not None else None,
                payment_per_supporter=mes.payment[i] if i is not None else None,
                round=i + 1 if i is not None else None,
                reason=_mes_reason(p in chosen, i is not None),
            )
        )
    return tuple(out)


def _mes_reason(chosen: bool, mes_winner: bool) -> str:
    if chosen and mes_winner:
        return "funded by its supporters' equal shares"
    if chosen:
        return "funded: the greedy outcome won the comparison step"
    if mes_winner:
        return "won under equal shares, but the greedy outcome won the comparison step"
    return "its supporters could not pay for it"


def _outcome(
    election: Election,
    rule: str,
    chosen: list[int],
    results: tuple[ProjectResult, ...],
    details: dict[str, object],
) -> Outcome:
    ids = tuple(election.project_ids[p] for p in chosen)
    total = float(sum(float(election.costs[p]) for p in chosen))
    return Outcome(rule, ids, total, float(election.budget), results, details)
