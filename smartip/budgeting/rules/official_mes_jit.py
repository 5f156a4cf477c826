"""Compiled fixed-budget MES runs (numba) for the add-one loop: one run per integer per-voter budget.

Why compiled: the add-one loop needs the outcome at every budget base + 1, base + 2, ... and in most real
elections neighbouring budgets differ in outcome often (Toulouse 2022: 680 different outcomes in 1619 steps;
the winner and the runner-up of a round are usually closer than what one more unit of budget changes), so
proofs that an outcome holds over a stretch of budgets rarely get far there, and one numpy run per step spends
its time on call overhead over short arrays (3 ms a run for Toulouse). The same run as a loop over voter types
takes tens of microseconds, and `walk_steps` runs the loop itself. Compiled once per machine and cached
(``cache=True``); :mod:`official_add1` imports this module lazily.

Contract: `run_winners` makes the decisions of `official_mes._run_float` (same lazy bounds, margins `TOL`,
exactness flags and tie order) and reports a decision too close to call in floats (status 1) instead of
raising; the caller then counts that budget with `official_mes.run` (exact). Sums run in a different order
than numpy's, which moves floats by a few ulps: that is far inside the margins, and every comparison made
without a margin is between whole numbers held exactly (as in `official_mes`).

Reuse between budgets: `hint` (the previous budget's winners) is evaluated first in each round, so the best
count is known early and fewer rivals need evaluating; every project whose bound reaches the best count is
still evaluated, so the outcome does not depend on the hint.
"""

import numpy as np
import numpy.typing as npt
from numba import njit

from smartip.budgeting.rules.official_mes import TOL, ApprovalTypes

_jit = njit(cache=True, nogil=True, boundscheck=False)

OK, TOO_CLOSE = 0, 1
# why `walk` returned
STOPS, OVERSPENT, EXACT, PROVE, LIMIT = 0, 1, 2, 3, 4


class CompiledTypes:
    """The arrays the compiled run reads: supporter lists concatenated (CSR), costs, tie ranks."""

    def __init__(self, t: ApprovalTypes) -> None:
        lens = np.array([len(s) for s in t.supporters], dtype=np.int64)
        self.ptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        self.idx = np.concatenate([*t.supporters, np.zeros(0, np.int64)]).astype(np.int64)
        self.w = np.concatenate([*t.supporter_weights, np.zeros(0)]).astype(np.float64)
        self.cost = np.array(t.costs, dtype=np.float64)
        self.total = np.array(t.approvals, dtype=np.float64)
        order = sorted(range(t.n_projects), key=t.tie_key)
        self.rank = np.empty(t.n_projects, dtype=np.int64)
        self.rank[order] = np.arange(t.n_projects)
        self.selectable = np.zeros(t.n_projects, dtype=np.bool_)
        self.selectable[t.selectable()] = True
        self.n_types = len(t.weights)

    def run(self, per_voter: int, hint: npt.NDArray[np.int64]) -> tuple[int, npt.NDArray[np.int64]]:
        """(status, winners) of the run at an integer per-voter budget; status TOO_CLOSE: count it exactly."""
        winners = np.empty(self.cost.size, dtype=np.int64)
        status, n = run_winners(
            float(per_voter), self.ptr, self.idx, self.w, self.cost, self.total, self.rank, self.selectable,
            self.n_types, hint, winners,
        )  # fmt: skip
        return int(status), winners[:n]

    def walk(
        self,
        x_first: int,
        x_last: int,
        kept: npt.NDArray[np.int64],
        rule: tuple[int, bool],
        streak: int,
        patience: int,
    ) -> tuple[int, int, npt.NDArray[np.int64], int]:
        """The add-one loop over x_first..x_last without leaving compiled code: (why, steps kept, kept, streak).

        `rule` is (budget B, stop when exhaustive). Returns STOPS (the kept outcome ends the loop), OVERSPENT
        (the next budget's outcome costs more than B), EXACT (the next budget is too close to call: count it
        exactly), PROVE (the outcome stayed the same for `patience` steps) or LIMIT (x_last reached).
        """
        buf = np.empty(self.cost.size, dtype=np.int64)
        buf[: kept.size] = kept
        costs = self.cost.astype(np.int64)
        why, steps, n_kept, streak = walk_steps(
            x_first, x_last, buf, kept.size, rule[0], rule[1], streak, patience, costs,
            self.ptr, self.idx, self.w, self.cost, self.total, self.rank, self.selectable, self.n_types,
        )  # fmt: skip
        return int(why), int(steps), buf[:n_kept].copy(), int(streak)


