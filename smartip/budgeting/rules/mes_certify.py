"""Proofs that a MES outcome stays the same over a whole range of per-voter budgets (for the Add-1 loop).

Why: the Add-1 completion reruns MES at b0, b0 + 1, b0 + 2, ...; on mid-size elections some supporter's
payment split changes at almost every step, but the *winners* rarely do. This module proves, without
rerunning MES, that the winner sequence of a run is also the one at every budget of [lo, hi].

Argument (monotone): fix the winner sequence. Each supporter pays min(money, t * utility) and t falls
when money rises, so every voter's money left after every round is non-decreasing in the starting budget;
hence every project's affordability rho (payment per unit of utility) is non-increasing in it, and every
project's supporters' money non-decreasing. So in round r, the winner w (rho_w(lo) at the low end, an upper
bound on the interval) beats a rival c (rho_c(hi) at the high end, a lower bound) everywhere on [lo, hi]
when rho_w(lo) < rho_c(hi), or when they are equal and w comes first in the tie order. A rival whose
supporters cannot pay it at hi cannot at any lower budget either. The run ends at every budget when no
remaining project is affordable at hi.

Exactness: all arithmetic here is float; every comparison must win by a relative margin `TOL`, except
between two affordabilities known exactly (nobody pays all she has: rho = cost / (utility mass * scale)).
A proof may fail where the outcome does not change; it never passes where it does.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from smartip.budgeting.rules.mes import MesSetup, unit_share

TOL = 1e-8
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class Rho:
    """An affordability: its float value, and its exact value when it can be known (computed lazily)."""

    __slots__ = ("f", "q", "share")

    def __init__(self, f: float, q: Fraction | None = None, share: Share | None = None) -> None:
        self.f, self.q, self.share = f, q, share

    def exact(self, cs: CertSetup) -> Fraction | None:
        if self.q is None and self.share is not None:
            self.q, self.share = self.share.exact_rho(cs), None
        return self.q


@dataclass(frozen=True)
class CertSetup:
    """Per-election constants of the proofs."""

    setup: MesSetup
    rich_rho_q: tuple[Fraction, ...]  # per project: exact rho when no supporter pays all she has
    rich_rho_f: tuple[float, ...]
    proj_of: npt.NDArray[np.int64]  # project of each (project-major) entry
    w_entry: FloatArray  # voter weight of each entry
    mass_p: tuple[npt.NDArray[np.int64], ...]  # per project: integer weight * utility of each supporter

    def mass_int(self, p: int, mask: BoolArray) -> int:
        """Exact utility mass of the supporters of p selected by `mask`."""
        return int(self.mass_p[p][mask].sum())


def cert_setup(setup: MesSetup) -> CertSetup:
    prep = setup.prep
    vals = setup.value if setup.w_int is None else setup.value * setup.w_int[setup.voter]
    cuts = setup.ptr.tolist()
    mass_p = tuple(vals[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True))
    mass_int = [int(m.sum()) for m in mass_p]
    rich = tuple(
        prep.cost_q[p] / (mass_int[p] * setup.scale_q[p]) if mass_int[p] and prep.cost_q[p] else Fraction(0)
        for p in range(prep.n_projects)
    )
    proj_of = np.repeat(np.arange(prep.n_projects), np.diff(setup.ptr))
    return CertSetup(setup, rich, tuple(float(r) for r in rich), proj_of, prep.weight[setup.voter], mass_p)


class Share:
    """How a project's cost is split at one budget: floats, with the supporters' classes computed lazily.

    Margins include a tiny fraction of the starting budget (float budgets are off by about that much).
    """

    __slots__ = ("_cls", "bb", "margin", "need", "p", "rho", "zero")

    def __init__(
        self, p: int, t: float, rho_f: float, bb: FloatArray, need: float | FloatArray, start: float
    ):
        self.p, self.bb, self.need = p, bb, need
        self.margin = TOL * (need + start)
        self.rho = Rho(rho_f, share=self)
        self.zero: BoolArray | None = None  # supporters whose budget is surely exactly 0 (None: nobody)
        self._cls: tuple[BoolArray, BoolArray, bool] | None = None

    def classes(self) -> tuple[BoolArray, BoolArray, bool]:
        """(poor, rich, clean): surely paying all they have, surely paying a full share, nobody unsure."""
        if self._cls is None:
            poor = self.bb < self.need - self.margin
            rich = self.bb > self.need + self.margin
            self._cls = (poor, rich, bool((poor | rich).all()))
        return self._cls

    def exact_rho(self, cs: CertSetup) -> Fraction | None:
        """Known when every supporter surely has more than her share or surely has nothing: the others
        then pay the whole cost in equal shares of utility."""
        poor, rich, clean = self.classes()
        if not clean or not (rich.all() or (self.zero is not None and bool((rich | self.zero).all()))):
            return None
        mass = cs.mass_int(self.p, rich)
        s = cs.setup
        return s.prep.cost_q[self.p] / (mass * s.scale_q[self.p]) if mass else None


class _Side:
    """Voter budgets along the winner sequence from one starting per-voter budget (float)."""

    def __init__(self, cs: CertSetup, start: float) -> None:
        self.cs, self.start = cs, start
        self.b = np.full(cs.setup.prep.n_voters, start)
        self.zero = np.zeros(cs.setup.prep.n_voters, dtype=bool)  # budgets surely exactly 0
        self.any_zero = False

    def share(self, p: int) -> Share:
        """How p's cost would be split now (its supporters must be able to pay it)."""
        s = self.cs.setup
        sup = s.sup[p]
        bb = self.b[sup]
        cost = s.cost_f[p]
        t = unit_share(bb, cost) if s.unit else _general_share(self.cs, bb, p)
        got = Share(p, t, t / s.scale_fl[p], bb, t if s.unit else t * s.val_f[p], self.start)
        if self.any_zero:
            got.zero = self.zero[sup]
        return got

    def pay(self, w: int, got: Share) -> None:
        s = self.cs.setup
        poor = got.classes()[0]
        left = np.maximum(got.bb - got.need, 0.0)
        left[poor] = 0.0
        self.b[s.sup[w]] = left
        self.zero[s.sup[w][poor]] = True
        self.any_zero = self.any_zero or bool(poor.any())

    def money(self, p: int) -> float:
        s = self.cs.setup
        bb = self.b[s.sup[p]]
        return float((bb * s.w_p[p]).sum() if s.w_p is not None else bb.sum())


