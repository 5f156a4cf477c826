"""Shared reader helpers: bounded column accumulation, time parsing, size limits."""

from __future__ import annotations

import math
from array import array
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from smartip.core.errors import Invalid, gettext_noop
from smartip.mobility.fixes import Fixes, from_columns

MAX_FIXES = 5_000_000  # one upload; about 120 MB of columns, far more than a day at 1 Hz
MAX_JSON_BYTES = 50_000_000  # GeoJSON / JSON batches are parsed whole, so they are capped


class FixBuilder:
    """Accumulates fixes in typed arrays (8 bytes a value, not Python objects) up to `max_fixes`."""

    def __init__(self, max_fixes: int = MAX_FIXES) -> None:
        self.t = array("d")
        self.lat = array("d")
        self.lon = array("d")
        self.acc = array("f")
        self.alt = array("f")
        self.max_fixes = max_fixes

    def add(self, t_s: float, lat: float, lon: float, acc: float = math.nan, alt: float = math.nan) -> None:
        if len(self.t) >= self.max_fixes:
            raise Invalid(
                gettext_noop("too many fixes: more than %(maximum)s in one upload"),
                field="file",
                maximum=self.max_fixes,
            )
        self.t.append(t_s)
        self.lat.append(lat)
        self.lon.append(lon)
        self.acc.append(acc)
        self.alt.append(alt)

    def build(self, on_backwards: str = "sort") -> Fixes:
        return from_columns(self.t, self.lat, self.lon, self.acc, self.alt, on_backwards=on_backwards)


def parse_time(text: str, where: str) -> float:
    """ISO 8601 (naive means UTC) or epoch seconds/milliseconds to epoch seconds; `Invalid` naming `where`."""
    s = text.strip()
    if not s:
        raise Invalid(f"missing time at {where}", field="time")
    try:
        number = float(s)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            raise Invalid(f"bad time {s!r} at {where}", field="time")
        return number / 1000.0 if abs(number) > 1e11 else number
    try:
        moment = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    except ValueError as exc:
        raise Invalid(f"bad time {s!r} at {where}", field="time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_float(text: str | None, field: str, where: str) -> float:
    if text is None or not str(text).strip():
        raise Invalid(f"missing {field} at {where}", field=field)
    try:
        value = float(text)
    except ValueError as exc:
        raise Invalid(f"bad {field} {text!r} at {where}", field=field) from exc
    if not math.isfinite(value):
        raise Invalid(f"bad {field} {text!r} at {where}", field=field)
    return value


def optional_float(text: object) -> float:
    if text is None or text == "":
        return math.nan
    try:
        return float(str(text))
    except ValueError:
        return math.nan


def read_capped(source: Path | BinaryIO, limit: int = MAX_JSON_BYTES) -> bytes:
    """Read a whole (JSON) file, refusing anything larger than `limit` with a clear error."""
    if isinstance(source, Path):
        with source.open("rb") as fh:
            return read_capped(fh, limit)
    data = source.read(limit + 1)
    if len(data) > limit:
        raise Invalid(
            gettext_noop("file too large: over %(megabytes)s MB (use GPX or CSV for big traces)"),
            field="file",
            megabytes=limit // 1_000_000,
        )
    return data
