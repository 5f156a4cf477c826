"""Recount every pabulib file that publishes its winners with the rule it declares; compare; time it.

    .venv/bin/python benchmarks/pb_official.py [--json] [--limit N] [--no-reference] [FILE_PATTERN]

Declared winners are the projects with `selected == 1`. Projects marked 2 or 3 ("funded for another reason":
Poznań's 80% rule = 2, reserve funds = 3) are left out of the comparison, except that for Poznań the project
our greedy-poznan rule funds by the 80% rule is compared with the file's 2. Greedy rules rank projects by the
file's `score` (else `votes`) column as the pabulib checker does; where that column disagrees with the
ballots, the diagnosis says so. For equal-shares files the step-by-step definition and pabutools are timed too.
"""

import argparse
import json
import sys
import time
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
DATA = REPO_ROOT.parent / "shared" / "data" / "pabulib"

from smartip.budgeting.pabulib import read_pb, to_election  # noqa: E402
from smartip.budgeting.rules.official import (  # noqa: E402
    approval_types,
    ballot_scores,
    count_official,
    declared_rule,
)
from smartip.budgeting.rules.official_add1 import add1_fast, add1_step_by_step  # noqa: E402


def file_scores(pb: object) -> list[float] | None:
    rows = pb.projects  # type: ignore[attr-defined]
    for column in ("score", "votes"):
        if rows and all(column in r for r in rows):
            return [float(r[column]) for r in rows]
    return None


def declared(pb: object, rule: str) -> tuple[set[str], set[str]]:
    """(ids the comparison expects, ids marked 2/3 and left out)."""
    ones, others = set(), set()
    for r in pb.projects:  # type: ignore[attr-defined]
        mark = r.get("selected", "0")
        if mark == "1" or (rule == "greedy-poznan" and mark == "2"):
            ones.add(r["project_id"])
        elif mark in ("2", "3"):
            others.add(r["project_id"])
    return ones, others


def diagnose(pb: object, election: object, rule: str, got: set[str], want: set[str]) -> str:
    fs, bs = file_scores(pb), ballot_scores(election)  # type: ignore[arg-type]
    notes = []
    if fs is not None and any(abs(a - b) > 1e-9 for a, b in zip(fs, bs, strict=True)):
        alt = count_official(election, rule, scores=bs)  # type: ignore[arg-type]
        same = set(alt.selected) == want
        notes.append("file score column != ballots" + ("; ballot counts reproduce it" if same else ""))
    comment = pb.meta.get("comment", "")  # type: ignore[attr-defined]
    if comment:
        notes.append("comment: " + comment[:160])
    return "; ".join(notes) or "unexplained"


def pabutools_add1_seconds(path: Path) -> float:
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import method_of_equal_shares

    t0 = time.perf_counter()
    instance, profile = parse_pabulib(str(path))
    method_of_equal_shares(instance, profile.as_multiprofile(), sat_class=Cost_Sat, voter_budget_increment=1)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("pattern", nargs="?", default="*.pb")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--no-reference", action="store_true", help="skip step-by-step and pabutools timings")
    ap.add_argument(
        "--all-mes", action="store_true", help="also time equalshares/add1 on every approval file (slow)"
    )
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"no data at {DATA}", file=sys.stderr)
        return 2
    files = sorted(DATA.glob(args.pattern))[: args.limit or None]
    per_rule: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    differ, timings, reference = [], [], []
    for path in files:
        pb = read_pb(path)
        if not pb.projects or "selected" not in pb.projects[0]:
            continue
        election = to_election(pb)
        meta_rule = pb.meta.get("rule", "unknown")
        if meta_rule == "unknown":
            continue
        rule = declared_rule(election)
        t0, cpu0 = time.perf_counter(), time.process_time()
        outcome = count_official(
            election, rule, scores=file_scores(pb) if rule.startswith("greedy") else None
        )
        seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - cpu0
        want, left_out = declared(pb, rule)
        got = set(outcome.selected) - left_out
        ok = got == want
        per_rule[meta_rule][0] += ok
        per_rule[meta_rule][1] += 1
        timings.append((seconds, path.name, rule, cpu_seconds))
        if not ok:
            differ.append(
                {
                    "file": path.name,
                    "rule": meta_rule,
                    "counted_as": rule,
                    "missing": sorted(want - got),
                    "extra": sorted(got - want),
                    "diagnosis": diagnose(pb, election, rule, got, want),
                }
            )
        if rule.startswith("equalshares") and not args.no_reference:
            reference.append(_reference_times(path, election, seconds))
    report = {
        "agreement": {r: {"agree": a, "files": n, "rate": a / n} for r, (a, n) in sorted(per_rule.items())},
        "slowest": [
            {"seconds": round(s, 4), "cpu_seconds": round(c, 4), "file": f, "rule": r}
            for s, f, r, c in sorted(timings)[::-1][:10]
        ],
        "differ": differ,
        "equalshares_reference": reference,
    }
    if args.all_mes:
        report["mes_add1_everywhere"] = _mes_everywhere(files)
    _print(report, args.json)
    return 0


