"""Sequential Phragmén for approval ballots, exactly as pabutools' `sequential_phragmen` (resolute).

Voters carry loads, starting at 0. Each round, for every project p still available (cost <= budget at the
start), the new maximal load if p were bought is (sum of its supporters' loads + cost) / (its approval
score); the least wins (ties: project id as a string) and its supporters' loads become that value. The rule
stops as soon as any of the tied best projects no longer fits in the remaining budget. Loads are floats
with an exact mirror: a voter's load is 0 or the exact value of the round in which it was last set.
"""

from __future__ import annotations

from collections.abc import Callable
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
            notes += _stop_notes(prep, available, tied, low, prep.budget_q - spent, exact_new_load)
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
    over = [p for p in range(m) if prep.cost_q[p] > prep.budget_q]
    notes += [
        ProjectNote(
            p, False, float(prep.cost[p]), available=float(prep.budget_q), stage="phragmen-over-budget"
        )
        for p in over
    ]
    return selected, notes


def _stop_notes(
    prep: Prepared,
    remaining: list[int],
    tied: list[int],
    low: Fraction | None,
    left: Fraction,
    new_load: Callable[[int], Fraction | None],
) -> list[ProjectNote]:
    """Why each project still in the running when the rule stopped was not funded (computed after the stop,
    so the outcome is untouched). The rule stops when a project tied for the lowest new load does not fit in
    the budget left (`left`); `rho` is the project's own new maximal load (None: nobody approved it),
    `threshold` = the next in line's new load.

    Stages: "phragmen-no-fit" (tied for next and costs more than what is left), "phragmen-tied" (tied for
    next with a project that does not fit), "phragmen-load-no-fit" (higher load than the next in line and it
    does not fit either), "phragmen-load" (fits, but its supporters' load would have been higher than the
    next in line's, `threshold` = that load), "phragmen-no-support" (nobody approved it).
    """
    notes = []
    best = None if low is None else float(low)
    for p in remaining:
        cost, fits = float(prep.cost[p]), prep.cost_q[p] <= left
        if p in tied and low is None:
            stage, rho = "phragmen-no-support", None
        elif p in tied:
            stage = "phragmen-tied" if fits else "phragmen-no-fit"
            rho = best
        else:
            exact_load = new_load(p)
            rho = None if exact_load is None else float(exact_load)
            if exact_load is None:
                stage = "phragmen-no-support"
            else:
                stage = "phragmen-load" if fits else "phragmen-load-no-fit"
        notes.append(ProjectNote(p, False, cost, available=float(left), rho=rho, threshold=best, stage=stage))
    return notes
