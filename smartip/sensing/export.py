"""Exports of one sensor over a time range: raw readings as CSV or Parquet, hourly FIWARE Smart Data Models.

* :func:`parse_range` checks the asked range (ISO 8601, end after start, at most MAX_RANGE_DAYS) and names the
  wrong field. * :func:`csv_lines` / :func:`parquet_bytes` write the readings (time, quantity, value, unit,
  qc_flags: flagged readings are included, never silently dropped; for the PM of low-cost optical sensors also
  ``value_rh_corrected`` and ``rh_correction``, see :class:`HumidityCorrector`). * :func:`air_quality_observed` and
  :func:`noise_level_observed` give NGSI-LD *normalized* entities (Property / GeoProperty wrappers) of the
  AirQualityObserved and NoiseLevelObserved models, one per hour with data. Positions are the shown (rounded)
  ones, never a host's exact address.
"""

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.utils.dateparse import parse_date, parse_datetime

from smartip.core.errors import Invalid
from smartip.sensing import aqi, calibration, qc
from smartip.sensing.models import QUANTITIES, HourlyAggregate, Observation, Sensor

MAX_RANGE_DAYS = 92
SDM_CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld"
)
CSV_HEADER = (
    "sensor_id",
    "time",
    "quantity",
    "value",
    "unit",
    "qc_flags",
    "value_rh_corrected",
    "rh_correction",
)
#: a humidity reading pairs with a PM reading at most this far apart (or half the sensor's interval, if longer)
RH_PAIR_MIN_S = 30.0
#: our quantity → AirQualityObserved attribute and UN/CEFACT unit code (GQ = µg/m³, CEL = °C)
SDM_AIR: dict[str, tuple[str, str | None]] = {
    "pm1": ("pm1", "GQ"),
    "pm25": ("pm25", "GQ"),
    "pm4": ("pm4", "GQ"),
    "pm10": ("pm10", "GQ"),
    "no2": ("no2", "GQ"),
    "no": ("no", "GQ"),
    "nox": ("nox", "GQ"),
    "o3": ("o3", "GQ"),
    "so2": ("so2", "GQ"),
    "co": ("co", "GQ"),
    "temperature": ("temperature", None),
}
INDEX_LOOKBACK_H = 48


def _parse_instant(raw: str | None, field: str) -> datetime:
    if not raw:
        raise Invalid(f"{field} is required (ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00Z)", field=field)
    try:
        dt = parse_datetime(raw.strip())
        if dt is None:
            day = parse_date(raw.strip())
            dt = datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        dt = None
    if dt is None:
        raise Invalid(f"{field}: {raw!r} is not an ISO 8601 date or time", field=field)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def parse_range(
    start: str | None, end: str | None, *, max_days: int = MAX_RANGE_DAYS
) -> tuple[datetime, datetime]:
    """[start, end) from ISO strings (naive = UTC); end after start, at most ``max_days`` long."""
    t0 = _parse_instant(start, "start")
    t1 = _parse_instant(end, "end")
    if t1 <= t0:
        raise Invalid(f"end ({t1:%Y-%m-%d %H:%M}) must be after start ({t0:%Y-%m-%d %H:%M})", field="end")
    if t1 - t0 > timedelta(days=max_days):
        raise Invalid(f"the range is longer than {max_days} days; ask for less", field="end")
    return t0, t1


def _readings(sensor: Sensor, start: datetime, end: datetime) -> Iterator[tuple[str, datetime, float, int]]:
    return (
        Observation.objects.for_sensor(sensor)
        .between(start, end)
        .order_by("time", "quantity")
        .values_list("quantity", "time", "value", "qc_flags")
        .iterator(chunk_size=5000)
    )


