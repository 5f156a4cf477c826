"""Exact rational bookkeeping for the Method of Equal Shares, kept beside the fast float state.

Every voter's exact budget is either 0 (they once paid all they had) or `b0 - sum_r paid[v, r] * unit[r]`,
where round r's exact affordability `unit[r]` is stored once and `paid[v, r]` is the voter's utility for
that round's project (an integer: 1 for cost/cardinality utilities, whose unit already includes the cost,
or the ballot score). So exact sums over any set of voters cost one integer column sum and one rational
product per past round, and the float engine only asks for them when a decision is too close to call.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import numpy.typing as npt

from smartip.core.errors import Invalid

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


_NEVER = np.iinfo(np.int64).max


class ExactLedger:
    """Exact budgets of all voters of one MES run (see the module docstring).

    A round whose float classification is certain (nobody's budget is near her share) is recorded with
    its unit pending; pending units are settled, in order, the first time an exact figure is asked for.
    """

    def __init__(self, n_voters: int, max_rounds: int, weight: IntArray | None, max_unit_value: int) -> None:
        dtype = np.uint8 if max_unit_value < 256 else np.int32
        self.paid = np.zeros((n_voters, max(max_rounds, 1)), dtype=dtype)
        self.zeroed_at = np.full(n_voters, _NEVER, dtype=np.int64)  # round in which the voter paid all
        self.weight = weight  # integer multiplicities, None = all 1
        self.units: list[Fraction | None] = []
        self.pending: list[tuple[int, Fraction, IntArray, int]] = []  # (round, cost, poor voters, rich mass)
        self.b0 = Fraction(0)

    def reset(self, b0: Fraction) -> None:
        if self.units:
            self.paid[:, : len(self.units)] = 0
        self.zeroed_at[:] = _NEVER
        self.units = []
        self.pending = []
        self.b0 = b0

    def _weights(self, voters: IntArray) -> IntArray:
        if self.weight is None:
            return np.ones(len(voters), dtype=np.int64)
        return self.weight[voters]

    def _total_at(self, voters: IntArray, rnd: int) -> Fraction:
        live = voters[self.zeroed_at[voters] >= rnd]
        w = self._weights(live)
        out = self.b0 * int(w.sum())
        if rnd and len(live):
            cols = (w @ self.paid[live, :rnd].astype(np.int64)).tolist()
            units = self.units
            out -= sum((units[i] * c for i, c in enumerate(cols) if c), Fraction(0))
        return out

    def settle(self) -> None:
        """Compute the exact unit of every pending round (in order: each needs the earlier ones)."""
        for rnd, cost, poor, rich_mass in self.pending:
            self.units[rnd] = (cost - self._total_at(poor, rnd)) / rich_mass if rich_mass else Fraction(0)
        self.pending = []

    def total(self, voters: IntArray) -> Fraction:
        """Exact sum of weight * budget over `voters`, now."""
        if not len(voters) or bool((self.zeroed_at[voters] < len(self.units)).all()):
            return Fraction(0)  # nobody with money left: no need to settle pending units
        self.settle()
        return self._total_at(voters, len(self.units))

    def budgets(self, voters: IntArray) -> list[Fraction]:
        """Exact budget of each voter in `voters` now (grouped by identical payment history)."""
        self.settle()
        r = len(self.units)
        if not len(voters):
            return []
        rows = self.paid[voters, :r].astype(np.int64) if r else np.zeros((len(voters), 1), dtype=np.int64)
        uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
        values = []
        for row in uniq.tolist():
            values.append(self.b0 - sum((self.units[i] * c for i, c in enumerate(row) if c), Fraction(0)))
        zero = self.zeroed_at[voters] < r
        return [Fraction(0) if zero[k] else values[int(i)] for k, i in enumerate(inverse.ravel().tolist())]

    def record(
        self, unit: Fraction | None, rich: IntArray, rich_value: IntArray, poor: IntArray, cost: Fraction
    ) -> None:
        """Apply one funded project: `rich` voters paid `rich_value * unit`, `poor` paid everything.

        `unit=None` defers the exact unit (the classification must then be exactly right).
        """
        col = len(self.units)
        if col >= self.paid.shape[1]:
            raise Invalid("more MES rounds than projects", field="rounds")
        self.units.append(unit)
        self.paid[rich, col] = rich_value
        self.zeroed_at[poor] = col
        if unit is None:
            values = rich_value.astype(np.int64)
            mass = int(values.sum() if self.weight is None else self.weight[rich] @ values)
            self.pending.append((col, cost, poor, mass))


def exact_payment(
    ledger: ExactLedger,
    cost: Fraction,
    voters: IntArray,
    value: IntArray,
    band: BoolArray,
    poor: BoolArray,
) -> tuple[Fraction, BoolArray]:
    """Exact payment per utility unit `t` of a project, given a float guess of who is poor.

    A supporter with integer utility value `value[i]` pays min(budget, t * value[i]); the payments sum to
    `cost`. `poor` / `band` split the supporters into sure-poor (pay all they have), unsure (`band`, decided
    here exactly) and sure-rich (the rest). Returns `t` and the exact mask of supporters who pay all they
    have (budget <= t * value). MES's rho is `t` divided by the utility scale (the cost for Cost_Sat).
    """
    w = ledger._weights(voters)
    if not band.any() and not poor.any():  # everyone pays the same share: no budget needed
        return cost / int((w * value).sum()), poor.copy()
    rich = ~(band | poor)
    poor_money = ledger.total(voters[poor])
    rich_mass = int((w[rich] * value[rich]).sum())
    idx = np.flatnonzero(band)
    bud = ledger.budgets(voters[idx])
    items = sorted(
        zip(bud, value[idx].tolist(), w[idx].tolist(), idx.tolist(), strict=False), key=lambda t: t[0] / t[1]
    )
    band_money = sum((b * wi for b, _, wi, _ in items), Fraction(0))
    band_mass = sum(vi * wi for _, vi, wi, _ in items)
    spent = Fraction(0)
    pay: Fraction | None = None
    for b, vi, wi, _ in items:
        cand = (cost - poor_money - spent) / (rich_mass + band_mass)
        if cand * vi <= b:
            pay = cand
            break
        spent += b * wi
        band_mass -= vi * wi
    if pay is None:
        if rich_mass > 0:
            pay = (cost - poor_money - band_money) / rich_mass
        else:  # everyone pays everything: the last one's budget per unit
            b, vi, _, _ = items[-1]
            pay = b / vi
    pays_all = poor.copy()
    for b, vi, _, i in items:
        pays_all[i] = b <= pay * vi
    return pay, pays_all