@_jit
def walk_steps(
    x_first: int,
    x_last: int,
    kept: npt.NDArray[np.int64],
    n_kept: int,
    budget: int,
    exhaustive: bool,
    streak: int,
    patience: int,
    costs: npt.NDArray[np.int64],
    ptr: npt.NDArray[np.int64],
    idx: npt.NDArray[np.int64],
    w: npt.NDArray[np.float64],
    cost: npt.NDArray[np.float64],
    total: npt.NDArray[np.float64],
    rank: npt.NDArray[np.int64],
    selectable: npt.NDArray[np.bool_],
    n_types: int,
) -> tuple[int, int, int, int]:
    """`CompiledTypes.walk`: (why, steps kept, winners kept, streak); `kept` is updated in place."""
    n_selectable = int(selectable.sum())
    nxt = np.empty(cost.size, dtype=np.int64)
    steps, x = 0, x_first
    while True:
        if _stops(kept[:n_kept], costs, n_selectable, budget, exhaustive):
            return STOPS, steps, n_kept, streak
        if x > x_last:
            return LIMIT, steps, n_kept, streak
        if streak >= patience:
            return PROVE, steps, n_kept, streak
        status, n = run_winners(
            float(x), ptr, idx, w, cost, total, rank, selectable, n_types, kept[:n_kept], nxt
        )
        if status != OK:
            return EXACT, steps, n_kept, streak
        spent = 0
        for i in range(n):
            spent += costs[nxt[i]]
        if spent > budget:
            return OVERSPENT, steps, n_kept, streak
        same = n == n_kept
        for i in range(n):
            same = same and nxt[i] == kept[i]
            kept[i] = nxt[i]
        streak = streak + 1 if same else 0
        n_kept, steps, x = n, steps + 1, x + 1


@_jit
def _stops(
    kept: npt.NDArray[np.int64],
    costs: npt.NDArray[np.int64],
    n_selectable: int,
    budget: int,
    exhaustive: bool,
) -> bool:
    """`official_add1._Stop.stops`: everything fundable is funded, or (exhaustive) nothing else fits."""
    if kept.size == n_selectable:
        return True
    if not exhaustive:
        return False
    chosen = np.zeros(costs.size, dtype=np.bool_)
    left = budget
    for c in kept:
        chosen[c] = True
        left -= costs[c]
    for c in range(costs.size):  # noqa: SIM110 (numba compiles loops, not generator expressions)
        if not chosen[c] and costs[c] <= left:
            return False
    return True