def _general_share(cs: CertSetup, bb: FloatArray, p: int) -> float:
    s = cs.setup
    cost, val, wv = s.cost_f[p], s.val_f[p], s.wv_p[p]
    wb = bb * s.w_p[p] if s.w_p is not None else bb
    t = cost / s.mass_fl[p]
    poor = bb < t * val
    n_poor = int(np.count_nonzero(poor))
    while n_poor:
        rich_mass = float(wv[~poor].sum())
        if rich_mass <= 0:  # everyone pays all: the last one's budget per unit
            return float((bb / val).max())
        t = (cost - float(wb[poor].sum())) / rich_mass
        poor = bb < t * val
        n_new = int(np.count_nonzero(poor))
        if n_new == n_poor:
            break
        n_poor = n_new
    return t


def _beats(cs: CertSetup, w: int, rw: Rho, c: int, rc: Rho) -> bool:
    """Surely rho_w <= rho_c with w winning a tie (rw an upper bound of w's, rc a lower bound of c's)."""
    if rw.f < rc.f * (1 - TOL):
        return True
    if rw.f > rc.f * (1 + TOL):
        return False
    qw, qc = rw.exact(cs), rc.exact(cs)
    if qw is None or qc is None:
        return False
    return qw < qc or (qw == qc and cs.setup.prep.rank[w] < cs.setup.prep.rank[c])


def _same_split(a: Share, b: Share) -> bool:
    pa, _, ca = a.classes()
    pb, _, cb = b.classes()
    return ca and cb and bool(np.array_equal(pa, pb))


def replay(cs: CertSetup, winners: list[int], budget: float) -> list[Share]:
    """Each round's winner split when `winners` are funded in order from per-voter `budget`."""
    side, out = _Side(cs, budget), []
    for w in winners:
        out.append(side.share(w))
        side.pay(w, out[-1])
    return out


