"""Count every pabulib election with our rules and with pabutools; compare outcomes and times.

    .venv/bin/python benchmarks/pb_rules.py                  # all instances, all rules, cached oracle
    .venv/bin/python benchmarks/pb_rules.py --sample 50 --rules mes greedy
    .venv/bin/python benchmarks/pb_rules.py --oracle-only    # only fill the pabutools cache (slow; use nice)
    .venv/bin/python benchmarks/pb_rules.py --refresh        # recompute cached pabutools outcomes

    .venv/bin/python benchmarks/pb_rules.py --pack           # fold the working cache into the committed file

pabutools outcomes (selected ids in order, and the wall and CPU seconds the rule call took) are kept in ONE
committed file, benchmarks/pabutools_outcomes.json.gz, so that a new machine or CI does not spend hours
recomputing them. Runs that call pabutools save each instance as soon as it is done in the working cache
benchmarks/.cache/pabutools/ (gitignored; safe to interrupt, and a background --oracle-only run can go on
while the benchmark reads it) and fold the cache into the committed file at the end. A pabutools call that
runs over --timeout seconds is recorded as a timeout; those instances count as "not verified" for that rule
and are excluded from the time totals of both sides.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import signal
import sys
import time
from fractions import Fraction
from pathlib import Path
from types import FrameType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from smartip.budgeting.rules.pabutools_oracle import RULE_BALLOTS, pabutools_count  # noqa: E402

DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "pabulib"
CACHE_DIR = REPO_ROOT / "benchmarks" / ".cache" / "pabutools"
OUTCOMES = REPO_ROOT / "benchmarks" / "pabutools_outcomes.json.gz"
ALL_RULES = list(RULE_BALLOTS)


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _Timeout()


def _vote_type(path: Path) -> str:
    with path.open(encoding="utf-8-sig") as f:
        for line in f:
            cells = [c.strip().strip('"') for c in line.split(";")]
            if cells and cells[0].lower() == "vote_type":
                return cells[1].lower()
            if cells and cells[0].upper() == "PROJECTS":
                break
    return "approval"


def _cache_path(path: Path) -> Path:
    return CACHE_DIR / (path.stem + ".json")


_COMMITTED: dict[str, Any] | None = None


def committed() -> dict[str, Any]:
    """The committed outcomes: instance file stem -> {"file", "rules": {rule: outcome}}."""
    global _COMMITTED
    if _COMMITTED is None:
        _COMMITTED = {}
        if OUTCOMES.exists():
            with gzip.open(OUTCOMES, "rt", encoding="utf-8") as f:
                _COMMITTED = dict(json.load(f)["instances"])
    return _COMMITTED


def _read_cache(path: Path) -> dict[str, Any] | None:
    cp = _cache_path(path)
    for _ in range(20):  # another process may be rewriting it
        try:
            return dict(json.loads(cp.read_text())) if cp.exists() else None
        except json.JSONDecodeError:
            time.sleep(0.1)
    return None


def load_cached(path: Path) -> dict[str, Any]:
    """What is known of this instance: the committed outcomes, overridden rule by rule by the working cache."""
    entry = dict(committed().get(path.stem, {"file": path.name, "rules": {}}))
    entry["rules"] = dict(entry["rules"])
    fresh = _read_cache(path)
    if fresh is not None:
        entry["rules"].update(fresh.get("rules", {}))
        entry.update({k: v for k, v in fresh.items() if k != "rules"})
    return entry


def pack() -> int:
    """Fold the working cache into the committed file; return how many instances it holds."""
    from importlib.metadata import version

    store = dict(committed())
    for cp in sorted(CACHE_DIR.glob("*.json")) if CACHE_DIR.is_dir() else []:
        fresh = _read_cache(DATA_DIR / (cp.stem + ".pb"))
        if fresh is not None:
            old = store.get(cp.stem, {"file": fresh.get("file", cp.stem + ".pb"), "rules": {}})
            store[cp.stem] = {**old, **fresh, "rules": {**old.get("rules", {}), **fresh.get("rules", {})}}
    doc = {"pabutools": version("pabutools"), "instances": dict(sorted(store.items()))}
    tmp = OUTCOMES.with_suffix(".tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(json.dumps(doc, separators=(",", ":"), sort_keys=True).encode())
    tmp.replace(OUTCOMES)
    global _COMMITTED
    _COMMITTED = store
    return len(store)


def fill_oracle(path: Path, rules: list[str], timeout_s: int, refresh: bool) -> dict[str, Any]:
    """Run pabutools for the `rules` missing from this instance's cache; save after each rule."""
    from pabutools.election import parse_pabulib

    entry = load_cached(path)
    vtype = _vote_type(path)
    known = entry["rules"]
    if refresh:  # recompute the requested rules, keep the others
        for rule in rules:
            known.pop(rule, None)
    if "knapsack" in known and known["knapsack"].get("algo") != "ilp":  # older cache: primal/dual solver
        del known["knapsack"]
    todo = [r for r in rules if vtype in RULE_BALLOTS[r] and r not in known]
    if not todo:
        return entry
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout_s * 5)
    try:
        t0 = time.perf_counter()
        instance, profile = parse_pabulib(str(path))
        multi = profile.as_multiprofile()
        entry["parse_s"] = time.perf_counter() - t0
    except _Timeout:
        entry["parse_timeout"] = timeout_s * 5
        return entry
    finally:
        signal.alarm(0)
    for rule in todo:
        signal.alarm(timeout_s)
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            sel = pabutools_count(instance, multi, rule)
            entry["rules"][rule] = {
                "selected": sel,
                "seconds": time.perf_counter() - t0,
                "cpu_seconds": time.process_time() - c0,
            }
            if rule == "knapsack":
                entry["rules"][rule]["algo"] = "ilp"
        except _Timeout:
            entry["rules"][rule] = {"timeout": timeout_s}
        except Exception as exc:  # a pabutools failure is a finding, record it
            entry["rules"][rule] = {"error": f"{type(exc).__name__}: {exc}", "algo": "ilp"}
        finally:
            signal.alarm(0)
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = _cache_path(path).with_suffix(".tmp")
        tmp.write_text(json.dumps(entry))
        tmp.replace(_cache_path(path))  # atomic: readers never see half a file
    return entry


