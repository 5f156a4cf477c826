"""Trace readers (GPX, GeoJSON, CSV, GeoLife PLT, phone JSON batch) and writers (GPX, GeoJSON).

`read_trace(source, fmt)` picks the reader by format name or file suffix. Every reader raises
`smartip.core.errors.Invalid` with the place (line, point or field) of the first problem, and returns `Fixes`
sorted by time (pass `on_backwards="reject"` to refuse time going backwards instead).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from smartip.core.errors import Invalid, gettext_noop
from smartip.mobility.fixes import Fixes

FORMATS = ("gpx", "geojson", "csv", "plt", "batch")
SUFFIXES = {".gpx": "gpx", ".geojson": "geojson", ".csv": "csv", ".plt": "plt", ".json": "batch"}


def format_for(filename: str) -> str:
    """Format name from a file name's suffix; `Invalid` when unknown."""
    fmt = SUFFIXES.get(Path(filename).suffix.lower())
    if fmt is None:
        raise Invalid(
            gettext_noop("unknown trace format for %(file)s (use .gpx, .geojson, .csv, .plt or .json)"),
            field="file",
            file=repr(filename),
        )
    return fmt


def read_trace(source: Path | BinaryIO, fmt: str | None = None, *, on_backwards: str = "sort") -> Fixes:
    """Read a trace in format `fmt` (or by the suffix of a Path)."""
    if fmt is None:
        if not isinstance(source, Path):
            raise Invalid("format is required for a stream", field="format")
        fmt = format_for(source.name)
    if fmt == "gpx":
        from smartip.mobility.readers.gpx import read_gpx

        return read_gpx(source, on_backwards=on_backwards)
    if fmt == "geojson":
        from smartip.mobility.readers.geojson import read_geojson

        return read_geojson(source, on_backwards=on_backwards)
    if fmt == "csv":
        from smartip.mobility.readers.csv import read_csv

        return read_csv(source, on_backwards=on_backwards)
    if fmt == "plt":
        from smartip.mobility.readers.plt import read_plt

        return read_plt(source, on_backwards=on_backwards)
    if fmt == "batch":
        from smartip.mobility.readers.batch import read_batch

        return read_batch(source, on_backwards=on_backwards)
    raise Invalid(
        gettext_noop("unknown trace format %(format)s (one of %(choices)s)"),
        field="format",
        format=repr(fmt),
        choices=", ".join(FORMATS),
    )
