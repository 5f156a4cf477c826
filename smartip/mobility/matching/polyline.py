"""Google encoded polylines at Valhalla's precision (1e-6 degrees)."""

from __future__ import annotations

import numpy as np


def decode_polyline6_array(encoded: str, precision: int = 6) -> np.ndarray:
    """Decode an encoded polyline to an ``(n, 2)`` array of lon, lat (vectorised: it is on the hot path).

    Each value is a run of 5-bit chunks, least significant first, the last chunk of a run below 0x20; values
    alternate lat, lon and are zig-zag coded deltas from the previous point.
    """
    chunks = np.frombuffer(encoded.encode("ascii"), dtype=np.uint8).astype(np.int64) - 63
    if not len(chunks):
        return np.empty((0, 2))
    last = chunks < 0x20
    ends = np.flatnonzero(last)
    starts = np.concatenate([[0], ends[:-1] + 1])
    position = np.arange(len(chunks)) - np.repeat(starts, ends - starts + 1)
    values = np.add.reduceat((chunks & 0x1F) << (5 * position), starts)
    deltas = np.where(values & 1, ~(values >> 1), values >> 1).reshape(-1, 2)
    return np.cumsum(deltas, axis=0)[:, ::-1] / 10.0**precision


def decode_polyline6(encoded: str, precision: int = 6) -> list[list[float]]:
    """Decode an encoded polyline to ``[[lon, lat], ...]`` (note: GeoJSON order, not the encoding's lat, lon)."""
    coords: list[list[float]] = decode_polyline6_array(encoded, precision).tolist()
    return coords


def encode_polyline6(coords: list[list[float]], precision: int = 6) -> str:
    """Encode ``[[lon, lat], ...]`` as a polyline (the inverse of ``decode_polyline6``)."""
    factor = 10.0**precision
    out: list[str] = []
    prev_lat = prev_lon = 0
    for lon, lat in coords:
        ilat, ilon = round(lat * factor), round(lon * factor)
        for delta in (ilat - prev_lat, ilon - prev_lon):
            value = ~(delta << 1) if delta < 0 else delta << 1
            while value >= 0x20:
                out.append(chr((0x20 | (value & 0x1F)) + 63))
                value >>= 5
            out.append(chr(value + 63))
        prev_lat, prev_lon = ilat, ilon
    return "".join(out)