@_jit
def run_winners(
    per_voter: float,
    ptr: npt.NDArray[np.int64],
    idx: npt.NDArray[np.int64],
    w: npt.NDArray[np.float64],
    cost: npt.NDArray[np.float64],
    total: npt.NDArray[np.float64],
    rank: npt.NDArray[np.int64],
    selectable: npt.NDArray[np.bool_],
    n_types: int,
    hint: npt.NDArray[np.int64],
    winners: npt.NDArray[np.int64],
) -> tuple[int, int]:
    """(status, number of winners written to `winners`) of one run; see the module contract."""
    n_p = cost.size
    money = np.full(n_types, per_voter)
    exact = np.ones(n_types, dtype=np.bool_)
    alive = selectable.copy()
    bound = total.copy()
    looked = np.zeros(n_p, dtype=np.bool_)
    c_eff, c_p, c_int = np.zeros(n_p), np.zeros(n_p), np.zeros(n_p, dtype=np.bool_)
    cands = np.empty(n_p, dtype=np.int64)
    longest = max(1, int(np.max(ptr[1:] - ptr[:-1]))) if n_p else 1
    buf_b, buf_w = np.empty(longest), np.empty(longest)  # one project's supporters, contiguous
    n_won = 0
    for round_no in range(n_p):
        looked[:] = False
        n_c, best = 0, 0.0
        first = hint[round_no] if round_no < hint.size else -1
        while True:
            c = _next_candidate(alive, looked, bound, best, first)
            first = -1
            if c < 0:
                break
            looked[c] = True
            status = _evaluate(c, ptr, idx, w, cost, total, money, exact, c_eff, c_p, c_int, buf_b, buf_w)
            if status == TOO_CLOSE:
                return TOO_CLOSE, n_won
            if status == 2:  # unaffordable: out for good
                alive[c] = False
                continue
            bound[c] = c_eff[c]
            cands[n_c] = c
            n_c += 1
            best = max(best, c_eff[c])
        if n_c == 0:
            return OK, n_won
        win = _pick(cands[:n_c], c_eff, c_int, rank)
        if win < 0:
            return TOO_CLOSE, n_won
        if not _pay(win, c_p[win], c_int[win], ptr, idx, cost, money, exact):
            return TOO_CLOSE, n_won
        alive[win] = False
        winners[n_won] = win
        n_won += 1
    return OK, n_won


@_jit
def _next_candidate(
    alive: npt.NDArray[np.bool_],
    looked: npt.NDArray[np.bool_],
    bound: npt.NDArray[np.float64],
    best: float,
    first: int,
) -> int:
    """The hint if it is still in the race, else the unlooked project with the highest bound that may reach
    the best count (ties: lower index, as the heap of `official_mes`); -1 when none is left."""
    if first >= 0 and alive[first] and not looked[first]:
        return first
    top, at = -1.0, -1
    for c in range(bound.size):
        if alive[c] and not looked[c] and bound[c] > top:
            top, at = bound[c], c
    if at >= 0 and top >= best * (1 - TOL):
        return at
    return -1


@_jit
def _evaluate(
    c: int,
    ptr: npt.NDArray[np.int64],
    idx: npt.NDArray[np.int64],
    w: npt.NDArray[np.float64],
    cost: npt.NDArray[np.float64],
    total: npt.NDArray[np.float64],
    money: npt.NDArray[np.float64],
    exact: npt.NDArray[np.bool_],
    c_eff: npt.NDArray[np.float64],
    c_p: npt.NDArray[np.float64],
    c_int: npt.NDArray[np.bool_],
    buf_b: npt.NDArray[np.float64],
    buf_w: npt.NDArray[np.float64],
) -> int:
    """0: count stored in c_eff/c_p/c_int; 2: unaffordable; TOO_CLOSE: affordability too close to call."""
    held, lowest, all_exact = 0.0, np.inf, True
    m = 0
    for j in range(ptr[c], ptr[c + 1]):
        g = idx[j]
        b = money[g]
        held += b * w[j]
        lowest = min(lowest, b)
        all_exact = all_exact and exact[g]
        buf_b[m], buf_w[m] = b, w[j]
        m += 1
    need = cost[c]
    if held < need:
        return 2 if held < need * (1 - TOL) or all_exact else TOO_CLOSE
    if held < need * (1 + TOL) and not all_exact:
        return TOO_CLOSE
    p = need / total[c]
    if lowest >= p:  # nobody is short of money: the plain equal split
        c_p[c], c_eff[c], c_int[c] = p, total[c], True
        return 0
    if not _capped_share(c, buf_b, buf_w, m, need, total[c], c_eff, c_p, c_int):
        _sorted_share(c, ptr, idx, w, need, total[c], money, c_eff, c_p, c_int)
    return 0


