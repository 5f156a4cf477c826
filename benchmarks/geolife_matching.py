"""Map matching of the real GeoLife fixes on a Beijing street network (``beijing_network.py``).

The GeoLife "10 MB" sample is segmented by our pipeline (stay points, triplegs, modes); every tripleg of a
street mode (walk, bicycle, bus/tram, car; not train) is matched with its mode and the default options,
the whole set repeated until at least ``min_fixes`` fixes are matched, as the pipeline benchmark does for
segmentation. There is no ground truth for these fixes: the figures are rates and how many fixes were
matched, interpolated, left unmatched (no street of the graph within reach) or skipped (thinned out).

    python benchmarks/geolife_matching.py [--min-fixes 1600000] [--workers 2]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS.parent))
sys.path.insert(0, str(BENCHMARKS))

from beijing_network import coverage, write_osm_pbf  # noqa: E402

from smartip.mobility.fixes import Fixes  # noqa: E402
from smartip.mobility.matching.matcher import is_matchable  # noqa: E402
from smartip.mobility.pipeline.run import process  # noqa: E402

#: Pipeline mode names that differ from the matcher's (as in the mobility service).
MATCH_MODE = {"bus/tram": "bus"}


def street_triplegs(users: list[Fixes]) -> tuple[list[Fixes], list[str]]:
    """The triplegs of street modes (with at least two fixes) of every user, and their matcher modes."""
    legs: list[Fixes] = []
    modes: list[str] = []
    for fixes in users:
        result = process(fixes)
        tpls = result.triplegs
        for k in range(len(tpls)):
            mode = MATCH_MODE.get(str(result.tripleg_modes[k]), str(result.tripleg_modes[k]))
            leg = result.fixes.take(np.arange(int(tpls.first_fix[k]), int(tpls.end_fix[k])))
            if is_matchable(mode) and len(leg) >= 2:
                legs.append(leg)
                modes.append(mode)
    return legs, modes


def _matching_module() -> Any:
    spec = importlib.util.spec_from_file_location("mobility_matching", BENCHMARKS / "mobility_matching.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def geolife_figures(
    users: list[Fixes], min_fixes: int, workers: tuple[int, ...] = (1, 2)
) -> list[dict[str, Any]]:
    """Match the street triplegs of ``users``, repeated to ``min_fixes`` fixes, on the SparseTaxi graph."""
    legs, modes = street_triplegs(users)
    per_copy = sum(len(leg) for leg in legs)
    copies = max(1, -(-min_fixes // per_copy))
    cache = Path(tempfile.gettempdir()) / "smartip-valhalla-tiles"
    cache.mkdir(parents=True, exist_ok=True)
    pbf = cache / "beijing-sparsetaxi.osm.pbf"
    write_osm_pbf(pbf)
    lon = np.concatenate([leg.lon for leg in legs])
    lat = np.concatenate([leg.lat for leg in legs])
    base = {"triplegs": len(legs), "copies": copies, "coverage": coverage(lon, lat)}
    run = _matching_module().run
    return [
        base | run(legs * copies, network_pbf=pbf, cache_dir=cache, mode=modes * copies, workers=n)
        for n in workers
    ]


def print_figures(rows: list[dict[str, Any]]) -> None:
    first = rows[0]
    print(
        f"GeoLife fixes on the SparseTaxi Beijing graph: {first['triplegs']} street triplegs x {first['copies']}"
        f" copies; coverage {first['coverage']}"
    )
    for row in rows:
        kinds = row["fix_types"]
        print(
            f"    workers {row['workers']}: {row['fixes']:,} fixes in {row['seconds']:.1f} s wall, "
            f"{row['cpu_seconds']:.1f} s CPU (all processes): {row['fixes_per_s']:,} fixes/s wall, "
            f"{row['fixes_per_cpu_s']:,} fixes per CPU-second; {row['matched_traces']} of {row['traces']} "
            f"triplegs matched; fixes {kinds}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-fixes", type=int, default=1_600_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    from mobility import load_users

    users, _ = load_users()
    print_figures(geolife_figures(users, args.min_fixes, tuple(args.workers)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
