"""Reading Valhalla's ``trace_attributes`` answer into plain data (lines, segments, matched fixes)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from smartip.mobility.matching.polyline import decode_polyline6_array


@dataclass(frozen=True, slots=True)
class MatchedSegment:
    """A run of matched edges along one OSM way.

    ``start_s``/``end_s`` are the times (input clock) at which the trace entered and left the stretch of the
    segment it covered, interpolated from the matched fixes by distance; ``speed_mps`` is the covered length
    over that time, NaN where no time passed (e.g. a stretch before the first or after the last fix).
    """

    way_id: int
    names: tuple[str, ...]
    road_class: str
    length_m: float
    start_s: float
    end_s: float
    speed_mps: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN speed becomes ``None``)."""
        return {
            "way_id": self.way_id,
            "names": list(self.names),
            "road_class": self.road_class,
            "length_m": round(self.length_m, 1),
            "start_s": self.start_s,
            "end_s": self.end_s,
            "duration_s": round(self.duration_s, 3),
            "speed_mps": None if math.isnan(self.speed_mps) else round(self.speed_mps, 3),
        }


@dataclass(frozen=True)
class ParsedMatch:
    lines: list[list[list[float]]]
    segments: list[MatchedSegment]
    fix_lat: np.ndarray
    fix_lon: np.ndarray
    fix_type: np.ndarray


def _parts(edges: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Edge index ranges ``[a, b)`` of connected stretches (Valhalla leaves a shape gap at a break)."""
    parts: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(edges)):
        if edges[i]["begin_shape_index"] != edges[i - 1]["end_shape_index"]:
            parts.append((start, i))
            start = i
    if edges:
        parts.append((start, len(edges)))
    return parts


def _fixes(
    points: list[dict[str, Any]], edge_start_m: np.ndarray, edge_len_m: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Matched position, kind and distance along the matched line of every fix (columns built at once:
    this runs for every fix)."""
    n_edges = len(edge_len_m)
    indices = [p.get("edge_index") for p in points]  # unmatched: absent, or 2**64 - 1
    edge = np.array([i if i is not None and i < n_edges else -1 for i in indices], dtype=np.int64)
    edge = edge.reshape(-1)
    kind = np.array([p.get("type", "unmatched") for p in points], dtype=object).reshape(-1)
    ok = (kind != "unmatched") & (edge >= 0) & (edge < n_edges)
    kind[~ok] = "unmatched"
    lat, lon, along = (np.full(len(points), np.nan) for _ in range(3))
    if ok.any():
        chosen = [points[i] for i in np.flatnonzero(ok).tolist()]
        lat[ok] = [p["lat"] for p in chosen]
        lon[ok] = [p["lon"] for p in chosen]
        share = np.array([p.get("distance_along_edge", 0.0) for p in chosen])
        along[ok] = edge_start_m[edge[ok]] + share * edge_len_m[edge[ok]]
    return lat, lon, kind, along


def _run_ends(edges: list[dict[str, Any]], parts: list[tuple[int, int]]) -> np.ndarray:
    """Index of the last edge of every run of consecutive edges along one way (runs never span a break)."""
    part_ends = {b - 1 for _, b in parts}
    ways = [edge.get("way_id") for edge in edges]
    return np.asarray(
        [i for i in range(len(edges)) if i in part_ends or ways[i + 1] != ways[i]], dtype=np.int64
    )


def _segments(
    edges: list[dict[str, Any]], parts: list[tuple[int, int]], along_m: np.ndarray, t_s: np.ndarray
) -> list[MatchedSegment]:
    ok = np.isfinite(along_m)
    if not ok.any() or not edges:
        return []
    edge_len_m = np.array([edge.get("length", 0.0) * 1000.0 for edge in edges])
    edge_start_m = np.concatenate([[0.0], np.cumsum(edge_len_m)[:-1]])
    s_fix = np.maximum.accumulate(along_m[ok])
    ends = _run_ends(edges, parts)
    starts = np.concatenate([[0], ends[:-1] + 1])
    s0, s1 = edge_start_m[starts], edge_start_m[ends] + edge_len_m[ends]
    c0, c1 = np.clip(s0, s_fix[0], s_fix[-1]), np.clip(s1, s_fix[0], s_fix[-1])
    t0, t1 = np.interp(c0, s_fix, t_s[ok]), np.interp(c1, s_fix, t_s[ok])
    moving = (c1 > c0) & (t1 > t0)
    speed = np.full(len(ends), math.nan)
    speed[moving] = (c1 - c0)[moving] / (t1 - t0)[moving]
    firsts = [edges[i] for i in starts.tolist()]
    return [
        MatchedSegment(
            way_id=int(first.get("way_id", 0)),
            names=tuple(first.get("names", ())),
            road_class=str(first.get("road_class", "")),
            length_m=length_m,
            start_s=start_s,
            end_s=end_s,
            speed_mps=speed_mps,
        )
        for first, length_m, start_s, end_s, speed_mps in zip(
            firsts, (s1 - s0).tolist(), t0.tolist(), t1.tolist(), speed.tolist(), strict=True
        )
    ]


def parse_trace_attributes(response: dict[str, Any], t_s: np.ndarray) -> ParsedMatch:
    """Lines, segments and per-fix matches from a ``trace_attributes`` response for fixes at times ``t_s``."""
    edges: list[dict[str, Any]] = response.get("edges", [])
    shape = decode_polyline6_array(response.get("shape", ""))
    parts = _parts(edges)
    lines = [
        shape[edges[a]["begin_shape_index"] : edges[b - 1]["end_shape_index"] + 1].tolist() for a, b in parts
    ]
    edge_len_m = np.array([edge.get("length", 0.0) * 1000.0 for edge in edges])
    edge_start_m = np.concatenate([[0.0], np.cumsum(edge_len_m)[:-1]]) if len(edges) else edge_len_m
    lat, lon, kind, along = _fixes(response.get("matched_points", []), edge_start_m, edge_len_m)
    if len(kind) != len(t_s):  # Valhalla answers one matched point per input point; anything else is a bug
        raise ValueError(f"Valhalla returned {len(kind)} matched points for {len(t_s)} fixes")
    return ParsedMatch(
        lines=lines,
        segments=_segments(edges, parts, along, t_s),
        fix_lat=lat,
        fix_lon=lon,
        fix_type=kind,
    )
