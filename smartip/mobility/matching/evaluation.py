"""Accuracy of map matching on simulated traces along real routes of a real street network.

The true route is Valhalla's own route between two random street nodes; a trace is the route resampled at a
fixed interval at the speeds Valhalla's costing assigns to each manoeuvre, plus isotropic Gaussian noise.
Precision is the share of the matched route's length within ``tol_m`` of the true route, recall the share of
the true route within ``tol_m`` of the match (both summed over all routes, i.e. weighted by length).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from smartip.mobility.matching.geometry import length_within, to_local_m
from smartip.mobility.matching.matcher import MatchOptions, actor_for, match
from smartip.mobility.matching.network import StreetSegment
from smartip.mobility.matching.polyline import decode_polyline6

#: Streets a car may use (start and end nodes of simulated car routes are drawn from these).
DRIVABLE = frozenset(
    {"motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential", "living_street"}
    | {"motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link"}
)


@dataclass(frozen=True)
class TrueRoute:
    coords: np.ndarray  # (n, 2) lon, lat of the route's vertices
    t_s: np.ndarray  # time at each vertex from the route's start


def route_between(
    config: Any, start: tuple[float, float], end: tuple[float, float], costing: str
) -> TrueRoute:
    """Valhalla's route from ``start`` to ``end`` (lon, lat), with a time at every vertex."""
    request = {
        "locations": [{"lon": start[0], "lat": start[1]}, {"lon": end[0], "lat": end[1]}],
        "costing": costing,
    }
    leg = actor_for(config).route(request)["trip"]["legs"][0]
    coords = np.asarray(decode_polyline6(leg["shape"]))
    xy = to_local_m(coords, tuple(coords[0]))
    step = np.concatenate([[0.0], np.hypot(*np.diff(xy, axis=0).T)])
    t_s = np.zeros(len(coords))
    for maneuver in leg["maneuvers"]:
        a, b = maneuver["begin_shape_index"], maneuver["end_shape_index"]
        if b <= a:
            continue
        along = np.cumsum(step[a + 1 : b + 1])
        share = along / along[-1] if along[-1] > 0 else np.linspace(0, 1, b - a + 1)[1:]
        t_s[a + 1 : b + 1] = t_s[a] + share * maneuver["time"]
    return TrueRoute(coords=coords, t_s=np.maximum.accumulate(t_s))


def simulate_trace(
    route: TrueRoute, interval_s: float, noise_m: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixes every ``interval_s`` along the route (last one at its end), with Gaussian noise of ``noise_m``."""
    t = np.arange(0.0, route.t_s[-1], interval_s)
    t = np.append(t, route.t_s[-1])
    lon = np.interp(t, route.t_s, route.coords[:, 0])
    lat = np.interp(t, route.t_s, route.coords[:, 1])
    metres_per_deg = np.pi / 180.0 * 6_371_008.8
    lat_noisy = lat + rng.normal(0.0, noise_m, len(t)) / metres_per_deg
    lon_noisy = lon + rng.normal(0.0, noise_m, len(t)) / (metres_per_deg * np.cos(np.radians(lat)))
    return lat_noisy, lon_noisy, t


def random_routes(
    config: Any,
    segments: list[StreetSegment],
    n_routes: int,
    rng: np.random.Generator,
    *,
    costing: str = "auto",
    min_length_m: float = 1000.0,
    highways: frozenset[str] = DRIVABLE,
) -> list[TrueRoute]:
    """``n_routes`` routes between random nodes of ``segments`` (of the given classes), each at least
    ``min_length_m`` long; pairs Valhalla cannot route are skipped."""
    nodes = np.array([c for s in segments if s.highway in highways for c in s.coords])
    routes: list[TrueRoute] = []
    for _ in range(n_routes * 20):
        if len(routes) == n_routes:
            break
        a, b = nodes[rng.integers(len(nodes), size=2)]
        try:
            route = route_between(config, (a[0], a[1]), (b[0], b[1]), costing)
        except Exception:  # noqa: BLE001 - unroutable pair (disconnected islands); draw another
            continue
        xy = to_local_m(route.coords, tuple(route.coords[0]))
        if np.hypot(*np.diff(xy, axis=0).T).sum() >= min_length_m:
            routes.append(route)
    return routes


def evaluate(
    config: Any,
    routes: list[TrueRoute],
    *,
    mode: str = "car",
    interval_s: float = 1.0,
    noise_m: float = 10.0,
    tol_m: float = 15.0,
    options: MatchOptions | None = None,
    seed: int = 0,
) -> dict[str, float]:
    (
        """Match a simulated trace along each route; length-weighted precision and recall, and the fix rate
    per wall-clock second and per CPU second of this process (the fairer figure on a shared machine)."""
        ""
    )
    rng = np.random.default_rng(seed)
    near_matched = total_matched = near_true = total_true = 0.0
    n_fixes = 0
    elapsed_s = cpu_s = 0.0
    for route in routes:
        lat, lon, t = simulate_trace(route, interval_s, noise_m, rng)
        started, started_cpu = time.perf_counter(), time.process_time()
        result = match(lat, lon, t, mode=mode, tiles_dir_or_config=config, options=options)
        elapsed_s += time.perf_counter() - started
        cpu_s += time.process_time() - started_cpu
        n_fixes += len(t)
        origin = tuple(route.coords[0])
        true_xy = [to_local_m(route.coords, origin)]
        matched_xy = [to_local_m(np.asarray(part), origin) for part in result.lines if len(part) > 1]
        if not matched_xy:
            total_true += length_within(true_xy, true_xy, tol_m)[1]
            continue
        a, b = length_within(matched_xy, true_xy, tol_m)
        c, d = length_within(true_xy, matched_xy, tol_m)
        near_matched, total_matched, near_true, total_true = (
            near_matched + a,
            total_matched + b,
            near_true + c,
            total_true + d,
        )
    return {
        "routes": len(routes),
        "fixes": n_fixes,
        "precision": near_matched / total_matched if total_matched else 0.0,
        "recall": near_true / total_true if total_true else 0.0,
        "seconds": elapsed_s,
        "fixes_per_s": n_fixes / elapsed_s if elapsed_s else 0.0,
        "cpu_seconds": cpu_s,
        "fixes_per_cpu_s": n_fixes / cpu_s if cpu_s else 0.0,
    }