def instance_paths(sample: int | None, seed: int = 0) -> list[Path]:
    paths = sorted(DATA_DIR.glob("*.pb"), key=lambda p: (p.stat().st_size, p.name))
    if sample is not None and sample < len(paths):
        rng = random.Random(seed)
        keep = set(rng.sample(range(len(paths)), sample - 1)) | {len(paths) - 1}
        paths = [p for i, p in enumerate(paths) if i in keep]
    return paths


def _welfare(election: Any, ids: list[str]) -> Fraction:
    """Cost_Sat welfare of a set of project ids: sum of cost x supporters (exact)."""
    from smartip.budgeting.rules.prepared import prepare

    prep = prepare(election)
    totals = prep.total_sat_q("cost")
    index = {pid: i for i, pid in enumerate(election.project_ids)}
    return sum((totals[index[i]] for i in ids), Fraction(0))


def _new_stats() -> dict[str, Any]:
    return dict.fromkeys(
        ["agree", "same_order", "n", "timeout", "missing", "n_cpu", "n_all"], 0
    ) | dict.fromkeys(["ours_s", "pabu_s", "ours_cpu", "pabu_cpu", "all_cpu"], 0.0)


def compare(paths: list[Path], args: argparse.Namespace) -> int:
    """Count with ours and compare with the (cached) pabutools outcomes; print the report."""
    from smartip.budgeting.pabulib import load_election
    from smartip.budgeting.rules import RULES, count

    stats = {r: _new_stats() for r in args.rules}
    slow: list[tuple[float, str, str, str]] = []
    mismatches: list[str] = []
    better: list[str] = []
    lodz: dict[str, tuple[float, float]] = {}
    for path in paths:
        try:
            election = load_election(path)
        except Exception as exc:
            mismatches.append(f"{path.name}: our parser failed: {exc}")
            continue
        rules = [r for r in args.rules if election.ballot_kind in RULES[r].ballots]
        entry = (
            load_cached(path) if args.cached_only else fill_oracle(path, rules, args.timeout, args.refresh)
        )
        for rule in rules:
            t0, c0 = time.perf_counter(), time.process_time()
            ours = list(count(election, rule).selected_ids(election.project_ids))
            ours_s, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
            if path.stem == "Poland_Lodz_2020":
                lodz[rule] = (ours_s, ours_cpu)
            ref = entry["rules"].get(rule, {})
            st = stats[rule]
            st["n_all"] += 1
            st["all_cpu"] += ours_cpu
            theirs = f"{ref['seconds']:.2f}s" if "seconds" in ref else "not run"
            slow.append((ours_s, f"> {ref['timeout']}s" if "timeout" in ref else theirs, rule, path.name))
            if "selected" not in ref:
                st["timeout" if ref else "missing"] += 1
                if "error" in ref:
                    mismatches.append(f"{path.name} {rule}: pabutools failed: {ref['error']}")
                continue
            st["n"] += 1
            st["ours_s"] += ours_s
            st["pabu_s"] += ref["seconds"]
            if "cpu_seconds" in ref:
                st["n_cpu"] += 1
                st["ours_cpu"] += ours_cpu
                st["pabu_cpu"] += ref["cpu_seconds"]
            ok = _agrees(election, path.name, rule, ours, ref["selected"], better)
            st["agree"] += ok
            st["same_order"] += ours == ref["selected"]
            if not ok:
                mismatches.append(f"{path.name} {rule}: ours {ours} pabutools {ref['selected']}")
    if not args.cached_only:
        print(f"pabutools outcomes of {pack()} instances in {OUTCOMES.relative_to(REPO_ROOT)}")
    _report(paths, stats, better, lodz, slow, mismatches)
    return 1 if mismatches else 0


