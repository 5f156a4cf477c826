"""Recount every pabulib file that publishes its winners with the rule it declares; compare; time it.

    .venv/bin/python benchmarks/pb_official.py [--json] [--limit N] [--no-reference] [FILE_PATTERN]
    .venv/bin/python benchmarks/pb_official.py --all-mes [--check-steps] [FILE_PATTERN]

`--all-mes` counts the four equal-shares rules on every approval file, whatever it declares, and prints per rule
the total CPU seconds, the files over 1 s and the slowest ten (after one warm-up count that loads the compiled
kernel, reported apart). `--check-steps` also recounts the add-one loop by its step-by-step definition (one
`official_mes.run` per +1 step, rational where floats are too close; the rational definition itself where the
loop is short) and reports every file whose outcome differs.

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
from smartip.budgeting.rules.official_mes import run  # noqa: E402


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


def checker_verdict(path: Path) -> str:
    """What the pabulib checker (the second reference) says of the file's winners under its declared rule."""
    import contextlib
    import io

    from pabulib.checker import Checker

    with contextlib.redirect_stdout(io.StringIO()):
        results = Checker().process_files([str(path)])
    said = []
    for key, value in results.items():
        if key in ("metadata", "summary"):
            continue
        for kind in ("errors", "warnings"):
            for title, lines in value["results"][kind].items():
                if "rule" in title or "greedy" in title or "equalshares" in title:
                    said.append(f"{title}: " + " ".join(str(v) for v in lines.values())[:200])
    return "pabulib-checker: " + ("; ".join(said) if said else "finds the declared winners consistent")


def diagnose(path: Path, pb: object, election: object, rule: str, got: set[str], want: set[str]) -> str:
    fs, bs = file_scores(pb), ballot_scores(election)  # type: ignore[arg-type]
    notes = []
    if fs is not None and any(abs(a - b) > 1e-9 for a, b in zip(fs, bs, strict=True)):
        alt = count_official(election, rule, scores=bs)  # type: ignore[arg-type]
        same = set(alt.selected) == want
        notes.append("file score column != ballots" + ("; ballot counts reproduce it" if same else ""))
    notes.append(checker_verdict(path))
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
        "--all-mes", action="store_true", help="time the equal-shares rules on every approval file instead"
    )
    ap.add_argument(
        "--check-steps", action="store_true", help="with --all-mes: compare add1 with the step-by-step loop"
    )
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"no data at {DATA}", file=sys.stderr)
        return 2
    files = sorted(DATA.glob(args.pattern))[: args.limit or None]
    warm_up_s = _warm_up()
    if args.all_mes:
        everywhere = _mes_everywhere(files, args.check_steps)
        everywhere["warm_up_cpu_s"] = warm_up_s
        _print_everywhere(everywhere, args.json)
        return 1 if everywhere["differ"] else 0
    per_rule: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    differ, timings, reference, undeclared = [], [], [], []
    for path in files:
        pb = read_pb(path)
        if not pb.projects or "selected" not in pb.projects[0]:
            continue
        election = to_election(pb)
        meta_rule = pb.meta.get("rule", "unknown")
        if meta_rule == "unknown":
            undeclared.append(path.name)
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
                    "diagnosis": diagnose(path, pb, election, rule, got, want),
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
        "undeclared": undeclared,
        "equalshares_reference": reference,
        "warm_up_cpu_s": warm_up_s,
    }
    _print(report, args.json)
    return 0


def _warm_up() -> float:
    """CPU seconds of a first add-one count: loads (or compiles, the first time on a machine) the numba kernel."""
    cpu0 = time.process_time()
    count_official(to_election(read_pb(DATA / "Netherlands_Assen_2024.pb")), "equalshares/add1")
    return round(time.process_time() - cpu0, 3)


MES_RULES = ("equalshares", "equalshares-comparison", "equalshares/add1", "equalshares/add1-comparison")


def _mes_everywhere(files: list[Path], check_steps: bool) -> dict[str, object]:
    """Every equal-shares rule on every approval file, whatever it declares: CPU seconds per count."""
    report: dict[str, object] = {}
    rows: dict[str, list[tuple[float, str, object]]] = {r: [] for r in MES_RULES}
    differ, checked = [], {"everything fits": 0, "run per step": 0, "also rational": 0, "steps": 0}
    for path in files:
        pb = read_pb(path)
        if pb.meta.get("vote_type") not in ("approval", "choose-1"):
            continue
        election = to_election(pb)
        for rule in MES_RULES:
            cpu0 = time.process_time()
            outcome = count_official(election, rule)
            rows[rule].append((time.process_time() - cpu0, path.name, outcome.details.get("mes_counts")))
            if rule == "equalshares/add1" and check_steps:
                diff = _differs_from_steps(election, outcome, checked)
                if diff:
                    differ.append({"file": path.name, **diff})
        print(f"{rows['equalshares/add1'][-1][0]:8.3f} s {path.name}", file=sys.stderr)
    report["rules"] = {rule: _summary(r) for rule, r in rows.items()}
    report["checked_against_steps"] = checked
    report["differ"] = differ
    return report


