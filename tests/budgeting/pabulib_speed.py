"""Parse speed of `smartip.budgeting.pabulib` against pabutools' `parse_pabulib` on the same files.

Run: `.venv/bin/python -m tests.budgeting.pabulib_speed [N_FILES] [--json]` (default: the 5 largest files of
../shared/data/pabulib by voters). Prints CPU seconds (best of 3 for ours, 1 run for pabutools) and the ratio.
"""

import csv
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FOLDER = REPO_ROOT.parent / "shared" / "data" / "pabulib"


def _cpu_seconds(run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def largest_files(count: int) -> list[tuple[str, int]]:
    with open(FOLDER / "INDEX.tsv", encoding="utf-8", newline="") as index:
        rows = sorted(csv.DictReader(index, delimiter="\t"), key=lambda r: -int(r["n_voters"]))
    return [(row["file"], int(row["n_voters"])) for row in rows[:count]]


def main(argv: list[str]) -> int:
    from pabutools.election.pabulib import parse_pabulib

    from smartip.budgeting.pabulib import load_election, read_pb

    as_json = "--json" in argv
    numbers = [a for a in argv if a.isdigit()]
    results = []
    for name, voters in largest_files(int(numbers[0]) if numbers else 5):
        path = FOLDER / name
        ours_read = _cpu_seconds(lambda p=path: read_pb(p), 3)
        ours_load = _cpu_seconds(lambda p=path: load_election(p), 3)
        theirs = _cpu_seconds(lambda p=path: parse_pabulib(str(p)), 1)
        results.append(
            {
                "file": name,
                "voters": voters,
                "read_pb_s": ours_read,
                "load_election_s": ours_load,
                "pabutools_s": theirs,
                "speedup": theirs / ours_load,
            }
        )
        if not as_json:
            print(
                f"{name:40} {voters:>7} voters  read_pb {ours_read:.3f}s  load_election {ours_load:.3f}s  "
                f"pabutools {theirs:.3f}s  ×{theirs / ours_load:.1f}",
                file=sys.stdout,
            )
    if as_json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