class _LowEnd:
    """The low end of a proof, advanced only as far as the linear argument needs it."""

    def __init__(self, cs: CertSetup, winners: list[int], low: list[Share], high: list[Share], x: float):
        self.winners, self.low, self.high = winners, low, high
        self.side = _Side(cs, x)
        self.done = 0
        self.linear = True  # every payment so far splits the same way at both ends

    def advance(self, rnd: int) -> bool:
        """Pay rounds up to `rnd` (excluded) at the low end; is everything affine up to round `rnd`?"""
        while self.done < rnd and self.linear:
            j = self.done
            self.linear = _same_split(self.low[j], self.high[j])
            self.side.pay(self.winners[j], self.low[j])
            self.done += 1
        return self.linear and _same_split(self.low[rnd], self.high[rnd])


def certify(
    cs: CertSetup, winners: list[int], low: list[Share], budget_lo: float, budget_hi: float, known: int = 0
) -> tuple[int, list[Share]]:
    """(proved, high): how many first rounds of `winners` are proved for every budget of [budget_lo,
    budget_hi] (len(winners) + 1 when the whole outcome, the end of the run included, is), and the winners'
    splits at `budget_hi` (complete when the whole outcome is proved: the low end of the next proof).

    `winners` must be the run's at `budget_lo`, `low` their splits there (`replay`). Each rival is beaten
    by the monotone argument (module docstring) or, when that is too weak, by the linear one: while every
    payment so far and both projects' own splits leave the same supporters paying all they have at both
    ends, every amount is affine in the budget in between, so beating the rival at both ends suffices.
    The first `known` rounds are already proved for the interval (by a failed proof over a longer one).
    """
    s = cs.setup
    hi, high = _Side(cs, budget_hi), list[Share]()
    low_end = _LowEnd(cs, winners, low, high, budget_lo)
    bound: dict[int, Rho] = {c: Rho(cs.rich_rho_f[c], cs.rich_rho_q[c]) for c in s.candidates}
    heap = [(r.f, c) for c, r in bound.items()]
    heapq.heapify(heap)
    for rnd, w in enumerate(winners):
        del bound[w]
        high.append(hi.share(w))
        looked: list[int] = []
        while rnd >= known and heap and heap[0][0] <= low[rnd].rho.f * (1 + 4 * TOL):
            key, c = heapq.heappop(heap)
            if c not in bound or key != bound[c].f:
                continue  # already selected, unaffordable, or a stale entry
            looked.append(c)
            if not _rival_beaten(cs, low_end, hi, bound, rnd, c):
                return rnd, high
        for c in looked:
            if c in bound:
                heapq.heappush(heap, (bound[c].f, c))
        hi.pay(w, high[rnd])
    if bound:
        money = np.bincount(cs.proj_of, weights=hi.b[s.voter] * cs.w_entry, minlength=s.prep.n_projects)
        if any(money[c] >= s.cost_f[c] * (1 - TOL) for c in bound):
            return len(winners), high
    return len(winners) + 1, high


def _rival_beaten(
    cs: CertSetup, low_end: _LowEnd, hi: _Side, bound: dict[int, Rho], rnd: int, c: int
) -> bool:
    """Does round `rnd`'s winner beat rival c on the whole interval? Updates c's bound; drops it if dead."""
    w, w_lo = low_end.winners[rnd], low_end.low[rnd].rho
    if _beats(cs, w, w_lo, c, bound[c]):
        return True
    cost = cs.setup.cost_f[c]
    money = hi.money(c)
    if money < cost * (1 - TOL):
        del bound[c]  # unaffordable at the high end, so at every lower budget, now and later
        return True
    if money <= cost * (1 + TOL):
        return False
    c_hi = hi.share(c)
    bound[c] = c_hi.rho
    if _beats(cs, w, w_lo, c, c_hi.rho):
        return True  # monotone argument
    if not low_end.advance(rnd) or low_end.side.money(c) <= cost * (1 + TOL):
        return False
    c_lo = low_end.side.share(c)
    return (
        _same_split(c_lo, c_hi)
        and _beats(cs, w, w_lo, c, c_lo.rho)
        and _beats(cs, w, low_end.high[rnd].rho, c, c_hi.rho)
    )
