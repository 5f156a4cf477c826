"""Sequential Phragmén for approval ballots, exactly as pabutools' `sequential_phragmen` (resolute).

Voters carry loads, starting at 0. Each round, for every project p still available (cost <= budget at the
start), the new maximal load if p were bought is (sum of its supporters' loads + cost) / (its approval
score); the least wins (ties: project id as a string) and its supporters' loads become that value. The rule
stops as soon as any of the tied best projects no longer fits in the remaining budget. Loads are floats
with an exact mirror: a voter's load is 0 or the exact value of the round in which it was last set.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from smartip.budgeting.rules.outcome import ProjectNote
from smartip.budgeting.rules.prepared import Prepared
from smartip.core.errors import Invalid

TOL = 1e-9


def sequential_phragmen(prep: Prepared) -> tuple[list[int], list[ProjectNote]]:
    if prep.ballot_kind not in ("approval", "choose-1"):
        raise Invalid("sequential Phragmén is defined for approval ballots only", field="rule")
    m = prep.n_projects
    w_entry = prep.weight[prep.voter]
    proj_of = np.repeat(np.arange(m), np.diff(prep.ptr))
    score = np.bincount(proj_of, weights=w_entry, minlength=m)
    w_int = None if prep.weight_q is None else np.rint(prep.weight).astype(np.int64)
    score_q = [Fraction(int(round(s))) for s in score]
    load = np.zeros(prep.n_voters)
    last = np.full(prep.n_voters, -1, dtype=np.int64)  # round whose load the voter carries, -1 = none
    loads_q: list[Fraction] = []
    available = [p for p in range(m) if prep.cost_q[p] <= prep.budget_q]
    spent = Fraction(0)
    selected: list[int] = []
    notes: list[ProjectNote] = []

    def exact_new_load(p: int) -> Fraction | None:
        if score_q[p] == 0:
            return None
        sup = prep.voter[prep.ptr[p] : prep.ptr[p + 1]]
        ww = None if w_int is None else w_int[sup]
        cnt = np.bincount(last[sup] + 1, weights=ww, minlength=len(loads_q) + 1)
        total = sum((loads_q[r] * int(c) for r, c in enumerate(cnt[1:].tolist()) if c), Fraction(0))
        return (total + prep.cost_q[p]) / score_q[p]

    while available:
        sums = np.bincount(proj_of, weights=load[prep.voter] * w_entry, minlength=m)
        idx = np.array(available)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = np.where(score[idx] > 0, (sums[idx] + prep.cost[idx]) / score[idx], np.inf)
        best = float(new.min())
        near = idx[new <= best * (1 + TOL)] if np.isfinite(best) else idx[np.isinf(new)]
        exact = {int(p): exact_new_load(int(p)) for p in near}
        finite = [v for v in exact.values() if v is not None]
        low = min(finite) if finite else None
        tied = sorted((p for p, v in exact.items() if v == low), key=lambda p: prep.rank[p])
        if any(spent + prep.cost_q[p] > prep.budget_q for p in tied):
            break
        p = tied[0]
        sup = prep.voter[prep.ptr[p] : prep.ptr[p + 1]]
        if low is not None:
            loads_q.append(low)
            load[sup] = float(low)
            last[sup] = len(loads_q) - 1
        notes.append(
            ProjectNote(
                p,
                True,
                float(prep.cost[p]),
                available=float(prep.budget_q - spent),
                rho=None if low is None else float(low),
                step=len(selected),
                stage="phragmen",
            )
        )
        selected.append(p)
        spent += prep.cost_q[p]
        available.remove(p)
    return selected, notes
