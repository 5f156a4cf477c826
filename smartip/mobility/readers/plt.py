"""GeoLife 1.3 PLT reader (streamed line by line).

Six header lines, then `lat,lon,0,altitude_ft,days_since_1899,date,time` with date/time in UTC (as trackintel
reads them). Altitude -777 means unknown. Errors name the line.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from smartip.core.errors import Invalid
from smartip.mobility.fixes import Fixes
from smartip.mobility.readers._common import MAX_FIXES, FixBuilder, parse_float, parse_time

FEET_TO_M = 0.3048
HEADER_LINES = 6


def read_plt(source: Path | BinaryIO, *, max_fixes: int = MAX_FIXES, on_backwards: str = "sort") -> Fixes:
    """Read one PLT file."""
    if isinstance(source, Path):
        with source.open("rb") as fh:
            return read_plt(fh, max_fixes=max_fixes, on_backwards=on_backwards)
    builder = FixBuilder(max_fixes)
    _parse_lines(io.TextIOWrapper(source, encoding="utf-8", errors="replace"), builder)
    return builder.build(on_backwards)


def _parse_lines(lines: Iterable[str], builder: FixBuilder) -> None:
    for number, line in enumerate(lines, start=1):
        if number <= HEADER_LINES or not line.strip():
            continue
        where = f"line {number}"
        parts = line.rstrip("\r\n").split(",")
        if len(parts) != 7:
            raise Invalid(f"expected 7 comma-separated fields at {where}, got {len(parts)}", field="line")
        lat = parse_float(parts[0], "lat", where)
        lon = parse_float(parts[1], "lon", where)
        alt_ft = parse_float(parts[3], "altitude", where)
        t = parse_time(f"{parts[5]}T{parts[6]}", where)
        builder.add(t, lat, lon, math.nan, math.nan if alt_ft == -777 else alt_ft * FEET_TO_M)


def read_geolife_user(folder: Path) -> Fixes:
    """All PLT files of one GeoLife user folder (`<user>/Trajectory/*.plt`) as one time-sorted trace."""
    from smartip.mobility.fixes import concat

    return concat([read_plt(p) for p in sorted((folder / "Trajectory").glob("*.plt"))])


def read_geolife_labels(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A GeoLife `labels.txt` (tab separated, `Start Time`, `End Time`, `Transportation Mode`, UTC) as
    (start_s, end_s, mode) arrays."""
    starts: list[float] = []
    ends: list[float] = []
    modes: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if number == 1 or not line.strip():
                continue
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) != 3:
                raise Invalid(f"expected 3 tab-separated fields at line {number}", field="line")
            where = f"line {number}"
            starts.append(parse_time(parts[0].replace("/", "-"), where))
            ends.append(parse_time(parts[1].replace("/", "-"), where))
            modes.append(parts[2].strip())
    return np.asarray(starts), np.asarray(ends), np.asarray(modes, dtype=object)
