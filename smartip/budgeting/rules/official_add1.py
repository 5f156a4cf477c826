"""The add-one loop of the cities' Method of Equal Shares, without rerunning MES for every +1.

Definition (`add1_step_by_step`): count MES with per-voter budget `first`; then for j = 1, 2, ... count it
with `base + j` and keep that outcome while its total cost stays within the real budget B; stop at the first
one that overspends (or, with `stop_when_exhaustive`, as soon as the kept outcome leaves no project that
still fits). The checker starts at first = B/n with base = floor(B/n); the equalshares.net tool with its
"integral" option at first = base = floor(B/n).

Fast path (`add1_fast`): the same sequence, but after each real count at budget b it *proves* the outcome
stays the same on a whole interval [b, b + d] and jumps over it. The proof (`_certify`) rests on two
monotonicity facts of MES with a fixed sequence of winners: every voter's remaining money after each round is
non-decreasing in the starting budget (a supporter pays min(money, p), and p falls when money rises), so each
project's effective vote count is non-decreasing too. Hence, if at every round the winner's count at b beats
every rival's count computed with the money they would have at b + d (and at the end no rival becomes
affordable with that money), no budget in between can change any decision. Too-close float comparisons make
the proof fail, never pass, and the count at each landing point is exact (see `official_mes.run`).
"""

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from smartip.budgeting.rules.official_mes import TOL, ApprovalTypes, MesRun, run, run_exact, share_float


@dataclass
class Add1Result:
    run: MesRun  # the kept fixed-budget run
    per_voter: Fraction  # its per-voter budget
    counts: int  # MES counts made (fast path) or steps taken (step by step)


def _cost(t: ApprovalTypes, winners: list[int]) -> int:
    return sum(t.costs[c] for c in winners)


def _exhaustive(t: ApprovalTypes, winners: list[int], budget: int) -> bool:
    spent, chosen = _cost(t, winners), set(winners)
    return all(c in chosen or spent + t.costs[c] > budget for c in range(t.n_projects))


def _complete(t: ApprovalTypes, winners: list[int]) -> bool:
    """Every project MES can ever fund is funded: more money cannot change anything."""
    return set(t.selectable()) <= set(winners)


def add1_step_by_step(
    t: ApprovalTypes, budget: int, first: Fraction, base: Fraction, *, stop_when_exhaustive: bool = False
) -> Add1Result:
    """The literal definition, one exact MES count per +1 step (reference for tests and benchmarks)."""
    kept, kept_b, j = run_exact(t, first), first, 0
    while not _complete(t, kept.winners):
        if stop_when_exhaustive and _exhaustive(t, kept.winners, budget):
            break
        j += 1
        nxt = run_exact(t, base + j)
        if _cost(t, nxt.winners) > budget:
            break
        kept, kept_b = nxt, base + j
    return Add1Result(kept, kept_b, j + 1)


def add1_fast(
    t: ApprovalTypes, budget: int, first: Fraction, base: Fraction, *, stop_when_exhaustive: bool = False
) -> Add1Result:
    """Same result as `add1_step_by_step`, counting MES only where the outcome may change."""
    kept, kept_b, j, counts = run(t, first), first, 0, 1
    counted_at = first
    j_max = max(1, int(sum(t.costs) - base) + 1)  # from here on each voter alone affords everything
    span = 1
    while not _complete(t, kept.winners):
        if stop_when_exhaustive and _exhaustive(t, kept.winners, budget):
            break
        j += 1
        nxt = run(t, base + j)
        counts += 1
        if _cost(t, nxt.winners) > budget:
            break
        if _complete(t, nxt.winners) or (stop_when_exhaustive and _exhaustive(t, nxt.winners, budget)):
            kept, kept_b, counted_at = nxt, base + j, base + j
            break  # the definition stops right here
        d, counts_used = _longest_certified(t, nxt, base + j, j_max - j, span)
        counts += counts_used
        span = max(1, d)
        j += d
        kept, kept_b, counted_at = nxt, base + j, base + j - d
    if kept_b != counted_at:  # same winners (proved); recount for the last step's own figures
        kept = run(t, kept_b)
        counts += 1
    return Add1Result(kept, kept_b, counts)


def _longest_certified(t: ApprovalTypes, r: MesRun, b: Fraction, limit: int, guess: int) -> tuple[int, int]:
    """Largest d <= limit with the outcome provably constant on [b, b + d]; and the proofs attempted."""
    good, bad, tries = 0, limit + 1, 0
    d = min(guess, limit)
    while d > good:  # gallop up from the last span that worked
        tries += 1
        if _certify(t, r, float(b + d)):
            good = d
            d = min(2 * d, limit)
        else:
            bad = d
            break
    while bad - good > 1:
        mid = (good + bad) // 2
        tries += 1
        if _certify(t, r, float(b + mid)):
            good = mid
        else:
            bad = mid
    return good, tries


def _beats(t: ApprovalTypes, w: int, w_eff: float, w_int: bool, c: int, c_eff: float, c_int: bool) -> bool:
    """Does winner w (count at least w_eff) surely beat rival c (count at most c_eff)?"""
    if w_int and c_int:
        return w_eff > c_eff or (w_eff == c_eff and t.tie_key(w) < t.tie_key(c))
    return w_eff > c_eff * (1 + TOL)


def _certify(t: ApprovalTypes, r: MesRun, b_hi: float) -> bool:
    """True only if every per-voter budget in [b, b_hi] gives the winners of `r` (see the module doc)."""
    budget = np.full(len(t.weights), b_hi)
    # upper bounds of the rivals' counts (value, exact integer?)
    rivals = {c: (float(t.approvals[c]), True) for c in t.selectable()}
    for w, w_eff, w_int in zip(r.winners, r.eff, r.eff_is_int, strict=True):
        del rivals[w]
        for c in sorted(rivals, key=lambda c: -rivals[c][0]):
            if w_eff > rivals[c][0] * (1 + TOL):
                break  # this bound and all later (smaller) ones are clearly beaten
            if _beats(t, w, w_eff, w_int, c, *rivals[c]):
                continue
            s = t.supporters[c]
            money = float(budget[s] @ t.weights[s])
            if money < t.costs[c] * (1 - TOL):
                del rivals[c]  # unaffordable on the whole interval from here on
                continue
            if money < t.costs[c] * (1 + TOL):
                return False
            _, eff, is_int = share_float(float(t.costs[c]), budget[s], t.weights[s])
            rivals[c] = (eff, is_int)
            if not _beats(t, w, w_eff, w_int, c, eff, is_int):
                return False
        s = t.supporters[w]
        p, _, _ = share_float(float(t.costs[w]), budget[s], t.weights[s])
        budget[s] = np.maximum(budget[s] - p, 0.0)
    for c in rivals:
        s = t.supporters[c]
        if float(budget[s] @ t.weights[s]) >= t.costs[c] * (1 - TOL):
            return False
    return True
