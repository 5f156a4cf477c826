"""The Method of Equal Shares as cities count it (equalshares.net tool, pabulib checker): one fixed-budget run.

Semantics (approval ballots, cost utilities): every voter starts with the same per-voter budget `b`; each
round, every remaining project c with cost > 0 and at least one supporter is checked: if its supporters hold
less money than its cost it is dropped for good, otherwise its cost is split as equally as possible
(`sum_i min(budget_i, p) = cost`) and its *effective vote count* is `cost / p`. The project with the largest
effective vote count wins; ties go to the lower cost, then to more approvals, then to the earlier project in
the file. Supporters pay `min(budget_i, p)`. No completion.

Two implementations share that contract: `run_exact` (rational arithmetic, the definition) and `run_fast`
(numpy floats, voter types); `run_fast` gives up (returns None) whenever a decision is too close to call in
floats, and `run` then falls back to `run_exact`, so `run` is always exact.
"""

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

TOL = 1e-7  # relative margin under which a float decision is "too close to call"


@dataclass(frozen=True)
class ApprovalTypes:
    """Approval ballots grouped by identical ballot: `weights[g]` voters share ballot type g."""

    n_voters: int
    costs: tuple[int, ...]  # per project (integer money, as the checker floors them)
    weights: npt.NDArray[np.int64]  # per voter type
    supporters: tuple[npt.NDArray[np.int64], ...]  # per project: the voter types approving it
    approvals: tuple[int, ...]  # per project: number of approving voters
    supporter_weights: tuple[npt.NDArray[np.float64], ...] = ()  # per project: weights[supporters[c]]

    def __post_init__(self) -> None:
        if not self.supporter_weights:
            object.__setattr__(
                self, "supporter_weights", tuple(self.weights[s].astype(np.float64) for s in self.supporters)
            )

    @property
    def n_projects(self) -> int:
        return len(self.costs)

    def tie_key(self, c: int) -> tuple[int, int, int]:
        """Lower cost first, then more approvals, then earlier in the file."""
        return (self.costs[c], -self.approvals[c], c)

    def selectable(self) -> list[int]:
        """Projects MES can ever select: positive cost and at least one supporter."""
        return [c for c in range(self.n_projects) if self.costs[c] > 0 and self.approvals[c] > 0]


@dataclass
class MesRun:
    """One fixed-budget run: winners in order, with what made each win, and the money left behind."""

    winners: list[int]
    eff: list[float]  # effective vote count of each winner when chosen
    eff_is_int: list[bool]  # True when that count is an integer held exactly in `eff`
    payment: list[float]  # per-supporter payment cap p of each winner
    money_behind: list[float]  # per project: supporters' money when last looked at (winners: when chosen)


def group_ballots(n_projects: int, ballots: list[frozenset[int]], costs: list[int]) -> ApprovalTypes:
    """Group identical approval ballots into weighted voter types."""
    counter: dict[frozenset[int], int] = {}
    for ballot in ballots:
        counter[ballot] = counter.get(ballot, 0) + 1
    types = list(counter)
    weights = np.array([counter[t] for t in types], dtype=np.int64)
    members: list[list[int]] = [[] for _ in range(n_projects)]
    for g, ballot in enumerate(types):
        for c in ballot:
            members[c].append(g)
    supporters = tuple(np.array(m, dtype=np.int64) for m in members)
    approvals = tuple(int(weights[s].sum()) for s in supporters)
    return ApprovalTypes(len(ballots), tuple(costs), weights, supporters, approvals)


def _share_exact(cost: int, budgets: list[tuple[Fraction, int]]) -> Fraction:
    """Max payment p with sum w*min(b, p) = cost over (budget, weight) pairs sorted by budget."""
    paid, denom = Fraction(0), sum(w for _, w in budgets)
    for b, w in budgets:
        p = (cost - paid) / denom
        if p > b:
            paid += b * w
            denom -= w
        else:
            return p
    raise AssertionError("unaffordable project reached the share computation")