def _summary(rows: list[tuple[float, str, object]]) -> dict[str, object]:
    rows = sorted(rows, reverse=True)
    return {
        "files": len(rows),
        "total_cpu_s": round(sum(r[0] for r in rows), 2),
        "over_1s": sum(r[0] > 1 for r in rows),
        "slowest": [{"cpu_seconds": round(s, 3), "file": f, "mes_counts": c} for s, f, c in rows[:10]],
    }


EXACT_WORK = 100_000  # steps x supporter entries up to which the rational definition runs too (minutes)


def _differs_from_steps(
    election: object, outcome: object, checked: dict[str, int]
) -> dict[str, object] | None:
    """The add-one loop by its definition, one count per +1 step; None when it gives `outcome`'s result.

    Counts in `checked` how each file was compared: every loop by `official_mes.run` per step (floats, exact
    where too close: itself tested against the rational run), short ones also by the rational definition.
    """
    t = approval_types(election)  # type: ignore[arg-type]
    budget, n = int(election.budget), max(1, election.n_voters)  # type: ignore[attr-defined]
    base = Fraction(budget // n)
    if sum(t.costs) <= budget:  # counted as plain MES (everything fits)
        checked["everything fits"] += 1
        return None
    kept, kept_b, j = run(t, base).winners, base, 0
    while not set(t.selectable()) <= set(kept):
        j += 1
        nxt = run(t, base + j).winners
        if sum(t.costs[c] for c in nxt) > budget:
            break
        kept, kept_b = nxt, base + j
    checked["run per step"] += 1
    checked["steps"] += j
    if j * sum(len(s) for s in t.supporters) <= EXACT_WORK:
        checked["also rational"] += 1
        exact = add1_step_by_step(t, budget, base, base)
        if (exact.run.winners, exact.per_voter) != (kept, kept_b):
            return {"definition": "rational", "per_voter": float(exact.per_voter)}
    got = [election.project_ids.index(p) for p in outcome.selected]  # type: ignore[attr-defined]
    if got != kept or Fraction(outcome.details["per_voter_budget"]) != kept_b:  # type: ignore[attr-defined]
        return {"definition": "run per step", "per_voter": float(kept_b), "steps": j}
    return None


def _print_everywhere(report: dict, as_json: bool) -> None:  # type: ignore[type-arg]
    if as_json:
        print(json.dumps(report, indent=1))
        return
    print(f"compiled kernel load / first count: {report['warm_up_cpu_s']} s CPU (once per process)")
    for rule, r in report["rules"].items():
        print(
            f"\n{rule}: {r['files']} approval files, total {r['total_cpu_s']} s CPU, "
            f"{r['over_1s']} over 1 s; slowest:"
        )
        for s in r["slowest"]:
            print(f"  {s['cpu_seconds']:8.3f} s  counts={s['mes_counts']}  {s['file']}")
    checked = report["checked_against_steps"]
    if checked["run per step"] + checked["everything fits"]:
        print(
            f"\nadd1 vs the step-by-step definition: {checked['run per step']} loops ({checked['steps']} steps) "
            f"counted by official_mes.run per step, {checked['also rational']} of them also by the rational "
            f"definition; {checked['everything fits']} files where everything fits (plain MES); "
            f"{len(report['differ'])} differ"
        )
        for d in report["differ"]:
            print(f"  {d}")


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
    print(
        f"compiled kernel load / first count: {report['warm_up_cpu_s']} s CPU (once per process, not below)\n"
    )
    print(f"{'declared rule':32} {'agree':>6} {'files':>6} {'rate':>7}")
    for rule, r in report["agreement"].items():
        print(f"{rule:32} {r['agree']:6} {r['files']:6} {100 * r['rate']:6.1f}%")
    if report["undeclared"]:
        print(f"(not counted: {len(report['undeclared'])} files with winners declare rule 'unknown')")
    print("\nslowest counts:")
    for s in report["slowest"]:
        print(f"  {s['seconds']:8.4f} s (cpu {s['cpu_seconds']:.4f} s)  {s['rule']:28} {s['file']}")
    print(f"\nfiles that differ ({len(report['differ'])}):")
    for d in report["differ"]:
        print(f"  {d['file']} [{d['rule']} as {d['counted_as']}] missing={d['missing']} extra={d['extra']}")
        print(f"      {d['diagnosis']}")
    if report["equalshares_reference"]:
        print("\nequal shares, fast vs step-by-step definition vs pabutools (add1):")
        for r in report["equalshares_reference"]:
            print("  " + ", ".join(f"{k}={v}" for k, v in r.items()))


if __name__ == "__main__":
    sys.exit(main())
