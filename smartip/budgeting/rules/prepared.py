"""Arrays every rule shares, derived once from an `Election`: project-major ballots, exact costs, tie order.

Exactness: pabutools counts with exact rationals. Costs, budget and voter weights are turned into
`Fraction`s from their shortest decimal form (`repr` of the float), so `2458488.22` is exactly 245848822/100
as in pabutools' `mpq("2458488.22")`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import numpy.typing as npt

from smartip.budgeting.rules.election import Election
from smartip.core.errors import Invalid

SatKind = Literal["cost", "card", "score"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def exact(value: float | int) -> Fraction:
    """The exact rational a pabulib number stands for (its shortest decimal representation)."""
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    return Fraction(repr(float(value)))


@dataclass(frozen=True)
class Prepared:
    n_voters: int
    n_projects: int
    cost: FloatArray  # per project
    cost_q: tuple[Fraction, ...]  # exact costs
    budget_q: Fraction
    weight: FloatArray  # per voter (1.0 when the election has no weights)
    weight_q: tuple[Fraction, ...] | None  # exact weights, None = all 1
    total_weight_q: Fraction
    rank: IntArray  # rank[p] = position of project p in pabutools' tie order (id as a string)
    ptr: IntArray  # project-major CSR: supporters of p are voter[ptr[p]:ptr[p+1]]
    voter: npt.NDArray[np.int32]
    score: FloatArray  # the ballot score of that entry (1 for approval/ordinal)
    ballot_kind: str

    def entry_sat(self, sat: SatKind) -> FloatArray:
        """Utility of each (project-major) entry: the project's cost, 1, or the ballot score."""
        if sat == "cost":
            return np.repeat(self.cost, np.diff(self.ptr))
        if sat == "card":
            return np.ones(len(self.voter))
        return self.score.copy()

    def total_sat_q(self, sat: SatKind) -> list[Fraction]:
        """Exact total (weighted) satisfaction of each project, as pabutools' `total_satisfaction_project`."""
        per_entry = self.score if sat == "score" else np.ones(len(self.voter))
        w = self.weight[self.voter]
        mass_f = per_entry * w
        ints = np.rint(mass_f)
        proj_of = np.repeat(np.arange(self.n_projects), np.diff(self.ptr))
        if np.array_equal(ints, mass_f) and (len(ints) == 0 or np.abs(ints).max() < 2**52):
            sums = np.bincount(proj_of, weights=ints, minlength=self.n_projects)  # exact below 2**53
            mass = [Fraction(int(v)) for v in sums.tolist()]
        else:
            wq = self.weight_q
            mass = [Fraction(0)] * self.n_projects
            for e, p in enumerate(proj_of.tolist()):
                wv = Fraction(1) if wq is None else wq[int(self.voter[e])]
                mass[p] += wv * exact(float(per_entry[e]))
        return [m * self.cost_q[p] for p, m in enumerate(mass)] if sat == "cost" else mass

    def supporter_weight(self) -> FloatArray:
        """Per project: the (weighted) number of ballots that list it."""
        return np.add.reduceat(self.weight[self.voter], self.ptr[:-1]) if len(self.voter) else np.zeros(0)


def prepare(election: Election) -> Prepared:
    """Validate an election and build the project-major arrays (duplicates in one ballot: the last wins)."""
    n, m = election.n_voters, election.n_projects
    cost = np.asarray(election.costs, dtype=np.float64)
    if cost.shape != (m,):
        raise Invalid(f"costs has {cost.shape} entries for {m} projects", field="costs")
    if np.any(cost < 0) or not np.all(np.isfinite(cost)):
        raise Invalid("project costs must be finite and non-negative", field="costs")
    if not np.isfinite(election.budget) or election.budget < 0:
        raise Invalid(f"budget {election.budget!r} must be finite and non-negative", field="budget")
    vptr = np.asarray(election.voter_ptr, dtype=np.int64)
    proj = np.asarray(election.entry_project, dtype=np.int64)
    score = np.asarray(election.entry_score, dtype=np.float64)
    if len(vptr) != n + 1 or vptr[0] != 0 or vptr[-1] != len(proj) or np.any(np.diff(vptr) < 0):
        raise Invalid("voter_ptr is not a valid CSR pointer over the entries", field="voter_ptr")
    if len(proj) and (proj.min() < 0 or proj.max() >= m):
        raise Invalid("a ballot names a project index out of range", field="entry_project")
    voter = np.repeat(np.arange(n, dtype=np.int64), np.diff(vptr))
    key = proj.astype(np.int16) if m < 2**15 else proj  # stable sort of 16-bit ints is a radix sort
    order = np.argsort(key, kind="stable")  # entries are voter-major: voters stay ascending
    proj, voter, score = proj[order], voter[order], score[order]
    if len(proj) > 1:  # a project twice in one ballot: keep the last occurrence (pabutools' dict/set)
        dup = (proj[1:] == proj[:-1]) & (voter[1:] == voter[:-1])
        if dup.any():
            keep = np.ones(len(proj), dtype=bool)
            keep[:-1] = ~dup
            proj, voter, score = proj[keep], voter[keep], score[keep]
    ptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(proj, minlength=m), out=ptr[1:])
    if election.voter_weight is None:
        weight = np.ones(n)
        weight_q = None
        total_weight_q = Fraction(n)
    else:
        weight = np.asarray(election.voter_weight, dtype=np.float64)
        if weight.shape != (n,) or np.any(weight <= 0):
            raise Invalid("voter weights must be positive, one per voter", field="voter_weight")
        weight_q = tuple(exact(w) for w in weight)
        total_weight_q = sum(weight_q, Fraction(0))
    names = election.project_ids
    rank = np.empty(m, dtype=np.int64)
    rank[sorted(range(m), key=lambda p: names[p])] = np.arange(m)
    return Prepared(
        n_voters=n,
        n_projects=m,
        cost=cost,
        cost_q=tuple(exact(c) for c in election.costs.tolist()),
        budget_q=exact(election.budget),
        weight=weight,
        weight_q=weight_q,
        total_weight_q=total_weight_q,
        rank=rank,
        ptr=ptr,
        voter=voter.astype(np.int32),
        score=score,
        ballot_kind=election.ballot_kind,
    )