def run_exact(t: ApprovalTypes, per_voter: Fraction) -> MesRun:
    """The definition, in rational arithmetic (slow; the reference for everything else)."""
    budget = [Fraction(per_voter)] * len(t.weights)
    weights = [int(w) for w in t.weights]
    sup = [[int(g) for g in s] for s in t.supporters]
    remaining = {c: Fraction(t.approvals[c]) for c in t.selectable()}
    money_behind = [0.0] * t.n_projects
    out = MesRun([], [], [], [], money_behind)
    while True:
        best: list[int] = []
        best_eff = Fraction(0)
        for c in sorted(remaining, key=lambda c: -remaining[c]):
            if remaining[c] < best_eff:
                break
            money = sum(budget[g] * weights[g] for g in sup[c])
            money_behind[c] = float(money)
            if money < t.costs[c]:
                del remaining[c]
                continue
            p = _share_exact(t.costs[c], sorted((budget[g], weights[g]) for g in sup[c]))
            eff = t.costs[c] / p
            remaining[c] = eff
            if eff > best_eff:
                best, best_eff = [c], eff
            elif eff == best_eff:
                best.append(c)
        if not best:
            return out
        win = min(best, key=t.tie_key)
        p = t.costs[win] / best_eff
        for g in sup[win]:
            budget[g] = budget[g] - p if budget[g] > p else Fraction(0)
        del remaining[win]
        out.winners.append(win)
        out.eff.append(float(best_eff))
        out.eff_is_int.append(best_eff.denominator == 1)
        out.payment.append(float(p))


class _TooClose(Exception):
    """A float decision was within TOL of its threshold: recount exactly."""


def money(b: npt.NDArray[np.float64], w: npt.NDArray[np.float64]) -> float:
    """Supporters' money, sum of b * w (elementwise: BLAS dot products stall on a busy machine)."""
    return float(np.multiply(b, w).sum())


def share_float(
    cost: float, b: npt.NDArray[np.float64], w: npt.NDArray[np.float64]
) -> tuple[float, float, bool]:
    """(p, eff, eff_is_int) for one affordable project; supporters' budgets b with weights w.

    p solves sum w * min(b, p) = cost. Everyone with money below the current estimate (cost - paid) / k
    must pay all they have (the estimate only rises), so re-estimating with them paying everything reaches
    p in a few vectorised passes; a sort settles the rare cases that take longer.
    """
    total = float(w.sum())  # whole numbers: exact in floats
    p = cost / total
    if b.min() >= p:  # nobody is short of money: the plain equal split
        return p, float(total), True
    bw = b * w
    short_before = -1
    for _ in range(12):
        short = b < p
        n_short = int(np.count_nonzero(short))
        if n_short == short_before:
            break
        short_before = n_short
        paid = float(bw[short].sum())
        k = total - float(w[short].sum())
        if k <= 0:
            return _share_sorted(cost, b, w)
        p = (cost - paid) / k
    else:
        return _share_sorted(cost, b, w)
    if paid == 0.0:  # everyone short of money had nothing left: an exact integer count
        return cost / k, float(k), True
    return p, cost / p, False


def _share_sorted(
    cost: float, b: npt.NDArray[np.float64], w: npt.NDArray[np.float64]
) -> tuple[float, float, bool]:
    order = np.argsort(b)
    bs, ws = b[order], w[order]
    paid = bs * ws
    paid_before = np.cumsum(paid) - paid
    denom = float(w.sum()) - np.cumsum(ws) + ws
    p_try = (cost - paid_before) / denom
    fits = p_try <= bs
    j = int(np.argmax(fits)) if fits.any() else len(bs) - 1  # the last one always fits, up to rounding
    if paid_before[j] == 0.0:
        return cost / float(denom[j]), float(denom[j]), True
    p = float(p_try[j])
    return p, cost / p, False


def _pick(t: ApprovalTypes, cands: list[tuple[int, float, bool, float]]) -> tuple[int, float, bool, float]:
    """Best (project, eff, is_int, p) among evaluated ones; raises _TooClose on a near tie in floats."""
    top = max(cands, key=lambda x: x[1])
    tied = [x for x in cands if x[1] >= top[1] * (1 - TOL)]
    if len(tied) > 1:
        if not all(x[2] for x in tied):
            raise _TooClose
        tied = [x for x in tied if x[1] == top[1]]
    return min(tied, key=lambda x: t.tie_key(x[0]))


