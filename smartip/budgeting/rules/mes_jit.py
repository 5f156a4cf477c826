"""Compiled (numba) float MES runs for the Add-1 loop, pabutools' semantics, cost utilities.

Why: the Add-1 loop needs the outcome at b0, b0 + 1, ...; on mid-size elections the winners change every
few steps, so most steps need a real run, and a numpy run spends its time on call overhead over short
arrays. The same run compiled takes tens of microseconds.

Contract: `winners` makes the decisions of `mes.run_mes` for utilities equal to the cost (`MesSetup.unit`
or weighted unit values) and reports any decision too close to call in floats (TOO_CLOSE) instead of
settling it: affordability within `TOL` of the cost, two affordabilities within `TOL` unless both are
whole (nobody short of money but voters with nothing left: rho = 1 / paying mass, compared exactly), a
supporter's budget within `TOL` of her share. The caller then runs `mes.run_mes` (exact). A budget of
exactly 0.0 here is exactly 0: only supporters surely short of money are zeroed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from smartip.budgeting.rules.mes import TOL, MesSetup

OK, TOO_CLOSE = 0, 1
_jit = njit(cache=True, nogil=True, boundscheck=False)


class CompiledMes:
    """The arrays the compiled run reads, for one election (cost utilities)."""

    def __init__(self, setup: MesSetup) -> None:
        prep = setup.prep
        self.ptr = setup.ptr.astype(np.int64)
        self.idx = setup.voter.astype(np.int64)
        self.w = prep.weight[setup.voter].astype(np.float64)
        self.cost = prep.cost.astype(np.float64)
        self.mass = setup.mass.astype(np.float64)  # weighted supporters (whole numbers)
        self.rank = prep.rank.astype(np.int64)
        self.alive = np.zeros(prep.n_projects, dtype=np.bool_)
        self.alive[setup.candidates] = True
        self.n_voters = prep.n_voters

    def run(self, per_voter: float, hint: list[int]) -> tuple[int, list[int]]:
        """(status, winners) at this per-voter budget; `hint` (earlier winners) is evaluated first."""
        out = np.empty(self.cost.size, dtype=np.int64)
        hint_a = np.array(hint, dtype=np.int64)
        status, n = winners(
            per_voter, self.ptr, self.idx, self.w, self.cost, self.mass, self.rank, self.alive,
            self.n_voters, hint_a, out,
        )  # fmt: skip
        return int(status), out[:n].tolist()


@_jit
def winners(
    per_voter: float,
    ptr: npt.NDArray[np.int64],
    idx: npt.NDArray[np.int64],
    w: npt.NDArray[np.float64],
    cost: npt.NDArray[np.float64],
    mass: npt.NDArray[np.float64],
    rank: npt.NDArray[np.int64],
    alive0: npt.NDArray[np.bool_],
    n_voters: int,
    hint: npt.NDArray[np.int64],
    out: npt.NDArray[np.int64],
) -> tuple[int, int]:
    """(status, number of winners written to `out`); see the module contract."""
    n_p = cost.size
    b = np.full(n_voters, per_voter)
    alive = alive0.copy()
    bound = np.full(n_p, np.inf)  # lower bounds of rho
    for c in range(n_p):
        if alive[c]:
            bound[c] = 1.0 / mass[c]
    rho = np.zeros(n_p)
    pay = np.zeros(n_p)
    whole = np.zeros(n_p)  # paying mass when rho is whole (exactly 1 / mass), else 0
    looked = np.zeros(n_p, dtype=np.bool_)
    n_won = 0
    for rnd in range(n_p):
        looked[:] = False
        best, win = np.inf, -1
        first = hint[rnd] if rnd < hint.size else -1
        while True:
            c = _next(alive, looked, bound, best, first)
            first = -1
            if c < 0:
                break
            looked[c] = True
            st = _evaluate(c, ptr, idx, w, cost, mass, b, per_voter, rho, pay, whole)
            if st == TOO_CLOSE:
                return TOO_CLOSE, n_won
            if st == 2:
                alive[c] = False
                continue
            bound[c] = rho[c]
            if win < 0:
                best, win = rho[c], c
                continue
            order = _compare(c, win, rho, whole, rank)
            if order == 2:
                return TOO_CLOSE, n_won
            if order == 1:
                best, win = rho[c], c
        if win < 0:
            return OK, n_won
        # every evaluated rival must be clearly behind the winner, or exactly comparable
        for c in range(n_p):
            if looked[c] and alive[c] and c != win and _compare(c, win, rho, whole, rank) != 0:
                return TOO_CLOSE, n_won
        if not _pay(win, ptr, idx, b, pay[win], per_voter):
            return TOO_CLOSE, n_won
        alive[win] = False
        out[n_won] = win
        n_won += 1
    return OK, n_won


@_jit
def _next(
    alive: npt.NDArray[np.bool_],
    looked: npt.NDArray[np.bool_],
    bound: npt.NDArray[np.float64],
    best: float,
    first: int,
) -> int:
    """The hint if still in the race, else the unlooked project with the least bound that may still reach
    the best rho (within the margin); -1 when none is left."""
    if first >= 0 and alive[first] and not looked[first]:
        return first
    low, at = np.inf, -1
    for c in range(bound.size):
        if alive[c] and not looked[c] and bound[c] < low:
            low, at = bound[c], c
    if at >= 0 and low <= best * (1 + 4 * TOL):
        return at
    return -1


@_jit
def _compare(
    c: int,
    win: int,
    rho: npt.NDArray[np.float64],
    whole: npt.NDArray[np.float64],
    rank: npt.NDArray[np.int64],
) -> int:
    """0: c loses to win; 1: c beats win; 2: too close to call in floats."""
    if whole[c] > 0 and whole[win] > 0:  # rho = 1 / whole: compare the whole numbers exactly
        if whole[c] != whole[win]:
            return 1 if whole[c] > whole[win] else 0
        return 1 if rank[c] < rank[win] else 0
    if rho[c] < rho[win] * (1 - TOL):
        return 1
    if rho[c] > rho[win] * (1 + TOL):
        return 0
    return 2


@_jit
def _evaluate(
    c: int,
    ptr: npt.NDArray[np.int64],
    idx: npt.NDArray[np.int64],
    w: npt.NDArray[np.float64],
    cost: npt.NDArray[np.float64],
    mass: npt.NDArray[np.float64],
    b: npt.NDArray[np.float64],
    start: float,
    rho: npt.NDArray[np.float64],
    pay: npt.NDArray[np.float64],
    whole: npt.NDArray[np.float64],
) -> int:
    """0: rho/pay/whole of c stored; 2: unaffordable; TOO_CLOSE."""
    held = 0.0
    for j in range(ptr[c], ptr[c + 1]):
        held += b[idx[j]] * w[j]
    need = cost[c]
    if held < need * (1 - TOL):
        return 2
    if held <= need * (1 + TOL):
        return TOO_CLOSE
    # water-filling: p with sum w * min(b, p) = need; short supporters stay short as p rises
    p = need / mass[c]
    for _ in range(200):
        paid, short_w = 0.0, 0.0
        for j in range(ptr[c], ptr[c + 1]):
            if b[idx[j]] < p:
                paid += b[idx[j]] * w[j]
                short_w += w[j]
        p_new = (need - paid) / (mass[c] - short_w)
        if p_new == p:
            break
        p = p_new
    margin = TOL * (p + start)
    zero_w, sure = 0.0, True
    for j in range(ptr[c], ptr[c + 1]):
        x = b[idx[j]]
        if abs(x - p) <= margin:
            sure = False
        if x == 0.0:
            zero_w += w[j]
        elif x < p:
            sure = False  # someone pays all she has, which is not nothing: rho is not whole
    rho[c], pay[c] = p / need, p
    whole[c] = mass[c] - zero_w if sure else 0.0
    return 0


@_jit
def _pay(
    win: int,
    ptr: npt.NDArray[np.int64],
    idx: npt.NDArray[np.int64],
    b: npt.NDArray[np.float64],
    p: float,
    start: float,
) -> bool:
    """Supporters pay min(b, p); False when someone's budget is too close to p to tell who pays all."""
    margin = TOL * (p + start)
    for j in range(ptr[win], ptr[win + 1]):
        if abs(b[idx[j]] - p) <= margin and b[idx[j]] != 0.0:
            return False
    for j in range(ptr[win], ptr[win + 1]):
        g = idx[j]
        b[g] = b[g] - p if b[g] > p else 0.0
    return True
