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


class ExactLedger:
    """Exact budgets of all voters of one MES run (see the module docstring)."""

    def __init__(self, n_voters: int, max_rounds: int, weight: IntArray | None, max_unit_value: int) -> None:
        dtype = np.uint8 if max_unit_value < 256 else np.int32
        self.paid = np.zeros((n_voters, max(max_rounds, 1)), dtype=dtype)
        self.zeroed = np.zeros(n_voters, dtype=bool)
        self.weight = weight  # integer multiplicities, None = all 1
        self.units: list[Fraction] = []
        self.b0 = Fraction(0)

    def reset(self, b0: Fraction) -> None:
        if self.units:
            self.paid[:, : len(self.units)] = 0
        self.zeroed[:] = False
        self.units = []
        self.b0 = b0

    def _weights(self, voters: IntArray) -> IntArray:
        if self.weight is None:
            return np.ones(len(voters), dtype=np.int64)
        return self.weight[voters]

    def total(self, voters: IntArray) -> Fraction:
        """Exact sum of weight * budget over `voters`."""
        live = voters[~self.zeroed[voters]]
        w = self._weights(live)
        out = self.b0 * int(w.sum())
        r = len(self.units)
        if r and len(live):
            cols = w @ self.paid[live, :r].astype(np.int64)
            out -= sum((u * int(c) for u, c in zip(self.units, cols.tolist(), strict=False) if c), Fraction(0))
        return out

    def budgets(self, voters: IntArray) -> list[Fraction]:
        """Exact budget of each voter in `voters` (grouped by identical payment history)."""
        r = len(self.units)
        if not len(voters):
            return []
        rows = self.paid[voters, :r].astype(np.int64) if r else np.zeros((len(voters), 1), dtype=np.int64)
        uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
        values = []
        for row in uniq.tolist():
            values.append(self.b0 - sum((self.units[i] * c for i, c in enumerate(row) if c), Fraction(0)))
        zero = self.zeroed[voters]
        return [Fraction(0) if zero[k] else values[int(i)] for k, i in enumerate(inverse.ravel().tolist())]

    def record(self, unit: Fraction, rich: IntArray, rich_value: IntArray, poor: IntArray) -> None:
        """Apply one funded project: `rich` voters paid `rich_value * unit`, `poor` paid everything."""
        col = len(self.units)
        if col >= self.paid.shape[1]:
            raise Invalid("more MES rounds than projects", field="rounds")
        self.units.append(unit)
        self.paid[rich, col] = rich_value
        self.zeroed[poor] = True


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
    rich = ~(band | poor)
    poor_money = ledger.total(voters[poor])
    rich_mass = int((w[rich] * value[rich]).sum())
    idx = np.flatnonzero(band)
    bud = ledger.budgets(voters[idx])
    items = sorted(zip(bud, value[idx].tolist(), w[idx].tolist(), idx.tolist(), strict=False), key=lambda t: t[0] / t[1])
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