def run_fast(t: ApprovalTypes, per_voter: Fraction, prefix: Sequence[int] = ()) -> MesRun | None:
    """The same run in floats over voter types; None when some decision is too close to call.

    `prefix`: winners of the first rounds, known (proved) for this budget: they are paid for without
    looking at the other projects, and the count goes on from there.
    """
    try:
        return _run_float(t, per_voter, prefix)
    except _TooClose:
        return None


def _run_float(t: ApprovalTypes, per_voter: Fraction, prefix: Sequence[int]) -> MesRun:
    exact_start = per_voter.denominator == 1
    budget = np.full(len(t.weights), float(per_voter))
    exact = np.full(len(t.weights), exact_start)  # budget value known to be exact in floats
    remaining = {c: float(t.approvals[c]) for c in t.selectable()}
    out = MesRun([], [], [], [], [0.0] * t.n_projects)
    for win in prefix:
        s = t.supporters[win]
        out.money_behind[win] = money(budget[s], t.supporter_weights[win])
        p, eff, is_int = share_float(float(t.costs[win]), budget[s], t.supporter_weights[win])
        _pay(t, budget, exact, win, p, is_int)
        del remaining[win]
        out.winners.append(win)
        out.eff.append(eff)
        out.eff_is_int.append(is_int)
        out.payment.append(p)
    heap = [(-bound, c) for c, bound in remaining.items()]  # lazy: counts only fall, bounds stay valid
    heapq.heapify(heap)
    while heap:
        cands = _evaluate_round(t, budget, exact, heap, out.money_behind)
        if not cands:
            break
        win, eff, is_int, p = _pick(t, cands)
        for c, c_eff, _, _ in cands:
            if c != win:
                heapq.heappush(heap, (-c_eff, c))
        _pay(t, budget, exact, win, p, is_int)
        out.winners.append(win)
        out.eff.append(eff)
        out.eff_is_int.append(is_int)
        out.payment.append(p)
    return out


def _evaluate_round(
    t: ApprovalTypes,
    budget: npt.NDArray[np.float64],
    exact: npt.NDArray[np.bool_],
    heap: list[tuple[float, int]],
    money_behind: list[float],
) -> list[tuple[int, float, bool, float]]:
    """Pop and evaluate every project whose bound may reach the best count; drop the unaffordable ones."""
    cands: list[tuple[int, float, bool, float]] = []
    best_eff = 0.0
    while heap and -heap[0][0] >= best_eff * (1 - TOL):
        _, c = heapq.heappop(heap)
        s = t.supporters[c]
        bs, ws = budget[s], t.supporter_weights[c]
        money_c = money(bs, ws)
        money_behind[c] = money_c
        cost = t.costs[c]
        if money_c < cost:
            if money_c < cost * (1 - TOL) or exact[s].all():
                continue  # dropped for good
            raise _TooClose
        if money_c < cost * (1 + TOL) and not exact[s].all():
            raise _TooClose
        p, eff, is_int = share_float(float(cost), bs, ws)
        cands.append((c, eff, is_int, p))
        best_eff = max(best_eff, eff)
    return cands


def _pay(
    t: ApprovalTypes,
    budget: npt.NDArray[np.float64],
    exact: npt.NDArray[np.bool_],
    win: int,
    p: float,
    is_int: bool,
) -> None:
    """Supporters of `win` pay min(budget, p); exact comparisons where the numbers allow it."""
    s = t.supporters[win]
    bs = budget[s]
    if is_int and exact[s].all():
        denom = round(t.costs[win] / p)
        zero = bs * denom <= t.costs[win]  # exact: integers below 2**53
    else:
        gap = bs - p
        if np.any((np.abs(gap) <= TOL * p) & (bs > 0)):
            raise _TooClose
        zero = gap <= 0
    new = np.where(zero, 0.0, bs - p)
    budget[s] = new
    exact[s] = zero


def run(t: ApprovalTypes, per_voter: Fraction, prefix: Sequence[int] = ()) -> MesRun:
    """The exact outcome: the float run when every decision is clear, else the rational one."""
    fast = run_fast(t, per_voter, prefix)
    return fast if fast is not None else run_exact(t, per_voter)