def _agrees(
    election: Any, name: str, rule: str, ours: list[str], theirs: list[str], better: list[str]
) -> bool:
    if rule != "knapsack":
        return set(ours) == set(theirs)
    ours_w, theirs_w = _welfare(election, ours), _welfare(election, theirs)
    if ours_w > theirs_w:
        better.append(f"{name}: welfare ours {ours_w} > pabutools {theirs_w}")
    return ours_w >= theirs_w


def _report(
    paths: list[Path],
    stats: dict[str, dict[str, Any]],
    better: list[str],
    lodz: dict[str, tuple[float, float]],
    slow: list[tuple[float, str, str, str]],
    mismatches: list[str],
) -> None:
    print(f"{len(paths)} instances from {DATA_DIR}")
    print(
        f"{'rule':<16}{'agree/verified':>15}{'same order':>11}{'not verif.':>11}"
        f"  | wall:{'ours s':>9}{'pabu s':>9}{'ratio':>7}  | cpu: {'n':>5}{'ours s':>9}{'pabu s':>9}{'ratio':>7}"
    )
    for rule, st in stats.items():
        ratio = st["pabu_s"] / st["ours_s"] if st["ours_s"] else float("nan")
        cpu_ratio = st["pabu_cpu"] / st["ours_cpu"] if st["ours_cpu"] else float("nan")
        print(
            f"{rule:<16}{st['agree']:>8}/{st['n']:<6}{st['same_order']:>11}{st['timeout'] + st['missing']:>11}"
            f"  |     {st['ours_s']:>9.2f}{st['pabu_s']:>9.1f}{ratio:>6.0f}x  |     {st['n_cpu']:>5}"
            f"{st['ours_cpu']:>9.2f}{st['pabu_cpu']:>9.1f}{cpu_ratio:>6.0f}x"
        )
    print(
        "verified: instances pabutools counted within --timeout (the others are 'not verif.'). agree: same"
        " set of projects (knapsack: same welfare, or ours higher because pabutools' ILP stopped short of the"
        " optimum; listed below); same order: same selection order (pabutools returns Phragmen and knapsack"
        " sorted by id). Times: the rule call only; wall totals and ratio over the verified instances; CPU"
        " (process time) totals and ratio over the n verified instances whose pabutools CPU time is recorded."
    )
    for rule, st in stats.items():
        print(
            f"  {rule}: {st['n']} of {st['n_all']} instances verified; not verified: {st['timeout']} pabutools"
            f" over --timeout or failed, {st['missing']} without a pabutools outcome yet (--cached-only). Ours"
            f" over all {st['n_all']}: {st['all_cpu']:.2f} s CPU; over the {st['n_cpu']} verified with CPU"
            f" times: ours {st['ours_cpu']:.2f} s vs pabutools {st['pabu_cpu']:.1f} s"
        )
    for line in better:
        print("  pabutools suboptimal: " + line)
    if lodz:
        print(
            "Poland_Lodz_2020, ours: "
            + ", ".join(f"{r} {w:.3f}s ({c:.3f}s CPU)" for r, (w, c) in lodz.items())
        )
    print("ten slowest (ours, wall, every instance; pabutools' wall time, or what it was not given):")
    for ours_s, theirs, rule, name in sorted(slow, reverse=True)[:10]:
        print(f"  {ours_s:8.3f}s  (pabutools {theirs:>8})  {rule:<16} {name}")
    print(f"{len(mismatches)} mismatches")
    for line in mismatches:
        print("  " + line)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=None, help="random sample of N instances (+ the largest)")
    ap.add_argument("--rules", nargs="+", default=ALL_RULES, choices=ALL_RULES)
    ap.add_argument("--refresh", action="store_true", help="recompute the cached pabutools outcomes")
    ap.add_argument("--oracle-only", action="store_true", help="only fill the pabutools cache")
    ap.add_argument("--cached-only", action="store_true", help="never run pabutools; skip what is not cached")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per pabutools rule call")
    ap.add_argument("--pack", action="store_true", help="only fold the working cache into the committed file")
    args = ap.parse_args(argv)
    if args.pack:
        print(f"{pack()} instances in {OUTCOMES}")
        return 0
    if not DATA_DIR.is_dir():
        print(f"no pabulib data at {DATA_DIR}", file=sys.stderr)
        return 2
    paths = instance_paths(args.sample)
    if args.oracle_only:
        for i, path in enumerate(paths):
            t0 = time.perf_counter()
            fill_oracle(path, args.rules, args.timeout, args.refresh)
            print(f"[{i + 1}/{len(paths)}] {path.name} {time.perf_counter() - t0:.1f}s", flush=True)
        print(f"{pack()} instances in {OUTCOMES}")
        return 0
    return compare(paths, args)


if __name__ == "__main__":
    raise SystemExit(main())
