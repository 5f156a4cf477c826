"""CSV trace reader, streamed row by row.

The first row is a header naming the columns (case-insensitive, any order, extra columns ignored):
latitude `lat`/`latitude`, longitude `lon`/`lng`/`longitude`, time `time`/`timestamp`/`tracked_at`/`t`
(ISO 8601, naive = UTC, or epoch seconds/ms), optional accuracy `accuracy`/`accuracy_m`/`acc` and altitude
`alt`/`altitude`/`ele`/`elevation`. A missing column is an error listing the header found; a bad value names the
line and column. The delimiter (comma, semicolon or tab) is taken from the header. Memory grows with the number of fixes only (typed arrays), never with the file.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from pathlib import Path
from typing import BinaryIO

from smartip.core.errors import Invalid, gettext_noop
from smartip.mobility.fixes import Fixes
from smartip.mobility.readers._common import MAX_FIXES, FixBuilder, optional_float, parse_float, parse_time

ALIASES = {
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "longitude"),
    "time": ("time", "timestamp", "tracked_at", "t", "datetime"),
    "accuracy": ("accuracy", "accuracy_m", "acc"),
    "alt": ("alt", "altitude", "ele", "elevation"),
}
REQUIRED = ("lat", "lon", "time")


def read_csv(source: Path | BinaryIO, *, max_fixes: int = MAX_FIXES, on_backwards: str = "sort") -> Fixes:
    if isinstance(source, Path):
        with source.open("rb") as fh:
            return read_csv(fh, max_fixes=max_fixes, on_backwards=on_backwards)
    text = io.TextIOWrapper(source, encoding="utf-8-sig", errors="strict", newline="")
    try:
        first = text.readline()
        if not first.strip():
            raise Invalid(gettext_noop("empty CSV file"), field="file")
        reader = csv.reader(itertools.chain([first], text), delimiter=_delimiter(first))
        header = next(reader)
        cols = _columns(header)
        builder = FixBuilder(max_fixes)
        width = len(header)
        for row in reader:
            if not row:
                continue
            where = f"line {reader.line_num}"
            if len(row) < width:
                raise Invalid(f"{where} has {len(row)} fields, the header has {width}", field="line")
            builder.add(
                parse_time(row[cols["time"]], f"{where}, column {header[cols['time']]!r}"),
                parse_float(row[cols["lat"]], "lat", where),
                parse_float(row[cols["lon"]], "lon", where),
                optional_float(row[cols["accuracy"]]) if "accuracy" in cols else math.nan,
                optional_float(row[cols["alt"]]) if "alt" in cols else math.nan,
            )
    except UnicodeDecodeError as exc:
        raise Invalid(f"CSV is not UTF-8 text: {exc}", field="file") from exc
    except csv.Error as exc:
        raise Invalid(f"broken CSV after line {reader.line_num}: {exc}", field="file") from exc
    if not len(builder.t):
        raise Invalid(gettext_noop("CSV has a header but no rows"), field="file")
    return builder.build(on_backwards)


def _delimiter(header_line: str) -> str:
    """The most frequent of comma, semicolon and tab in the header line."""
    return max((",", ";", "\t"), key=header_line.count)


def _columns(header: list[str]) -> dict[str, int]:
    names = [h.strip().lower() for h in header]
    cols: dict[str, int] = {}
    for key, aliases in ALIASES.items():
        for alias in aliases:
            if alias in names:
                cols[key] = names.index(alias)
                break
    missing = [k for k in REQUIRED if k not in cols]
    if missing:
        raise Invalid(
            gettext_noop(
                "CSV header %(header)s lacks column(s) %(missing)s (need lat, lon, time[, accuracy])"
            ),
            field=missing[0],
            header=repr(header),
            missing=", ".join(missing),
        )
    return cols
