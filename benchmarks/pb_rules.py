"""Count every pabulib election with our rules and with pabutools; compare outcomes and times.

    .venv/bin/python benchmarks/pb_rules.py                  # all instances, all rules, cached oracle
    .venv/bin/python benchmarks/pb_rules.py --sample 50 --rules mes greedy
    .venv/bin/python benchmarks/pb_rules.py --oracle-only    # only fill the pabutools cache (slow; use nice)
    .venv/bin/python benchmarks/pb_rules.py --refresh        # recompute cached pabutools outcomes

pabutools outcomes (selected ids in order, and the seconds the rule call took) are cached as one JSON file
per instance in benchmarks/.cache/pabutools/ (gitignored). A pabutools call that runs over --timeout seconds
is recorded as a timeout; those instances count as "not verified" for that rule and are excluded from the
time totals of both sides.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from smartip.budgeting.rules.pabutools_oracle import RULE_BALLOTS, pabutools_count  # noqa: E402

DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "pabulib"
CACHE_DIR = REPO_ROOT / "benchmarks" / ".cache" / "pabutools"
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


def load_cached(path: Path) -> dict[str, Any]:
    cp = _cache_path(path)
    if cp.exists():
        return dict(json.loads(cp.read_text()))
    return {"file": path.name, "rules": {}}


def fill_oracle(path: Path, rules: list[str], timeout_s: int, refresh: bool) -> dict[str, Any]:
    """Run pabutools for the `rules` missing from this instance's cache; save after each rule."""
    from pabutools.election import parse_pabulib

    entry = {"file": path.name, "rules": {}} if refresh else load_cached(path)
    vtype = _vote_type(path)
    todo = [r for r in rules if vtype in RULE_BALLOTS[r] and r not in entry["rules"]]
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
        t0 = time.perf_counter()
        try:
            sel = pabutools_count(instance, multi, rule)
            entry["rules"][rule] = {"selected": sel, "seconds": time.perf_counter() - t0}
        except _Timeout:
            entry["rules"][rule] = {"timeout": timeout_s}
        except Exception as exc:  # a pabutools failure is a finding, record it
            entry["rules"][rule] = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            signal.alarm(0)
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        _cache_path(path).write_text(json.dumps(entry))
    return entry


def instance_paths(sample: int | None, seed: int = 0) -> list[Path]:
    paths = sorted(DATA_DIR.glob("*.pb"), key=lambda p: (p.stat().st_size, p.name))
    if sample is not None and sample < len(paths):
        rng = random.Random(seed)
        keep = set(rng.sample(range(len(paths)), sample - 1)) | {len(paths) - 1}
        paths = [p for i, p in enumerate(paths) if i in keep]
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=None, help="random sample of N instances (+ the largest)")
    ap.add_argument("--rules", nargs="+", default=ALL_RULES, choices=ALL_RULES)
    ap.add_argument("--refresh", action="store_true", help="recompute the cached pabutools outcomes")
    ap.add_argument("--oracle-only", action="store_true", help="only fill the pabutools cache")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per pabutools rule call")
    args = ap.parse_args(argv)
    if not DATA_DIR.is_dir():
        print(f"no pabulib data at {DATA_DIR}", file=sys.stderr)
        return 2
    paths = instance_paths(args.sample)
    if args.oracle_only:
        for i, path in enumerate(paths):
            t0 = time.perf_counter()
            fill_oracle(path, args.rules, args.timeout, args.refresh)
            print(f"[{i + 1}/{len(paths)}] {path.name} {time.perf_counter() - t0:.1f}s", flush=True)
        return 0
    from benchmarks_compare import compare  # type: ignore[import-not-found]

    return int(compare(paths, args))


if __name__ == "__main__":
    raise SystemExit(main())
