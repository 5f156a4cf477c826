"""Proofs that the fixed-budget MES outcome stays the same over a whole interval of per-voter budgets.

Used by the add-one loop (`official_add1`) to jump over long stretches where nothing changes (Budapest 2022:
153,000 steps of +1 for a few dozen different outcomes). A proof (`_certify`) replays the winners at the
interval's ends and shows, round by round, that each rival loses on the whole interval by one of two arguments:
- monotone: with a fixed sequence of winners, every voter's remaining money is non-decreasing in the
  starting budget (a supporter pays min(money, p), and p falls when money rises), so every count is too;
  the winner's count at the low end beating the rival's at the high end settles the whole interval;
- linear: while every earlier payment and the rival's own split leave the same supporters short of money at
  both ends, every amount is linear in the budget in between, so beating the rival at both ends suffices.
The end of the count is proved by no rival being affordable at the high end. Too-close float comparisons make
a proof fail, never pass.
"""

import heapq
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from smartip.budgeting.rules.official_mes import TOL, ApprovalTypes, MesRun, money, share_float


def longest_certified(
    t: ApprovalTypes, r: MesRun, b: Fraction, limit: int, guess: int, min_span: int = 4
) -> tuple[int, int, list[int]]:
    """(d, proofs tried, prefix): the outcome is proved constant on [b, b + d] (chained proofs), and the
    first winners in `prefix` are proved for budget b + d + 1 too.

    Each proof covers [b + x, b + x + span]; a success moves x on and doubles the span; a failure still
    proves the rounds before the one it failed at for the whole span (so for b + x + 1), and halves the
    span while that stays at least `min_span` (shorter stretches are cheaper to count than to prove).
    """
    x, tries, span, prefix = 0, 0, max(1, guess, min_span), 0
    whole = len(r.winners) + 1
    while x < limit:
        d = min(span, limit - x)
        tries += 1
        proved = _certify(t, r, float(b + x), float(b + x + d))
        if proved == whole:
            x, span, prefix = x + d, 2 * d, 0
            continue
        prefix = proved
        if d // 2 < max(2, min_span):
            break
        span = d // 2
    return x, tries, r.winners[:prefix]


def _beats(t: ApprovalTypes, w: int, w_eff: float, w_int: bool, c: int, c_eff: float, c_int: bool) -> bool:
    """Does winner w (count at least w_eff) surely beat rival c (count at most c_eff)?"""
    if w_int and c_int:
        return w_eff > c_eff or (w_eff == c_eff and t.tie_key(w) < t.tie_key(c))
    return w_eff > c_eff * (1 + TOL)


def _capped(b: npt.NDArray[np.float64], p: float) -> npt.NDArray[np.bool_] | None:
    """Which supporters pay all they have (money < p); None if someone's money is too close to p to tell."""
    gap = b - p
    if np.any((np.abs(gap) <= TOL * p) & (b > 0)):
        return None
    return gap < 0


def _same_structure(
    b_lo: npt.NDArray[np.float64], p_lo: float, b_hi: npt.NDArray[np.float64], p_hi: float
) -> bool:
    lo, hi = _capped(b_lo, p_lo), _capped(b_hi, p_hi)
    return lo is not None and hi is not None and bool(np.array_equal(lo, hi))


class _LowEnd:
    """The replay of the winners at the interval's low end, advanced only as far as an argument needs."""

    def __init__(self, t: ApprovalTypes, r: MesRun, x_lo: float) -> None:
        self.t, self.r = t, r
        self.budget = np.full(len(t.weights), x_lo)
        self.done = 0  # rounds paid for
        self.linear = True  # every payment so far splits the same way as at the high end
        self.high: list[tuple[npt.NDArray[np.float64], float]] = []  # per round: payers' money and p at x_hi
        self._share: tuple[int, float, float, bool] = (-1, 0.0, 0.0, False)  # (round, p, eff, is_int)

    def winner_count(self, round_no: int) -> tuple[float, bool]:
        """The winner's count at round `round_no` at the low end (budgets advanced to that round)."""
        while self.done < round_no:
            w = self.r.winners[self.done]
            b = self.budget[self.t.supporters[w]]
            p = self._winner_share(self.done, b)[0]
            high_b, high_p = self.high[self.done]
            self.linear = self.linear and _same_structure(b, p, high_b, high_p)
            self.budget[self.t.supporters[w]] = np.maximum(b - p, 0.0)
            self.done += 1
        w = self.r.winners[round_no]
        _, eff, is_int = self._winner_share(round_no, self.budget[self.t.supporters[w]])
        return eff, is_int

    def _winner_share(self, round_no: int, b: npt.NDArray[np.float64]) -> tuple[float, float, bool]:
        if self._share[0] != round_no:
            w = self.r.winners[round_no]
            self._share = (round_no, *share_float(float(self.t.costs[w]), b, self.t.supporter_weights[w]))
        return self._share[1], self._share[2], self._share[3]