class HumidityCorrector:
    """The sensor model's humidity correction (calibration.humidity_correction) of single PM readings.

    Each PM reading is paired with the same node's humidity reading nearest in time, within half the sensor's
    interval (at least RH_PAIR_MIN_S); humidity readings out of range are not used. κ-Köhler uses the
    literature κ (calibration.KAPPA_LITERATURE) until a locally fitted κ is stored. Readings without a paired
    humidity, and quantities the method does not cover, get no corrected value. Raw values stay as they are.
    """

    def __init__(self, sensor: Sensor, start: datetime, end: datetime) -> None:
        self.model = sensor.model
        self.tolerance_s = max(sensor.interval_s / 2, RH_PAIR_MIN_S)
        self.enabled = any(calibration.correction_method(sensor.model, q) for q in QUANTITIES)
        self.seconds = np.zeros(0)
        self.rh = np.zeros(0)
        if self.enabled:
            pad = timedelta(seconds=self.tolerance_s)
            rows = (
                Observation.objects.for_sensor(sensor)
                .between(start - pad, end + pad)
                .filter(quantity="humidity")
                .order_by("time")
                .values_list("time", "value", "qc_flags")
            )
            good = [(t.timestamp(), v) for t, v, f in rows if not f & int(qc.RANGE | qc.MISSING)]
            self.seconds = np.array([t for t, _v in good], dtype=np.float64)
            self.rh = np.array([v for _t, v in good], dtype=np.float64)

    def rh_at(self, time: datetime) -> float | None:
        """The nearest humidity reading within the tolerance, or None."""
        if self.seconds.size == 0:
            return None
        t = time.timestamp()
        i = int(np.searchsorted(self.seconds, t))
        near = [j for j in (i - 1, i) if 0 <= j < self.seconds.size]
        j = min(near, key=lambda k: abs(self.seconds[k] - t))
        return float(self.rh[j]) if abs(self.seconds[j] - t) <= self.tolerance_s else None

    def correct(self, quantity: str, time: datetime, value: float) -> tuple[float | None, str]:
        """(corrected value, method label) or (None, "") when there is no correction for this reading."""
        method = calibration.correction_method(self.model, quantity) if self.enabled else None
        rh = self.rh_at(time) if method else None
        if method is None or rh is None:
            return None, ""
        corrected = calibration.humidity_correction(self.model, np.array([value]), np.array([rh]))
        return float(corrected[0]), calibration.correction_label(method)


