"""The compact columnar GPS fix array used by every reader, the pipeline and storage (one blob per trace).

`Fixes` holds parallel numpy columns. Times are float64 seconds since the Unix epoch (UTC); positions are WGS84
degrees; `accuracy_m` and `alt_m` are NaN when unknown. `to_bytes()` / `from_bytes()` give a small, versioned,
zlib-compressed little-endian encoding: times as delta-encoded int64 milliseconds, coordinates as delta-encoded
int32 1e-7 degrees (about 1 cm, lossless for the usual 6-7 decimals), accuracy and altitude as float32.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smartip.core.errors import Invalid

EARTH_RADIUS_M = 6_371_000.0  # trackintel's sphere, so distances agree with the reference implementation
_MAGIC = b"SMFX"
_VERSION = 1
_HEADER = struct.Struct("<4sBxxxQ")  # magic, version, padding, n


@dataclass(frozen=True, slots=True, eq=False)  # numpy columns: compare explicitly
class Fixes:
    """One trace: fixes sorted by time (contract kept by `from_columns`)."""

    t_s: np.ndarray  # float64 epoch seconds, UTC
    lat: np.ndarray  # float64 degrees
    lon: np.ndarray  # float64 degrees
    accuracy_m: np.ndarray  # float32 metres, NaN when unknown
    alt_m: np.ndarray  # float32 metres, NaN when unknown

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def take(self, index: np.ndarray) -> Fixes:
        """Subset by integer index or boolean mask (order preserved as given)."""
        return Fixes(
            self.t_s[index], self.lat[index], self.lon[index], self.accuracy_m[index], self.alt_m[index]
        )

    def to_bytes(self) -> bytes:
        return encode(self)

    @staticmethod
    def from_bytes(blob: bytes) -> Fixes:
        return decode(blob)

    @staticmethod
    def empty() -> Fixes:
        return from_columns([], [], [])


def from_columns(
    t_s: npt.ArrayLike,
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    accuracy_m: npt.ArrayLike | None = None,
    alt_m: npt.ArrayLike | None = None,
    *,
    on_backwards: str = "sort",
) -> Fixes:
    """Validate columns and build `Fixes`.

    Raises `Invalid` for unequal lengths, non-finite times or coordinates outside WGS84 (with the first bad index).
    Time going backwards: `on_backwards="sort"` (default; phones upload batches out of order) sorts stably by
    time; `"reject"` raises `Invalid` naming the first index whose time is earlier than its predecessor's.
    """
    t = np.asarray(t_s, dtype=np.float64)
    la = np.asarray(lat, dtype=np.float64)
    lo = np.asarray(lon, dtype=np.float64)
    n = t.shape[0]
    acc = np.full(n, np.nan, np.float32) if accuracy_m is None else np.asarray(accuracy_m, dtype=np.float32)
    alt = np.full(n, np.nan, np.float32) if alt_m is None else np.asarray(alt_m, dtype=np.float32)
    if not (la.shape[0] == lo.shape[0] == acc.shape[0] == alt.shape[0] == n):
        raise Invalid("fix columns have different lengths", field="fixes")
    _check_finite(t, "time")
    _check_range(la, -90.0, 90.0, "lat")
    _check_range(lo, -180.0, 180.0, "lon")
    back = np.flatnonzero(np.diff(t) < 0)
    if back.size:
        if on_backwards == "reject":
            i = int(back[0]) + 1
            raise Invalid(f"time goes backwards at fix {i} ({t[i]:.3f} < {t[i - 1]:.3f})", field="time")
        order = np.argsort(t, kind="stable")
        t, la, lo, acc, alt = t[order], la[order], lo[order], acc[order], alt[order]
    return Fixes(t, la, lo, acc, alt)


def _check_finite(values: np.ndarray, field: str) -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise Invalid(f"missing or non-numeric {field} at fix {int(bad[0])}", field=field)


def _check_range(values: np.ndarray, low: float, high: float, field: str) -> None:
    _check_finite(values, field)
    bad = np.flatnonzero((values < low) | (values > high))
    if bad.size:
        i = int(bad[0])
        raise Invalid(f"{field} {values[i]} out of range [{low}, {high}] at fix {i}", field=field)


def concat(parts: list[Fixes]) -> Fixes:
    """Join traces and sort by time (stable)."""
    if not parts:
        return Fixes.empty()
    cols = [np.concatenate([getattr(p, name) for p in parts]) for name in Fixes.__slots__]
    return from_columns(*cols)


def append_new(stored: Fixes, incoming: Fixes) -> tuple[Fixes, int]:
    """`stored` plus the `incoming` fixes at times (to the millisecond, the storage precision) it does not have
    yet, in time order; and how many were added. A fix sent twice (a batch overlapping the previous one) keeps
    its first copy."""
    merged = concat([stored, incoming])
    _, first = np.unique(np.round(merged.t_s * 1000.0).astype(np.int64), return_index=True)
    # `concat` sorts stably, so on equal times a stored fix comes first and is the one kept
    kept = merged.take(first)
    return kept, len(kept) - len(stored)


def encode(fixes: Fixes) -> bytes:
    """Compact storage encoding (see module docstring)."""
    t_ms = np.round(fixes.t_s * 1000.0).astype("<i8")
    lat_e7 = np.round(fixes.lat * 1e7).astype("<i4")
    lon_e7 = np.round(fixes.lon * 1e7).astype("<i4")
    body = b"".join(
        (
            np.diff(t_ms, prepend=np.int64(0)).astype("<i8").tobytes(),
            np.diff(lat_e7, prepend=np.int32(0)).astype("<i4").tobytes(),
            np.diff(lon_e7, prepend=np.int32(0)).astype("<i4").tobytes(),
            fixes.accuracy_m.astype("<f4").tobytes(),
            fixes.alt_m.astype("<f4").tobytes(),
        )
    )
    return _HEADER.pack(_MAGIC, _VERSION, len(fixes)) + zlib.compress(body, 6)


def decode(blob: bytes) -> Fixes:
    """Inverse of `encode`; raises `Invalid` for a blob that is not ours or is truncated."""
    if len(blob) < _HEADER.size:
        raise Invalid("fix blob too short", field="fixes")
    magic, version, n = _HEADER.unpack_from(blob)
    if magic != _MAGIC or version != _VERSION:
        raise Invalid("not a SMARTiP fix blob (bad magic or version)", field="fixes")
    try:
        body = zlib.decompress(blob[_HEADER.size :])
    except zlib.error as exc:
        raise Invalid(f"corrupt fix blob: {exc}", field="fixes") from exc
    if len(body) != n * 24:
        raise Invalid("fix blob length does not match its header", field="fixes")
    o = 0
    t_ms = np.cumsum(np.frombuffer(body, "<i8", n, o))
    o += 8 * n
    # int32 deltas wrap around (e.g. crossing the antimeridian); an int32 cumsum wraps back exactly
    lat = np.cumsum(np.frombuffer(body, "<i4", n, o), dtype=np.int32).astype(np.int64)
    o += 4 * n
    lon = np.cumsum(np.frombuffer(body, "<i4", n, o), dtype=np.int32).astype(np.int64)
    o += 4 * n
    acc = np.frombuffer(body, "<f4", n, o).astype(np.float32)
    o += 4 * n
    alt = np.frombuffer(body, "<f4", n, o).astype(np.float32)
    return Fixes(t_ms / 1000.0, lat / 1e7, lon / 1e7, acc, alt)


def haversine_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> np.ndarray:
    """Great-circle distance in metres, vectorised, same formula and radius as trackintel (spherical cosines)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon1) - np.radians(lon2)
    c = np.cos(p1 - p2) - np.cos(p1) * np.cos(p2) * (1.0 - np.cos(dl))
    return np.asarray(EARTH_RADIUS_M * np.arccos(np.clip(c, -1.0, 1.0)))


def step_distances_m(fixes: Fixes) -> np.ndarray:
    """Distance from each fix to the next (length n-1)."""
    return haversine_m(fixes.lat[:-1], fixes.lon[:-1], fixes.lat[1:], fixes.lon[1:])


def drop_in_zones(fixes: Fixes, zones: list[tuple[float, float, float]]) -> Fixes:
    """Remove every fix within `radius_m` of any privacy zone centre `(lat, lon, radius_m)`; run before storage."""
    if not zones or not len(fixes):
        return fixes
    keep = np.ones(len(fixes), dtype=bool)
    for lat, lon, radius_m in zones:
        keep &= haversine_m(fixes.lat, fixes.lon, np.float64(lat), np.float64(lon)) > radius_m
    return fixes.take(keep)