def _certify(t: ApprovalTypes, r: MesRun, x_lo: float, x_hi: float) -> int:
    """How many rounds of `r` are proved to go the same way for every per-voter budget in [x_lo, x_hi].

    len(r.winners) + 1 (the end of the count included) means the whole outcome is proved constant.
    `r` must be the run at a budget <= x_lo. The winners of `r` are replayed at x_hi (and lazily at x_lo).
    A rival is beaten on the whole interval if (monotone argument) the winner's count at r's budget or at
    x_lo beats the rival's at x_hi, or (linear argument) while every earlier payment and the rival's own cost
    split leave the same supporters short of money at both ends (so every amount is linear in the budget in
    between) the winner beats it at both ends.
    """
    hi = np.full(len(t.weights), x_hi)
    low = _LowEnd(t, r, x_lo)
    rivals = {c: (float(t.approvals[c]), True) for c in t.selectable()}  # upper bounds of counts at x_hi
    heap = [(-bound, c) for c, (bound, _) in rivals.items()]
    heapq.heapify(heap)
    for round_no, w in enumerate(r.winners):
        del rivals[w]
        b_hi = hi[t.supporters[w]]
        p_hi, e_hi, i_hi = share_float(float(t.costs[w]), b_hi, t.supporter_weights[w])
        low.high.append((b_hi, p_hi))
        w_low = (r.eff[round_no], r.eff_is_int[round_no])  # a lower bound on the whole interval
        looked_at = []
        while heap and (heap[0][1] not in rivals or w_low[0] <= -heap[0][0] * (1 + TOL)):
            c = heapq.heappop(heap)[1]  # bounds below w_low (and all later ones) are clearly beaten
            if c in rivals:
                if not _rival_beaten(t, round_no, w_low, (e_hi, i_hi), c, low, hi, rivals):
                    return round_no
                looked_at.append(c)
        for c in looked_at:
            if c in rivals:
                heapq.heappush(heap, (-rivals[c][0], c))
        hi[t.supporters[w]] = np.maximum(b_hi - p_hi, 0.0)
    ends = all(money(hi[t.supporters[c]], t.supporter_weights[c]) < t.costs[c] * (1 - TOL) for c in rivals)
    return len(r.winners) + 1 if ends else len(r.winners)


def _rival_beaten(
    t: ApprovalTypes,
    round_no: int,
    w_low: tuple[float, bool],
    w_hi: tuple[float, bool],
    c: int,
    low: _LowEnd,
    hi: npt.NDArray[np.float64],
    rivals: dict[int, tuple[float, bool]],
) -> bool:
    """Does this round's winner beat c for every budget of the interval? Updates c's bound; drops it if dead."""
    w = low.r.winners[round_no]
    if _beats(t, w, *w_low, c, *rivals[c]):
        return True
    s, ws, cost = t.supporters[c], t.supporter_weights[c], float(t.costs[c])
    money_hi = money(hi[s], ws)
    if money_hi < cost * (1 - TOL):
        del rivals[c]  # unaffordable on the whole interval from here on
        return True
    if money_hi < cost * (1 + TOL):
        return False
    p_hi, eff_hi, int_hi = share_float(cost, hi[s], ws)
    rivals[c] = (eff_hi, int_hi)
    if _beats(t, w, *w_low, c, eff_hi, int_hi):
        return True  # monotone argument
    w_lo = low.winner_count(round_no)
    if _beats(t, w, *w_lo, c, eff_hi, int_hi):
        return True  # monotone argument, with the count at x_lo
    b_lo = low.budget[s]
    if not low.linear or money(b_lo, ws) < cost * (1 + TOL):
        return False
    p_lo, eff_lo, int_lo = share_float(cost, b_lo, ws)
    return (
        _beats(t, w, *w_lo, c, eff_lo, int_lo)
        and _beats(t, w, *w_hi, c, eff_hi, int_hi)
        and _same_structure(b_lo, p_lo, hi[s], p_hi)
    )