def _mes_everywhere(files: list[Path]) -> dict[str, object]:
    """equalshares/add1 on every approval file, whatever it declares: time and MES counts."""
    rows = []
    for path in files:
        pb = read_pb(path)
        if pb.meta.get("vote_type") not in ("approval", "choose-1"):
            continue
        election = to_election(pb)
        t0, cpu0 = time.perf_counter(), time.process_time()
        outcome = count_official(election, "equalshares/add1")
        counts = outcome.details.get("mes_counts")
        rows.append(
            (time.perf_counter() - t0, path.name, counts, election.n_voters, time.process_time() - cpu0)
        )
        print(f"{rows[-1][0]:8.3f} s {path.name}", file=sys.stderr)
    rows.sort(reverse=True)
    seconds = [r[0] for r in rows]
    cpu = [r[4] for r in rows]
    return {
        "files": len(rows),
        "total_s": round(sum(seconds), 2),
        "median_s": round(seconds[len(seconds) // 2], 4) if seconds else None,
        "over_1s": sum(s > 1 for s in seconds),
        "cpu_over_1s": sum(s > 1 for s in cpu),
        "slowest": [
            {"seconds": round(s, 3), "cpu_seconds": round(u, 3), "file": f, "mes_counts": c, "voters": n}
            for s, f, c, n, u in rows[:15]
        ],
    }


def _reference_times(path: Path, election: object, seconds: float) -> dict[str, object]:
    t = approval_types(election)  # type: ignore[arg-type]
    budget, n = int(election.budget), election.n_voters  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    step = add1_step_by_step(t, budget, Fraction(budget // n), Fraction(budget // n))
    step_s = time.perf_counter() - t0
    fast = add1_fast(t, budget, Fraction(budget // n), Fraction(budget // n))
    pabu = pabutools_add1_seconds(path)
    return {
        "file": path.name,
        "fast_s": round(seconds, 3),
        "step_by_step_s": round(step_s, 3),
        "steps": step.counts,
        "identical_to_step_by_step": fast.run.winners == step.run.winners
        and fast.per_voter == step.per_voter,
        "pabutools_add1_s": round(pabu, 3),
    }


def _print(report: dict, as_json: bool) -> None:  # type: ignore[type-arg]
    if as_json:
        print(json.dumps(report, indent=1))
        return
    print(f"{'declared rule':32} {'agree':>6} {'files':>6} {'rate':>7}")
    for rule, r in report["agreement"].items():
        print(f"{rule:32} {r['agree']:6} {r['files']:6} {100 * r['rate']:6.1f}%")
    print("\nslowest counts:")
    for s in report["slowest"]:
        print(f"  {s['seconds']:8.4f} s (cpu {s['cpu_seconds']:.4f} s)  {s['rule']:28} {s['file']}")
    print(f"\nfiles that differ ({len(report['differ'])}):")
    for d in report["differ"]:
        print(f"  {d['file']} [{d['rule']} as {d['counted_as']}] missing={d['missing']} extra={d['extra']}")
        print(f"      {d['diagnosis']}")
    if "mes_add1_everywhere" in report:
        everywhere = report["mes_add1_everywhere"]
        print(
            f"\nequalshares/add1 on all {everywhere['files']} approval files: total {everywhere['total_s']} s, "
            f"median {everywhere['median_s']} s, {everywhere['over_1s']} over 1 s "
            f"({everywhere['cpu_over_1s']} over 1 s of CPU); slowest:"
        )
        for r in everywhere["slowest"]:
            print(
                f"  {r['seconds']:8.3f} s (cpu {r['cpu_seconds']:.3f} s)  counts={r['mes_counts']}  "
                f"voters={r['voters']}  {r['file']}"
            )
    if report["equalshares_reference"]:
        print("\nequal shares, fast vs step-by-step definition vs pabutools (add1):")
        for r in report["equalshares_reference"]:
            print("  " + ", ".join(f"{k}={v}" for k, v in r.items()))


if __name__ == "__main__":
    sys.exit(main())
