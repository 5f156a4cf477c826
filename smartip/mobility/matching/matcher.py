"""Map matching of one GPS trace to the street network with in-process Valhalla (``trace_attributes``).

Input is plain numpy arrays (WGS84 degrees, seconds); output is a ``MatchResult`` of plain data: the matched
line(s), the sequence of matched street segments (consecutive Valhalla edges of one OSM way merged) with the
time spent and the speed on each, and the matched position of every fix.

Modes map to Valhalla costings: walk→pedestrian, bicycle→bicycle, bus and tram→bus (trams run in the street in
most cities; segregated tram tracks are not in the street graph and match the nearest street), car→auto.
``train`` is not matched: rail lines are not part of a street network, so ``match`` raises ``Invalid`` and callers
should check ``is_matchable(mode)`` first.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from smartip.core.errors import Invalid
from smartip.mobility.matching.network import valhalla_config
from smartip.mobility.matching.polyline import decode_polyline6
from smartip.mobility.matching.response import MatchedSegment, parse_trace_attributes

MODE_COSTING: dict[str, str] = {
    "walk": "pedestrian",
    "bicycle": "bicycle",
    "bus": "bus",
    "tram": "bus",
    "car": "auto",
}
UNMATCHED_MODES = frozenset({"train"})
_ATTRIBUTES = [
    "edge.way_id",
    "edge.length",
    "edge.begin_shape_index",
    "edge.end_shape_index",
    "edge.names",
    "edge.road_class",
    "shape",
    "matched.point",
    "matched.type",
    "matched.edge_index",
    "matched.distance_along_edge",
]


#: Typical travel speeds used to turn the thinning distance into a time interval per mode.
TYPICAL_SPEED_MPS: dict[str, float] = {"walk": 1.4, "bicycle": 4.0, "bus": 7.0, "tram": 7.0, "car": 8.0}


@dataclass(frozen=True, slots=True)
class MatchOptions:
    """Matcher tuning; defaults suit phone GPS (~10 m) and were chosen on simulated traces along real routes
    (benchmarks/mobility_matching.py); use ``for_accuracy`` for noisier traces.

    Dense traces are thinned before matching: a fix is kept once ``min_interval_s`` seconds passed since the
    last kept one (first and last always kept). Left ``None``, the interval is the time to cover
    ``thin_travel_m`` at the mode's typical speed (car 5 s, bicycle 10 s, walk ~29 s). Thinned 1 Hz traces
    match *more* accurately than unthinned ones (noise larger than the step makes detours: walking at 1 Hz with
    10 m noise scores precision 0.89 unthinned, 0.99 thinned) and 2-4 times faster. Thinning by time, not by
    distance: picking the next fix by distance favours fixes thrown far by noise. A 40 m search radius
    (Valhalla: 50) and a turn penalty of 100 (Valhalla: 0) cost nothing at 10 m noise and save time.

    Between two fixes Valhalla searches routes up to ``max_route_distance_factor`` times their straight-line
    distance (and ``max_route_time_factor`` times their time difference at the costing's speeds); that search
    is most of the matching time once fixes are 100 m or more apart. A factor of 2 (Valhalla: 5) still allows
    going round a block between two fixes and makes 15 s car traces match ~1.7 times faster at the same
    precision (recall 0.99 instead of 0.997 at 10 m noise). The time factor stays at Valhalla's 5: real drivers
    often beat the costing's speeds, which simulated traces never do. ``sigma_z_m`` is the fix error the
    emission probabilities assume (Valhalla: 4.07 m); ``for_accuracy`` sets it to the given error.
    """

    search_radius_m: float = 40.0
    gps_accuracy_m: float = 10.0
    breakage_distance_m: float = 2000.0
    interpolation_distance_m: float = 10.0
    turn_penalty_factor: float = 100.0
    min_interval_s: float | None = None
    thin_travel_m: float = 40.0
    max_route_distance_factor: float = 2.0
    max_route_time_factor: float = 5.0
    sigma_z_m: float = 4.07
    beta_m: float = 3.0

    @classmethod
    def for_accuracy(cls, gps_accuracy_m: float, **overrides: Any) -> MatchOptions:
        """Options for fixes with this typical error (e.g. the median ``accuracy_m`` of a phone trace): search
        radius 3× the error (40..100 m, Valhalla's ceiling), thinning to one fix per 3.5× the error of travel
        (at least 40 m) and emission probabilities for that error. At 25 m noise, car traces at 1 Hz go from
        precision ~0.89 (defaults) to ~0.98, at 15 s from ~0.96 to ~0.98 (recall 0.86 to 0.98)."""
        accuracy = min(max(gps_accuracy_m, 5.0), 100.0)
        defaults = {
            "gps_accuracy_m": accuracy,
            "sigma_z_m": accuracy,
            "search_radius_m": min(max(3.0 * accuracy, 40.0), 100.0),
            "thin_travel_m": max(3.5 * accuracy, 40.0),
        }
        return cls(**(defaults | overrides))

    def meili_defaults(self) -> dict[str, float]:
        """The settings Valhalla reads only from its config (see ``actor_for``)."""
        return {
            "max_route_distance_factor": self.max_route_distance_factor,
            "max_route_time_factor": self.max_route_time_factor,
            "sigma_z": self.sigma_z_m,
            "beta": self.beta_m,
        }

    def interval_s(self, mode: str) -> float:
        """The thinning interval for a mode (see the class docstring)."""
        if self.min_interval_s is not None:
            return self.min_interval_s
        return self.thin_travel_m / TYPICAL_SPEED_MPS.get(mode, TYPICAL_SPEED_MPS["car"])


@dataclass(frozen=True)
class MatchResult:
    """A matched trace. ``lines`` holds one ``[[lon, lat], ...]`` part per connected stretch of the match.

    Per-fix arrays have the input's length: ``fix_type`` is ``matched``, ``interpolated`` (snapped between
    matched neighbours), ``unmatched`` (no street within reach) or ``skipped`` (thinned out before matching);
    ``fix_lat``/``fix_lon`` are NaN unless matched or interpolated.
    """

    mode: str
    costing: str
    lines: list[list[list[float]]]
    segments: list[MatchedSegment]
    fix_lat: np.ndarray
    fix_lon: np.ndarray
    fix_type: np.ndarray
    length_m: float = field(default=0.0)

    @property
    def way_ids(self) -> list[int]:
        """OSM way ids of the matched segments, in travel order (consecutive repeats merged)."""
        return [segment.way_id for segment in self.segments]

    def geometry(self) -> dict[str, Any]:
        """GeoJSON geometry: a LineString, or a MultiLineString when the match has breaks."""
        if len(self.lines) == 1:
            return {"type": "LineString", "coordinates": self.lines[0]}
        return {"type": "MultiLineString", "coordinates": self.lines}


def is_matchable(mode: str) -> bool:
    """Whether trips of this mode are matched to streets (see the module docstring)."""
    return mode in MODE_COSTING


def costing_for(mode: str) -> str:
    """The Valhalla costing for a mode; ``Invalid`` for train and for unknown modes."""
    if mode in UNMATCHED_MODES:
        raise Invalid(
            f"mode {mode!r} is not matched to streets: rail lines are not in the street network", field="mode"
        )
    try:
        return MODE_COSTING[mode]
    except KeyError:
        known = ", ".join(sorted(MODE_COSTING))
        raise Invalid(f"unknown mode {mode!r}; expected one of {known}", field="mode") from None


def check_trace(lat: np.ndarray, lon: np.ndarray, t_s: np.ndarray) -> None:
    """Raise ``Invalid`` naming the first bad fix: equal lengths, at least two fixes, valid, time-ordered."""
    if not (len(lat) == len(lon) == len(t_s)):
        raise Invalid(
            f"lat, lon and t_s differ in length ({len(lat)}, {len(lon)}, {len(t_s)})", field="fixes"
        )
    if len(lat) < 2:
        raise Invalid(f"a trace needs at least two fixes to match, got {len(lat)}", field="fixes")
    for name, values, bound in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        bad = np.flatnonzero(~np.isfinite(values) | (np.abs(values) > bound))
        if len(bad):
            raise Invalid(f"fix {bad[0]}: {name} {values[bad[0]]} is not a valid coordinate", field=name)
    back = np.flatnonzero(~(np.diff(t_s) >= 0))
    if len(back):
        raise Invalid(f"fix {back[0] + 1}: time goes backwards or is not a number", field="t_s")


def thin_by_interval(t_s: np.ndarray, min_interval_s: float) -> np.ndarray:
    """Indices of fixes kept when keeping one at least every ``min_interval_s`` seconds (first and last kept)."""
    n = len(t_s)
    if min_interval_s <= 0 or n <= 2 or np.min(np.diff(t_s)) >= min_interval_s:
        return np.arange(n)
    times = t_s.tolist()
    keep = [0]
    last = times[0]
    for i in range(1, n - 1):
        if times[i] - last >= min_interval_s:
            keep.append(i)
            last = times[i]
    keep.append(n - 1)
    return np.asarray(keep)


_local = threading.local()


def _actor(config_key: str, load_config: Callable[[], str | dict[str, Any]]) -> Any:
    """A ``valhalla.Actor`` per thread and config: an Actor must not be shared between threads (it crashes)."""
    import valhalla

    actors: dict[str, Any] = _local.__dict__.setdefault("actors", {})
    if config_key not in actors:
        if len(actors) >= 8:
            actors.pop(next(iter(actors)))
        actors[config_key] = valhalla.Actor(load_config())
    return actors[config_key]


def _with_meili_defaults(
    config: str | dict[str, Any], meili_defaults: dict[str, float]
) -> str | dict[str, Any]:
    if not meili_defaults:
        return config
    loaded: dict[str, Any] = json.loads(Path(config).read_text()) if isinstance(config, str) else config
    merged = dict(loaded)
    merged["meili"] = dict(loaded["meili"])
    merged["meili"]["default"] = dict(loaded["meili"]["default"]) | meili_defaults
    return merged


def actor_for(
    tiles_dir_or_config: Path | str | dict[str, Any], meili_defaults: dict[str, float] | None = None
) -> Any:
    """One cached ``valhalla.Actor`` per thread and config: a config JSON path, a tiles folder or a config dict.

    ``meili_defaults`` overrides ``meili.default`` of the config: Valhalla reads some matcher settings
    (``max_route_distance_factor``, ``max_route_time_factor``, ``beta``, ``sigma_z``) only from its config,
    never from a request, so options that change them get an Actor of their own.
    """
    source = tiles_dir_or_config
    overrides = meili_defaults or {}
    aliases: dict[tuple[Any, ...], str] = _local.__dict__.setdefault("aliases", {})
    alias = None if isinstance(source, dict) else (type(source), source, *sorted(overrides.items()))
    if alias in aliases:  # the cheap key first (no file system access): this runs for every matched trace
        cached = _local.__dict__.get("actors", {}).get(aliases[alias])
        if cached is not None:
            return cached
    load: Callable[[], str | dict[str, Any]]
    if isinstance(source, dict):
        key, load = json.dumps(source, sort_keys=True), lambda: source
    else:
        path = Path(source).resolve()
        if path.is_dir():
            key, load = f"tiles:{path}", lambda: valhalla_config(path)
        elif path.is_file():
            key, load = f"config:{path}", lambda: str(path)
        else:
            raise Invalid(f"no Valhalla tiles or config at {path}", field="network")
    config_key = _actor_key(key, overrides)
    if alias is not None:
        aliases[alias] = config_key
    return _actor(config_key, lambda: _with_meili_defaults(load(), overrides))


def _actor_key(key: str, meili_defaults: dict[str, float]) -> str:
    return key + json.dumps(meili_defaults, sort_keys=True) if meili_defaults else key


def trace_request(
    lat: np.ndarray,
    lon: np.ndarray,
    t_s: np.ndarray,
    *,
    costing: str,
    options: MatchOptions,
    use_timestamps: bool = True,
) -> str:
    """The ``trace_attributes`` request as a JSON string (built directly: it is on the hot path).

    Without timestamps the times are left out altogether: Valhalla bounds its routes between fixes by their
    time difference whenever times are present, even with ``use_timestamps`` off.
    """
    if use_timestamps:
        rel_t = t_s - t_s[0]
        points = ",".join(
            f'{{"lat":{a:.6f},"lon":{o:.6f},"time":{t:.3f}}}'
            for a, o, t in zip(lat.tolist(), lon.tolist(), rel_t.tolist(), strict=True)
        )
    else:
        points = ",".join(
            f'{{"lat":{a:.6f},"lon":{o:.6f}}}' for a, o in zip(lat.tolist(), lon.tolist(), strict=True)
        )
    head = {
        "costing": costing,
        "shape_match": "map_snap",
        "use_timestamps": use_timestamps,
        "trace_options": {
            "search_radius": options.search_radius_m,
            "gps_accuracy": options.gps_accuracy_m,
            "breakage_distance": options.breakage_distance_m,
            "interpolation_distance": options.interpolation_distance_m,
            "turn_penalty_factor": options.turn_penalty_factor,
        },
        "filters": {"attributes": _ATTRIBUTES, "action": "include"},
    }
    return json.dumps(head)[:-1] + f',"shape":[{points}]}}'


def _trace_attributes(
    actor: Any, lat: np.ndarray, lon: np.ndarray, t_s: np.ndarray, *, costing: str, options: MatchOptions
) -> str:
    """Match using the timestamps; if that finds no path (e.g. a trip labelled walk moving at car speed, which
    the pedestrian costing's time limits rule out), match once more on geometry alone."""
    import valhalla

    try:
        return str(actor.trace_attributes(trace_request(lat, lon, t_s, costing=costing, options=options)))
    except valhalla.ValhallaError:
        request = trace_request(lat, lon, t_s, costing=costing, options=options, use_timestamps=False)
        return str(actor.trace_attributes(request))


def match(
    lat: np.ndarray,
    lon: np.ndarray,
    t_s: np.ndarray,
    *,
    mode: str,
    tiles_dir_or_config: Path | str | dict[str, Any],
    options: MatchOptions | None = None,
) -> MatchResult:
    """Match one trace (WGS84 degrees, seconds, time-ordered) travelled by ``mode`` to the street network.

    Raises ``Invalid`` for bad input or mode, and when no part of the trace is near a street of the network.
    """
    import valhalla

    options = options or MatchOptions()
    lat, lon, t_s = (np.asarray(a, dtype=float) for a in (lat, lon, t_s))
    check_trace(lat, lon, t_s)
    costing = costing_for(mode)
    kept = thin_by_interval(t_s, options.interval_s(mode))
    actor = actor_for(tiles_dir_or_config, options.meili_defaults())
    try:
        raw = _trace_attributes(actor, lat[kept], lon[kept], t_s[kept], costing=costing, options=options)
    except valhalla.ValhallaError as error:
        raise Invalid(
            f"the trace could not be matched to the street network: {error}", field="fixes"
        ) from error
    parsed = parse_trace_attributes(json.loads(raw), t_s[kept])
    fix_lat = np.full(len(lat), np.nan)
    fix_lon = np.full(len(lat), np.nan)
    fix_type = np.full(len(lat), "skipped", dtype=object)
    fix_lat[kept], fix_lon[kept], fix_type[kept] = parsed.fix_lat, parsed.fix_lon, parsed.fix_type
    return MatchResult(
        mode=mode,
        costing=costing,
        lines=parsed.lines,
        segments=parsed.segments,
        fix_lat=fix_lat,
        fix_lon=fix_lon,
        fix_type=fix_type,
        length_m=float(sum(segment.length_m for segment in parsed.segments)),
    )


__all__ = [
    "MODE_COSTING",
    "MatchOptions",
    "MatchResult",
    "MatchedSegment",
    "costing_for",
    "decode_polyline6",
    "is_matchable",
    "match",
]
