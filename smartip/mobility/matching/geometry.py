"""Planar helpers for comparing lines a few kilometres long (local equirectangular projection, metres)."""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_M = 6_371_008.8


def to_local_m(lonlat: np.ndarray, origin: tuple[float, float]) -> np.ndarray:
    """``[[lon, lat], ...]`` degrees to ``[[x, y], ...]`` metres around ``origin`` (lon, lat); < 0.1 % error
    within ~20 km of the origin, which is all a street-level comparison needs."""
    lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    k = np.pi / 180.0 * EARTH_RADIUS_M
    x = (lonlat[:, 0] - origin[0]) * k * np.cos(np.radians(origin[1]))
    y = (lonlat[:, 1] - origin[1]) * k
    return np.column_stack([x, y])


def densify(xy: np.ndarray, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step_m`` along a polyline (vertices kept) and the length each point stands for."""
    if len(xy) < 2:
        return xy.copy(), np.zeros(len(xy))
    seg = np.diff(xy, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    pieces, weights = [], []
    for i, length in enumerate(seg_len):
        n = max(1, int(np.ceil(length / step_m)))
        frac = (np.arange(n) + 0.5) / n
        pieces.append(xy[i] + frac[:, None] * seg[i])
        weights.append(np.full(n, length / n))
    return np.concatenate(pieces), np.concatenate(weights)


def distance_to_polyline_m(points: np.ndarray, line: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Shortest distance from each point to a polyline (all in local metres)."""
    if len(line) == 1:
        return np.hypot(*(points - line[0]).T)
    a, b = line[:-1], line[1:]
    ab = b - a
    ab2 = np.maximum((ab**2).sum(axis=1), 1e-12)
    out = np.empty(len(points))
    for start in range(0, len(points), chunk):
        p = points[start : start + chunk, None, :]
        t = np.clip(((p - a) * ab).sum(axis=2) / ab2, 0.0, 1.0)
        nearest = a + t[..., None] * ab
        out[start : start + chunk] = np.sqrt(((p - nearest) ** 2).sum(axis=2)).min(axis=1)
    return out


def length_within(
    lines_a: list[np.ndarray], lines_b: list[np.ndarray], tol_m: float, step_m: float = 1.0
) -> tuple[float, float]:
    """(length of ``lines_a`` lying within ``tol_m`` of any of ``lines_b``, total length of ``lines_a``)."""
    near = total = 0.0
    for line in lines_a:
        points, weights = densify(line, step_m)
        if not len(points):
            continue
        dist = np.min([distance_to_polyline_m(points, other) for other in lines_b], axis=0)
        near += float(weights[dist <= tol_m].sum())
        total += float(weights.sum())
    return near, total
