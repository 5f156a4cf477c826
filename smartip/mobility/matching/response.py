"""Reading Valhalla's ``trace_attributes`` answer into plain data (lines, segments, matched fixes)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from smartip.mobility.matching.polyline import decode_polyline6


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
    n = len(points)
    lat, lon, along = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    kind = np.empty(n, dtype=object)
    for i, point in enumerate(points):
        kind[i] = point.get("type", "unmatched")
        edge = point.get("edge_index")
        if kind[i] == "unmatched" or edge is None or edge >= len(edge_len_m):
            kind[i] = "unmatched"
            continue
        lat[i], lon[i] = point["lat"], point["lon"]
        along[i] = edge_start_m[edge] + point.get("distance_along_edge", 0.0) * edge_len_m[edge]
    return lat, lon, kind, along


def _segments(
    edges: list[dict[str, Any]], parts: list[tuple[int, int]], along_m: np.ndarray, t_s: np.ndarray
) -> list[MatchedSegment]:
    edge_len_m = np.array([edge.get("length", 0.0) * 1000.0 for edge in edges])
    edge_start_m = np.concatenate([[0.0], np.cumsum(edge_len_m)[:-1]])
    ok = np.isfinite(along_m)
    if not ok.any():
        return []
    s_fix = np.maximum.accumulate(along_m[ok])
    t_fix = t_s[ok]
    lo, hi = s_fix[0], s_fix[-1]
    segments: list[MatchedSegment] = []
    for a, b in parts:
        run_start = a
        for i in range(a, b):
            if i + 1 < b and edges[i + 1].get("way_id") == edges[i].get("way_id"):
                continue
            s0 = edge_start_m[run_start]
            s1 = edge_start_m[i] + edge_len_m[i]
            c0, c1 = float(np.clip(s0, lo, hi)), float(np.clip(s1, lo, hi))
            t0, t1 = (float(v) for v in np.interp([c0, c1], s_fix, t_fix))
            speed = (c1 - c0) / (t1 - t0) if c1 > c0 and t1 > t0 else math.nan
            first = edges[run_start]
            segments.append(
                MatchedSegment(
                    way_id=int(first.get("way_id", 0)),
                    names=tuple(first.get("names", ())),
                    road_class=str(first.get("road_class", "")),
                    length_m=float(s1 - s0),
                    start_s=t0,
                    end_s=t1,
                    speed_mps=speed,
                )
            )
            run_start = i + 1
    return segments


def parse_trace_attributes(response: dict[str, Any], t_s: np.ndarray) -> ParsedMatch:
    """Lines, segments and per-fix matches from a ``trace_attributes`` response for fixes at times ``t_s``."""
    edges: list[dict[str, Any]] = response.get("edges", [])
    shape = decode_polyline6(response.get("shape", ""))
    parts = _parts(edges)
    lines = [shape[edges[a]["begin_shape_index"] : edges[b - 1]["end_shape_index"] + 1] for a, b in parts]
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