def csv_lines(sensor: Sensor, start: datetime, end: datetime) -> Iterator[str]:
    """CSV text line by line (header first), for a streaming response."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")

    def flush() -> str:
        text = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        return text

    writer.writerow(CSV_HEADER)
    yield flush()
    corrector = HumidityCorrector(sensor, start, end)
    for quantity, time, value, flags in _readings(sensor, start, end):
        unit = QUANTITIES[quantity].unit if quantity in QUANTITIES else ""
        corrected, method = corrector.correct(quantity, time, value)
        writer.writerow(
            (
                sensor.pk,
                time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                quantity,
                repr(value),
                unit,
                flags,
                "" if corrected is None else repr(corrected),
                method,
            )
        )
        yield flush()


def parquet_bytes(sensor: Sensor, start: datetime, end: datetime) -> bytes:
    """The same columns as the CSV in one Parquet file (time as UTC timestamps, qc_flags uint16)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = list(_readings(sensor, start, end))
    corrector = HumidityCorrector(sensor, start, end)
    corrections = [corrector.correct(q, t, v) for q, t, v, _f in rows]
    table = pa.table(
        {
            "sensor_id": pa.array([sensor.pk] * len(rows), pa.int64()),
            "time": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC")),
            "quantity": pa.array([r[0] for r in rows], pa.string()),
            "value": pa.array([r[2] for r in rows], pa.float64()),
            "unit": pa.array(
                [QUANTITIES[r[0]].unit if r[0] in QUANTITIES else "" for r in rows], pa.string()
            ),
            "qc_flags": pa.array([r[3] for r in rows], pa.uint16()),
            "value_rh_corrected": pa.array([c[0] for c in corrections], pa.float64()),
            "rh_correction": pa.array([c[1] or None for c in corrections], pa.string()),
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


# ----------------------------------------------------------------------------------------------- FIWARE SDM


def _prop(value: Any, unit: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Property", "value": value}
    if unit:
        out["unitCode"] = unit
    return out


def _location(sensor: Sensor) -> dict[str, Any]:
    return {
        "type": "GeoProperty",
        "value": {"type": "Point", "coordinates": [sensor.public_lon, sensor.public_lat]},
    }


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hourly(
    sensor: Sensor, quantities: tuple[str, ...], start: datetime, end: datetime
) -> dict[datetime, dict]:
    out: dict[datetime, dict[str, float]] = defaultdict(dict)
    rows = HourlyAggregate.objects.valid().filter(
        sensor=sensor, quantity__in=quantities, hour__gte=start, hour__lt=end
    )
    for quantity, hour, mean in rows.values_list("quantity", "hour", "mean"):
        out[hour][quantity] = mean
    return out


def _indices(scheme: str, hourly: dict[datetime, dict[str, float]]) -> dict[datetime, tuple[float, str]]:
    """Index and band name per hour, with the scheme's running means over the fetched hours."""
    known = set(aqi.pollutants(scheme)) - {"o3_1h"}
    hours = sorted(hourly)
    cols = {p: np.array([hourly[h].get(p, np.nan) for h in hours]) for p in known}
    cols = {p: c for p, c in cols.items() if np.isfinite(c).any()}
    if not hours or not cols:
        return {}
    stamps = np.array([h.astimezone(UTC).replace(tzinfo=None) for h in hours], dtype="datetime64[s]")
    result = aqi.hourly_indices(scheme, stamps, cols).result
    return {
        h: (float(result.value[i]), str(result.band_name[i]))
        for i, h in enumerate(hours)
        if not math.isnan(result.value[i])
    }


def air_quality_observed(sensor: Sensor, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """One normalized AirQualityObserved entity per hour with pollutant data in [start, end)."""
    scheme = sensor.city.profile.aqi_scheme
    wanted = (*SDM_AIR, "humidity")
    hourly = _hourly(sensor, wanted, start - timedelta(hours=INDEX_LOOKBACK_H), end)
    indices = _indices(scheme, hourly)
    entities = []
    for hour in sorted(h for h in hourly if h >= start):
        values = hourly[hour]
        if not any(q in values for q in SDM_AIR if q != "temperature"):
            continue
        entity: dict[str, Any] = {
            "id": f"urn:ngsi-ld:AirQualityObserved:smartip-sensor-{sensor.pk}-{_iso(hour)}",
            "type": "AirQualityObserved",
        }
        for quantity, (attr, unit) in SDM_AIR.items():
            if quantity in values:
                entity[attr] = _prop(round(values[quantity], 3), unit)
        if hour in indices:
            entity["airQualityIndex"] = _prop(indices[hour][0])
            entity["airQualityLevel"] = _prop(indices[hour][1].lower())
        entity["dateObserved"] = _prop(_iso(hour))
        entity["location"] = _location(sensor)
        if "humidity" in values:
            entity["relativeHumidity"] = _prop(round(values["humidity"] / 100.0, 4))
        entity["source"] = _prop(f"smartip:{sensor.city.slug}")
        entity["typeOfLocation"] = _prop(sensor.exposure)
        entity["@context"] = [SDM_CONTEXT]
        entities.append(entity)
    return entities


def energetic_mean_db(levels_db: list[float]) -> float:
    """LAeq of equal-length readings: 10·log10(mean(10^(L/10)))."""
    return float(10.0 * np.log10(np.mean(np.power(10.0, np.asarray(levels_db) / 10.0))))


def noise_level_observed(sensor: Sensor, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """One normalized NoiseLevelObserved entity per hour with clean noise readings in [start, end).

    LAeq is the energetic mean of the readings' LAeq (not an arithmetic mean), LAmax the hour's maximum.
    """
    by_hour: dict[datetime, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    rows = (
        Observation.objects.for_sensor(sensor)
        .clean()
        .between(start, end)
        .filter(quantity__in=("noise_laeq", "noise_lamax"))
        .values_list("quantity", "time", "value")
    )
    for quantity, time, value in rows:
        by_hour[time.replace(minute=0, second=0, microsecond=0)][quantity].append(value)
    entities = []
    for hour in sorted(by_hour):
        values = by_hour[hour]
        if not values.get("noise_laeq"):
            continue
        entity: dict[str, Any] = {
            "id": f"urn:ngsi-ld:NoiseLevelObserved:smartip-sensor-{sensor.pk}-{_iso(hour)}_{_iso(hour + timedelta(hours=1))}",
            "type": "NoiseLevelObserved",
            "LAeq": _prop(round(energetic_mean_db(values["noise_laeq"]), 2)),
        }
        if values.get("noise_lamax"):
            entity["LAmax"] = _prop(max(values["noise_lamax"]))
        entity["dateObservedFrom"] = _prop({"@type": "DateTime", "@value": _iso(hour)})
        entity["dateObservedTo"] = _prop({"@type": "DateTime", "@value": _iso(hour + timedelta(hours=1))})
        entity["location"] = _location(sensor)
        entity["@context"] = [SDM_CONTEXT]
        entities.append(entity)
    return entities
