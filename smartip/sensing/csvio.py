"""Readers for air-quality CSV files and the core of ``smartip sensing aqi`` (pure: no Django).

* Station files (hourly): a timestamp column and one column per pollutant, in µg/m³. Headers are recognised
  loosely: ``pm25``/``PM2.5``/``PM₂.₅``, ``no2``/``Nitrogen Dioxide``/``NO₂ level (µg/m³)``, ``Ozone``, …;
  ``,`` or ``;`` separated; UTF-8 BOM allowed; blank, ``undefined``, ``NaN`` or ``-`` are missing values.
  Timestamps: ISO 8601, ``YYYY-MM-DD HH:MM[:SS]``, ``YYYY/MM/DD HH:MM:SS`` or ``DD-MM-YYYY HH:MM``; ``24:00``
  means 00:00 of the next day. Timestamps are kept as written (no time-zone shift; UK-AIR style files label
  the hour by its end).
* Sensor.Community archive files: ``sensor_id;sensor_type;location;lat;lon;timestamp;<values>`` with
  P0 → pm1, P1 → pm10, P2 → pm25.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from smartip.core.errors import Invalid
from smartip.sensing import aqi

FloatArray = npt.NDArray[np.float64]
MISSING_TOKENS = frozenset({"", "undefined", "nan", "na", "n/a", "-", "null", "none"})
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_ALIASES: dict[str, str] = {
    "pm25": "pm25",
    "pm2.5": "pm25",
    "pm2_5": "pm25",
    "p2": "pm25",
    "pm10": "pm10",
    "p1": "pm10",
    "pm1": "pm1",
    "p0": "pm1",
    "no2": "no2",
    "nitrogendioxide": "no2",
    "o3": "o3",
    "ozone": "o3",
    "so2": "so2",
    "sulphurdioxide": "so2",
    "sulfurdioxide": "so2",
    "co": "co",
    "carbonmonoxide": "co",
    "no": "no",
    "nitricoxide": "no",
    "nox": "nox",
    "nitrogenoxides": "nox",
    "temperature": "temperature",
    "humidity": "humidity",
    "pressure": "pressure",
}
_TIME_HEADERS = frozenset({"timestamp", "datetime", "date", "time", "date_time"})
_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S")
_FORMATS_DMY = ("%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S")


def canonical_column(header: str) -> str:
    """Pollutant key for a header (``'NO₂ level  (µg/m³)'`` → ``'no2'``); unknown headers lower-cased."""
    h = header.replace("\ufeff", "").translate(_SUBSCRIPTS).strip().lower()
    h = re.sub(r"\(.*?\)", "", h).replace("level", "")
    compact = re.sub(r"[\s]+", "", h)
    return _ALIASES.get(compact, compact)


def read_text(source: str | Path) -> tuple[str, str]:
    """``(text, name)`` from a path, or from CSV text given directly (a string containing a newline)."""
    if isinstance(source, str) and "\n" in source:
        return source, "<text>"
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8-sig"), str(path)
    except OSError as exc:
        raise Invalid(f"{path}: cannot read ({exc.strerror})", field="file") from exc


def parse_timestamp(value: str, where: str) -> datetime:
    """Parse one timestamp in any of the accepted forms (``24:00`` = next day 00:00)."""
    text = value.strip().rstrip("Z")
    next_day = False
    if re.search(r"[ T]24:00(:00)?$", text):
        text = re.sub(r"24:00(:00)?$", "00:00", text)
        next_day = True
    for fmt in _FORMATS + _FORMATS_DMY:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed + timedelta(days=1) if next_day else parsed
    raise Invalid(f"{where}: cannot read timestamp {value!r}", field="timestamp")


def parse_value(value: str, where: str) -> float:
    token = value.strip()
    if token.lower() in MISSING_TOKENS:
        return float("nan")
    try:
        return float(token)
    except ValueError:
        raise Invalid(f"{where}: {value!r} is not a number", field=where.rsplit(" ", 1)[-1]) from None


@dataclass(frozen=True)
class StationSeries:
    """An hourly station file: timestamps and one float array per recognised column (NaN = missing)."""

    name: str
    timestamps: npt.NDArray[np.datetime64]
    values: dict[str, FloatArray]
    text_columns: dict[str, list[str]] = field(default_factory=dict)


def _rows(text: str, name: str) -> tuple[list[str], list[list[str]]]:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    rows = [r for r in reader if r and any(cell.strip() for cell in r)]
    if not rows:
        raise Invalid(f"{name}: the file is empty", field="file")
    return rows[0], rows[1:]


def parse_station_csv(text: str, name: str = "<text>") -> StationSeries:
    """Parse an hourly station CSV (see the module docstring)."""
    header, rows = _rows(text, name)
    keys = [canonical_column(h) for h in header]
    time_cols = [i for i, k in enumerate(keys) if k in _TIME_HEADERS]
    if not time_cols:
        raise Invalid(
            f"{name} line 1: no timestamp column (one of {sorted(_TIME_HEADERS)})", field="timestamp"
        )
    t_col = time_cols[0]
    numeric = {i: k for i, k in enumerate(keys) if k in _ALIASES.values()}
    text_cols = {i: header[i].strip() for i in range(len(keys)) if i != t_col and i not in numeric}
    stamps: list[datetime] = []
    columns: dict[int, list[float]] = {i: [] for i in numeric}
    texts: dict[int, list[str]] = {i: [] for i in text_cols}
    for line_no, row in enumerate(rows, start=2):
        if len(row) < len(header):
            raise Invalid(
                f"{name} line {line_no}: {len(row)} fields, the header has {len(header)}", field="row"
            )
        stamps.append(parse_timestamp(row[t_col], f"{name} line {line_no}"))
        for i, key in numeric.items():
            columns[i].append(parse_value(row[i], f"{name} line {line_no} {key}"))
        for i in text_cols:
            texts[i].append(row[i])
    return StationSeries(
        name,
        np.array(stamps, dtype="datetime64[s]"),
        {numeric[i]: np.asarray(v, dtype=np.float64) for i, v in columns.items()},
        {text_cols[i]: v for i, v in texts.items()},
    )


def read_station_csv(source: str | Path) -> StationSeries:
    """Read an hourly station CSV from a path (or CSV text)."""
    text, name = read_text(source)
    return parse_station_csv(text, name)


@dataclass(frozen=True)
class SensorArchive:
    """One Sensor.Community archive file (one sensor): metadata and per-reading arrays."""

    sensor_id: int
    sensor_type: str
    location: int | None
    lat: float
    lon: float
    timestamps: npt.NDArray[np.datetime64]
    values: dict[str, FloatArray]


def parse_sensor_community_csv(text: str, name: str = "<text>") -> SensorArchive:
    """Parse an archive.sensor.community daily CSV; columns that are empty in every row are dropped."""
    header, rows = _rows(text, name)
    keys = [canonical_column(h) for h in header]
    needed = ("sensor_id", "sensor_type", "location", "lat", "lon", "timestamp")
    if tuple(keys[:6]) != needed:
        raise Invalid(f"{name} line 1: expected header {';'.join(needed)};…, got {';'.join(header[:6])}")
    if not rows:
        raise Invalid(f"{name}: no readings", field="file")
    ids = {r[0] for r in rows}
    if len(ids) > 1:
        raise Invalid(f"{name}: several sensor ids {sorted(ids)}; one sensor per file", field="sensor_id")
    series = parse_station_csv(
        "\n".join(";".join(r[5:]) for r in [header, *rows]),
        name,
    )
    values = {k: v for k, v in series.values.items() if np.isfinite(v).any()}
    extra = {canonical_column(h): i for i, h in enumerate(header) if i > 5}
    for key, i in extra.items():
        if key not in series.values and key not in _TIME_HEADERS:
            col = np.asarray([parse_value(r[i], f"{name} line {n} {key}") for n, r in enumerate(rows, 2)])
            if np.isfinite(col).any():
                values[key] = col
    first = rows[0]
    location = int(first[2]) if first[2].strip() else None
    return SensorArchive(
        int(first[0]), first[1], location, float(first[3]), float(first[4]), series.timestamps, values
    )


def read_sensor_community_csv(source: str | Path) -> SensorArchive:
    """Read a Sensor.Community archive CSV from a path (or CSV text)."""
    text, name = read_text(source)
    return parse_sensor_community_csv(text, name)


@dataclass(frozen=True)
class AqiRow:
    """One hour of ``smartip sensing aqi`` output."""

    timestamp: str
    index: float | None
    band: int
    band_name: str
    dominant: str
    sub_indices: dict[str, float | None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp,
            "index": self.index,
            "band": self.band,
            "band_name": self.band_name,
            "dominant": self.dominant,
            "sub_indices": self.sub_indices,
        }


def aqi_rows(
    source: str | Path, scheme: str, version: str | None = None, *, pm_method: str = "nowcast"
) -> list[AqiRow]:
    """Each hour's index and band for a CSV with ``timestamp`` and pollutant columns in µg/m³.

    ``source`` is a path or the CSV text. Pollutant columns the scheme has no table for (e.g. ``co`` for EEA,
    ``no``/``nox``) are ignored; a file with none of its pollutants raises :class:`Invalid`. Running means
    and NowCast follow :func:`smartip.sensing.aqi.hourly_indices`.
    """
    series = read_station_csv(source)
    known = set(aqi.pollutants(scheme, version)) - {"o3_1h"}
    used = {p: v for p, v in series.values.items() if p in known}
    if not used:
        raise Invalid(
            f"{series.name}: no pollutant column for {scheme}; expected some of {sorted(known)}",
            field="columns",
        )
    result = aqi.hourly_indices(scheme, series.timestamps, used, version, pm_method=pm_method).result
    stamps = series.timestamps.astype(str)
    rows = []
    for i in range(stamps.size):
        value = result.value[i]
        rows.append(
            AqiRow(
                timestamp=str(stamps[i]),
                index=None if np.isnan(value) else float(value),
                band=int(result.band[i]),
                band_name=str(result.band_name[i]),
                dominant=str(result.dominant[i]),
                sub_indices={p: _opt(r.value[i]) for p, r in result.sub.items()},
            )
        )
    return rows


def _opt(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
