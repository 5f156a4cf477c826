"""Method of Equal Shares, selecting exactly what pabutools' `method_of_equal_shares` selects.

Each voter starts with `b0` (= budget / number of voters). A project with cost c is affordable when its
supporters can pay c with everyone paying min(budget_i, rho * u_i); each round funds the affordable project
with the least rho (ties: project id as a string), the supporters pay, and the run stops when nothing is
affordable. Free supported projects are funded up front; unsupported projects never are.

Speed: budgets are float arrays and each round re-evaluates, with a few vectorised passes, only the
projects whose previous rho could still be the best (pabutools' lazy order). Exactness: every decision
closer than `TOL` (a tie in rho, a project whose supporters hold about its cost, a supporter whose budget
about equals her share) is settled with exact rationals from `ExactLedger`, and the funded project's exact
rho is recorded every round, so the outcome equals pabutools' exact-arithmetic outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from smartip.budgeting.rules.mes_exact import ExactLedger, exact_payment
from smartip.budgeting.rules.prepared import Prepared, SatKind
from smartip.core.errors import Invalid

TOL = 1e-8
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class MesRound:
    project: int
    rho: float  # affordability (payment per unit of utility)
    available: float  # what the supporters held before paying
    cost: float


@dataclass
class MesResult:
    selected: list[int]  # up-front free projects first, then one per round
    rounds: list[MesRound]
    upfront: list[int]
    budgets: FloatArray  # per voter, at the end
    per_voter_budget: Fraction
    dropped: dict[int, int] = field(default_factory=dict)  # project -> round it became unaffordable
    money_left: FloatArray | None = None  # per project, filled by the entry points (`money_left`)


def _integral(values: FloatArray, what: str) -> IntArray:
    out = np.rint(values).astype(np.int64)
    if len(values) and not np.array_equal(out, values):
        raise Invalid(f"MES counts exactly and needs integer {what}", field=what)
    return out


class MesSetup:
    """Per-(election, utility) arrays, reused by every run (e.g. each step of the Add-1 completion)."""

    def __init__(self, prep: Prepared, sat: SatKind) -> None:
        self.prep, self.sat = prep, sat
        raw = prep.score if sat == "score" else np.ones(len(prep.voter))
        keep = raw > 0  # supporters are the voters with positive utility
        proj_of = np.repeat(np.arange(prep.n_projects), np.diff(prep.ptr))[keep]
        self.voter = prep.voter[keep].astype(np.int64)
        self.value = _integral(raw[keep], "scores")
        self.value_f = self.value.astype(np.float64)
        self.ptr = np.zeros(prep.n_projects + 1, dtype=np.int64)
        np.cumsum(np.bincount(proj_of, minlength=prep.n_projects), out=self.ptr[1:])
        self.weighted = prep.weight_q is not None
        self.w_int = _integral(prep.weight, "voter weights") if self.weighted else None
        w_entry = prep.weight[self.voter]
        self.wv = w_entry * self.value_f  # weighted utility units per entry
        mass = np.bincount(proj_of, weights=self.wv, minlength=prep.n_projects)
        self.mass = mass
        self.scale_q = [prep.cost_q[p] if sat == "cost" else Fraction(1) for p in range(prep.n_projects)]
        self.scale_f = np.array([float(s) for s in self.scale_q])
        positive = [p for p in range(prep.n_projects) if mass[p] > 0 and prep.cost_q[p] > 0]
        self.candidates = positive
        # with Cost_Sat a free project has zero satisfaction, so only other utilities fund it up front
        free = [p for p in range(prep.n_projects) if mass[p] > 0 and prep.cost_q[p] == 0 and sat != "cost"]
        self.upfront = sorted(free, key=lambda p: prep.rank[p])
        self.ledger = ExactLedger(prep.n_voters, len(positive), self.w_int, int(self.value.max(initial=1)))
        # per-project views and Python scalars: the run loop is dominated by per-call overhead
        cuts = self.ptr.tolist()
        spans = list(zip(cuts[:-1], cuts[1:], strict=True))
        self.sup = [self.voter[a:b] for a, b in spans]
        self.val = [self.value[a:b] for a, b in spans]
        self.val_f = [self.value_f[a:b] for a, b in spans]
        self.wv_p = [self.wv[a:b] for a, b in spans]
        self.w_p = [prep.weight[self.voter[a:b]] for a, b in spans] if self.weighted else None
        self.cost_f = prep.cost.tolist()
        self.scale_fl = self.scale_f.tolist()
        self.mass_fl = mass.tolist()
        # every utility value 1 and no weights (approval, cost or cardinality utility): simpler sharing
        self.unit = not self.weighted and bool((self.value == 1).all())


def unit_share(bb: FloatArray, cost: float) -> float:
    """The payment t with sum(min(bb, t)) = cost (supporters hold at least `cost`), in floats."""
    n = len(bb)
    t = cost / n
    poor = bb < t
    n_poor = int(np.count_nonzero(poor))
    while n_poor:
        if n_poor == n:
            return float(bb.max())
        t = (cost - float(bb[poor].sum())) / (n - n_poor)
        poor = bb < t
        n_new = int(np.count_nonzero(poor))
        if n_new == n_poor:
            break
        n_poor = n_new
    return t


class _Run:
    def __init__(self, setup: MesSetup, b0: Fraction) -> None:
        self.s = setup
        self.b0, self.b0f = b0, float(b0)
        self.b = np.full(setup.prep.n_voters, self.b0f)
        setup.ledger.reset(b0)
        self.exact: dict[int, tuple[Fraction, BoolArray]] = {}

    def money(self, p: int) -> tuple[FloatArray, FloatArray, float]:
        bb = self.b[self.s.sup[p]]
        wb = bb * self.s.w_p[p] if self.s.w_p is not None else bb
        return bb, wb, float(wb.sum())

    def evaluate(self, p: int) -> tuple[float, float] | None:
        """(rho, money) of p now, or None when its supporters cannot pay it (exactly)."""
        s, cost = self.s, self.s.cost_f[p]
        bb, wb, money = self.money(p)
        if money < cost * (1 - TOL):
            return None
        if money <= cost * (1 + TOL):  # too close: decide and price exactly
            voters = s.sup[p]
            if s.ledger.total(voters) < s.prep.cost_q[p]:
                return None
            band = bb > 0
            pay, pays_all = exact_payment(s.ledger, s.prep.cost_q[p], voters, s.val[p], band, ~band)
            self.exact[p] = (pay, pays_all)
            return float(pay / s.scale_q[p]), money
        if s.unit:
            return unit_share(bb, cost) / s.scale_fl[p], money
        val, wv = s.val_f[p], s.wv_p[p]
        t = cost / s.mass_fl[p]
        poor = bb < t * val
        n_poor = np.count_nonzero(poor)
        while n_poor:
            t = (cost - float(wb[poor].sum())) / float(wv[~poor].sum())
            poor = bb < t * val
            n_new = np.count_nonzero(poor)
            if n_new == n_poor:
                break
            n_poor = n_new
        return t / s.scale_fl[p], money

    def classify(self, p: int, rho: float) -> tuple[BoolArray, BoolArray]:
        """(band, poor): supporters too close to their share to call, and surely paying all they have."""
        s = self.s
        bb = self.b[s.sup[p]]
        thr = s.val_f[p] * (rho * s.scale_fl[p])
        band = np.abs(bb - thr) <= TOL * (self.b0f + thr)
        return band, ~band & (bb < thr)

    def exact_pay(self, p: int, rho: float) -> tuple[Fraction, BoolArray]:
        if p not in self.exact:
            s = self.s
            band, poor = self.classify(p, rho)
            self.exact[p] = exact_payment(s.ledger, s.prep.cost_q[p], s.sup[p], s.val[p], band, poor)
        return self.exact[p]

    def pay(self, p: int, unit: Fraction | None, pays_all: BoolArray, unit_f: float) -> None:
        """Supporters of p pay; `unit=None` leaves the exact unit to the ledger (settled when needed)."""
        s = self.s
        voters = s.sup[p]
        rich = ~pays_all
        rv = voters[rich]
        s.ledger.record(unit, rv, s.val[p][rich], voters[pays_all], s.prep.cost_q[p])
        self.b[voters[pays_all]] = 0.0
        self.b[rv] = np.maximum(self.b[rv] - unit_f * s.val_f[p][rich], 0.0)


def run_mes(setup: MesSetup, b0: Fraction, prefix: list[int] | None = None) -> MesResult:
    """One MES run with per-voter budget `b0` (exact), as pabutools' `mes_inner_algo` (resolute).

    `prefix`: winners of the first rounds, known in advance (proved by `mes_certify`): they are paid for
    without looking at the other projects.
    """
    prep = setup.prep
    run = _Run(setup, b0)
    stale = [np.inf] * prep.n_projects
    for p in setup.candidates:
        stale[p] = setup.cost_f[p] / setup.mass_fl[p] / setup.scale_fl[p]
    live = list(setup.candidates)
    rounds: list[MesRound] = []
    dropped: dict[int, int] = {}
    for p in prefix or []:
        got = run.evaluate(p)
        if got is None:
            raise AssertionError(f"a proved prefix winner {p} is not affordable")
        rounds.append(_fund(run, p, got))
        live.remove(p)
    while True:
        best = np.inf
        seen: dict[int, tuple[float, float]] = {}
        live.sort(key=stale.__getitem__)
        for p in list(live):
            if stale[p] > best * (1 + TOL):
                break
            got = run.evaluate(p)
            if got is None:
                live.remove(p)
                dropped[p] = len(rounds)
                continue
            stale[p] = got[0]
            seen[p] = got
            best = min(best, got[0])
        if not seen:
            break
        tied = [p for p, (rho, _) in seen.items() if rho <= best * (1 + TOL)]
        unit: Fraction | None
        if len(tied) == 1 and tied[0] not in run.exact:
            winner = tied[0]
            band, pays_all = run.classify(winner, seen[winner][0])
            unit = None
            if band.any():
                unit, pays_all = run.exact_pay(winner, seen[winner][0])
        else:
            priced = {p: run.exact_pay(p, seen[p][0]) for p in tied}
            winner = min(tied, key=lambda p: (priced[p][0] / setup.scale_q[p], prep.rank[p]))
            unit, pays_all = priced[winner]
        rounds.append(_pay(run, winner, seen[winner], unit, pays_all))
        live.remove(winner)
    return MesResult(
        setup.upfront + [r.project for r in rounds],
        rounds,
        setup.upfront,
        run.b,
        b0,
        dropped,
    )


def _fund(run: _Run, p: int, got: tuple[float, float]) -> MesRound:
    """Fund p, known to win this round (its rho and money `got` from `evaluate`)."""
    unit: Fraction | None = None
    if p in run.exact:
        unit, pays_all = run.exact[p]
    else:
        band, pays_all = run.classify(p, got[0])
        if band.any():
            unit, pays_all = run.exact_pay(p, got[0])
    return _pay(run, p, got, unit, pays_all)


def _pay(
    run: _Run, winner: int, got: tuple[float, float], unit: Fraction | None, pays_all: BoolArray
) -> MesRound:
    s = run.s
    rho_f = got[0] if unit is None else float(unit / s.scale_q[winner])
    run.pay(winner, unit, pays_all, rho_f * s.scale_fl[winner] if unit is None else float(unit))
    run.exact.clear()
    return MesRound(winner, rho_f, got[1], s.cost_f[winner])


def money_left(setup: MesSetup, result: MesResult) -> FloatArray:
    """Per project: what its supporters hold at the end of the run."""
    prep = setup.prep
    w_b = result.budgets[setup.voter] * prep.weight[setup.voter]
    proj_of = np.repeat(np.arange(prep.n_projects), np.diff(setup.ptr))
    return np.bincount(proj_of, weights=w_b, minlength=prep.n_projects)


def method_of_equal_shares(prep: Prepared, sat: SatKind) -> MesResult:
    setup = MesSetup(prep, sat)
    if prep.total_weight_q == 0:
        return MesResult(
            [], [], [], np.zeros(prep.n_voters), Fraction(0), money_left=np.zeros(prep.n_projects)
        )
    result = run_mes(setup, prep.budget_q / prep.total_weight_q)
    result.money_left = money_left(setup, result)
    return result