@_jit
def _capped_share(
    c: int,
    b: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    m: int,
    need: float,
    total: float,
    c_eff: npt.NDArray[np.float64],
    c_p: npt.NDArray[np.float64],
    c_int: npt.NDArray[np.bool_],
) -> bool:
    """p with sum w * min(b, p) = cost over b[:m], by `official_mes.share_float`'s iteration; False if it
    stalls (the caller sorts). Supporters short of money stay short as p rises: each pass adds the newly
    short ones to the paid sums and keeps only the others (in place), so passes shrink."""
    p, paid, short_w, k = need / total, 0.0, 0.0, total
    for _ in range(12):
        kept, newly = 0, 0
        for i in range(m):
            if b[i] < p:
                paid += b[i] * w[i]
                short_w += w[i]
                newly += 1
            else:
                b[kept], w[kept] = b[i], w[i]
                kept += 1
        m = kept
        if newly == 0:
            break
        k = total - short_w
        if k <= 0:
            return False
        p = (need - paid) / k
    else:
        return False
    if paid == 0.0:  # everyone short of money had nothing left: a whole count
        c_p[c], c_eff[c], c_int[c] = need / k, k, True
    else:
        c_p[c], c_eff[c], c_int[c] = p, need / p, False
    return True


@_jit
def _sorted_share(
    c: int,
    ptr: npt.NDArray[np.int64],
    idx: npt.NDArray[np.int64],
    w: npt.NDArray[np.float64],
    need: float,
    total: float,
    money: npt.NDArray[np.float64],
    c_eff: npt.NDArray[np.float64],
    c_p: npt.NDArray[np.float64],
    c_int: npt.NDArray[np.bool_],
) -> None:
    """`official_mes._share_sorted`: walk the supporters by rising money until the split fits."""
    s = idx[ptr[c] : ptr[c + 1]]
    b = money[s]
    order = np.argsort(b)
    ws = w[ptr[c] : ptr[c + 1]]
    paid_before, denom = 0.0, total
    for j in order:
        p_try = (need - paid_before) / denom
        if p_try <= b[j] or denom == ws[j]:  # fits, or the last one (which always fits up to rounding)
            if paid_before == 0.0:
                c_p[c], c_eff[c], c_int[c] = need / denom, denom, True
            else:
                c_p[c], c_eff[c], c_int[c] = p_try, need / p_try, False
            return
        paid_before += b[j] * ws[j]
        denom -= ws[j]


@_jit
def _pick(
    cands: npt.NDArray[np.int64],
    c_eff: npt.NDArray[np.float64],
    c_int: npt.NDArray[np.bool_],
    rank: npt.NDArray[np.int64],
) -> int:
    """`official_mes._pick`: the best count, ties by rank; -1 when a near tie is not between whole counts."""
    top = -1.0
    for c in cands:
        top = max(top, c_eff[c])
    n_tied, all_int = 0, True
    for c in cands:
        if c_eff[c] >= top * (1 - TOL):
            n_tied += 1
            all_int = all_int and c_int[c]
    if n_tied > 1 and not all_int:
        return -1
    win = -1
    for c in cands:
        if c_eff[c] == top and (win < 0 or rank[c] < rank[win]):
            win = c
    return win


@_jit
def _pay(
    win: int,
    p: float,
    whole: bool,
    ptr: npt.NDArray[np.int64],
    idx: npt.NDArray[np.int64],
    cost: npt.NDArray[np.float64],
    money: npt.NDArray[np.float64],
    exact: npt.NDArray[np.bool_],
) -> bool:
    """`official_mes._pay`: supporters pay min(money, p); False when someone's money is too close to p."""
    int_path = whole
    if int_path:
        for j in range(ptr[win], ptr[win + 1]):
            int_path = int_path and exact[idx[j]]
    denom = np.floor(cost[win] / p + 0.5)
    if not int_path:
        for j in range(ptr[win], ptr[win + 1]):
            b = money[idx[j]]
            if abs(b - p) <= TOL * p and b > 0:
                return False
    for j in range(ptr[win], ptr[win + 1]):
        g = idx[j]
        b = money[g]
        zero = b * denom <= cost[win] if int_path else b - p <= 0
        money[g] = 0.0 if zero else b - p
        exact[g] = zero
    return True
