"""Hourly aggregation with the series QC, and the latest air-quality index per sensor and per neighbourhood.

* :func:`refresh_dirty` (or :func:`refresh_sensor`) recomputes, for every sensor with new readings, the series
  flags (stuck, spike, flatline; high / pinned humidity on PM from the same node's humidity) on the readings
  from the first new hour on, writes back the flags that changed, and upserts the hourly means of the clean
  readings (valid with ≥ 75 % of the hour covered at the sensor's interval; averaging.hourly_means). Reference
  stations get no stuck/spike checks (hourly integers repeat legitimately). HIGH_RH does not exclude a reading
  from the mean (it would blank out most humid cities); every other flag does.
* :func:`sensor_indices`, :func:`neighbourhood_indices` and :func:`city_index` give the latest hourly index and band of the city's
  scheme (aqi.hourly_indices, with the scheme's own running means / NowCast) from the hourly means. A
  neighbourhood's (or the city's) hourly concentration is the median of its public sensors' hourly means (robust to
  one faulty sensor), per pollutant.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from smartip.cities.models import City, Neighbourhood
from smartip.sensing import aqi, averaging, qc
from smartip.sensing.models import HourlyAggregate, Observation, Sensor

SERIES_BITS = int(qc.STUCK | qc.SPIKE | qc.FLATLINE | qc.HIGH_RH | qc.RH_PINNED)
SERIES_CHECKED = ("pm1", "pm25", "pm4", "pm10", "no2", "o3", "so2", "co")
PM = ("pm1", "pm25", "pm4", "pm10")
IGNORED_IN_MEANS = int(qc.HIGH_RH)
INDEX_LOOKBACK_H = 48
# a spike must also stand this far (× k) from the window's median: citizen PM sensors often repeat one value,
# and with MAD 0 the bare rule flagged 10–16 % of real SDS011 readings (Aberdeen archive)
SPIKE_MIN_SPREAD = 1.0


def hour_floor(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def _to_dt64(times: list[datetime]) -> np.ndarray:
    return np.array([t.astimezone(UTC).replace(tzinfo=None) for t in times], dtype="datetime64[us]")


def series_flags(
    quantity: str,
    ts: np.ndarray,
    values: np.ndarray,
    *,
    rh: tuple[np.ndarray, np.ndarray] | None,
    interval_s: float,
) -> np.ndarray:
    """Series QC of one time-ordered series (qc.py); ``rh`` = (times, values) of the node's humidity."""
    flags = np.zeros(values.size, dtype=np.uint16)
    if quantity not in SERIES_CHECKED or values.size == 0:
        return flags
    seconds = ts.astype("datetime64[us]").astype(np.int64) / 1e6
    flags |= (
        qc.stuck_flags(values)
        | qc.spike_flags(values, min_spread=SPIKE_MIN_SPREAD)
        | qc.flatline_flags(seconds, values)
    )
    if quantity in PM and rh is not None and rh[0].size:
        rh_s = rh[0].astype("datetime64[us]").astype(np.int64) / 1e6
        pos = np.clip(np.searchsorted(rh_s, seconds, side="right") - 1, 0, rh_s.size - 1)
        near = np.abs(rh_s[pos] - seconds) <= 1.5 * interval_s
        flags |= np.where(near, qc.humidity_flags(rh[1][pos]), 0).astype(np.uint16)
    return flags


def refresh_sensor(sensor: Sensor) -> int:
    """Recompute series flags and hourly aggregates from the sensor's first dirty hour; returns hours written."""
    since = Sensor.objects.filter(pk=sensor.pk).values_list("dirty_since", flat=True).first()
    if since is None:
        return 0
    first_hour = hour_floor(since)
    context = timedelta(seconds=max(3600.0, qc.SPIKE_WINDOW * sensor.interval_s * 1.2, qc.FLATLINE_S))
    rows = list(
        Observation.objects.filter(sensor=sensor, time__gte=first_hour - context)
        .order_by("quantity", "time")
        .values_list("id", "quantity", "time", "value", "qc_flags")
    )
    by_quantity: dict[str, list[tuple[int, datetime, float, int]]] = defaultdict(list)
    for pk, quantity, time, value, flags in rows:
        by_quantity[quantity].append((pk, time, value, flags))
    humidity = by_quantity.get("humidity")
    rh = (_to_dt64([r[1] for r in humidity]), np.array([r[2] for r in humidity])) if humidity else None
    changed: list[Observation] = []
    hourly: list[HourlyAggregate] = []
    now = timezone.now()
    start64 = np.datetime64(first_hour.astimezone(UTC).replace(tzinfo=None), "us")
    for quantity, series in by_quantity.items():
        ids = np.array([r[0] for r in series], dtype=np.int64)
        ts = _to_dt64([r[1] for r in series])
        values = np.array([r[2] for r in series], dtype=np.float64)
        old = np.array([r[3] for r in series], dtype=np.uint16)
        new = old & np.uint16(~SERIES_BITS & 0xFFFF)
        if not sensor.is_reference:
            new |= series_flags(quantity, ts, values, rh=rh, interval_s=sensor.interval_s)
        region = ts >= start64
        diff = np.flatnonzero(region & (new != old))
        changed += [Observation(id=int(ids[i]), qc_flags=int(new[i])) for i in diff]
        hourly += _hourly_rows(sensor, quantity, ts[region], values[region], new[region], now)
    with transaction.atomic():
        if changed:
            Observation.objects.bulk_update(changed, ["qc_flags"], batch_size=2000)
        if hourly:
            HourlyAggregate.objects.bulk_create(
                hourly,
                update_conflicts=True,
                unique_fields=["sensor", "quantity", "hour"],
                update_fields=["mean", "n", "n_total", "flags", "updated_at"],
                batch_size=2000,
            )
        Sensor.objects.filter(pk=sensor.pk, dirty_since=since).update(dirty_since=None)
    sensor.dirty_since = None
    return len(hourly)


def _hourly_rows(
    sensor: Sensor, quantity: str, ts: np.ndarray, values: np.ndarray, flags: np.ndarray, now: datetime
) -> list[HourlyAggregate]:
    if ts.size == 0:
        return []
    clean = qc.masked(values, flags, ignore=IGNORED_IN_MEANS)
    hours = ts.astype("datetime64[h]")
    unique_hours, first_idx, counts = np.unique(hours, return_index=True, return_counts=True)
    flags_or = np.bitwise_or.reduceat(flags, first_idx) if flags.size else flags
    starts, means, n_clean = averaging.hourly_means(
        ts.astype("datetime64[s]"), clean, interval_s=sensor.interval_s
    )
    mean_of = {h: (m, int(c)) for h, m, c in zip(starts.astype("datetime64[h]"), means, n_clean, strict=True)}
    out = []
    for hour, total, flag in zip(unique_hours, counts, flags_or, strict=True):
        mean, n = mean_of.get(hour, (np.nan, 0))
        out.append(
            HourlyAggregate(
                sensor_id=sensor.pk,
                quantity=quantity,
                hour=hour.astype("datetime64[s]").astype(datetime).replace(tzinfo=UTC),
                mean=None if np.isnan(mean) else float(mean),
                n=n,
                n_total=int(total),
                flags=int(flag),
                updated_at=now,
            )
        )
    return out


def refresh_dirty(*, city: City | None = None) -> int:
    """Refresh every sensor with new readings (optionally of one city); returns hours written."""
    sensors = Sensor.objects.dirty()
    if city is not None:
        sensors = sensors.for_city(city)
    return sum(refresh_sensor(s) for s in sensors)


# ----------------------------------------------------------------------------------------------- indices


@dataclass(frozen=True)
class LatestIndex:
    """The newest hour with an index value: value (band number for EAQI), band, its name, dominant pollutant."""

    hour: datetime
    value: float
    band: int
    band_name: str
    dominant: str
    scheme: str
    concentrations_ugm3: dict[str, float | None]
    n_sensors: int = 1

    def as_dict(self) -> dict[str, object]:
        return {
            "hour": self.hour.isoformat(),
            "value": self.value,
            "band": self.band,
            "band_name": self.band_name,
            "dominant": self.dominant,
            "scheme": self.scheme,
            "concentrations_ugm3": self.concentrations_ugm3,
            "n_sensors": self.n_sensors,
        }


def _latest(scheme: str, series: dict[str, dict[datetime, float]], n_sensors: int = 1) -> LatestIndex | None:
    known = set(aqi.pollutants(scheme)) - {"o3_1h"}
    series = {p: s for p, s in series.items() if p in known and s}
    if not series:
        return None
    hours = sorted({h for s in series.values() for h in s})
    stamps = _to_dt64(hours).astype("datetime64[s]")
    columns = {p: np.array([s.get(h, np.nan) for h in hours]) for p, s in series.items()}
    result = aqi.hourly_indices(scheme, stamps, columns).result
    valid = np.flatnonzero(~np.isnan(result.value))
    if valid.size == 0:
        return None
    i = int(valid[-1])
    return LatestIndex(
        hour=hours[i],
        value=float(result.value[i]),
        band=int(result.band[i]),
        band_name=str(result.band_name[i]),
        dominant=str(result.dominant[i]),
        scheme=scheme,
        concentrations_ugm3={p: (None if np.isnan(c[i]) else float(c[i])) for p, c in columns.items()},
        n_sensors=n_sensors,
    )


def _hourly_means(sensor_ids: Iterable[int], start: datetime, end: datetime) -> dict[int, dict[str, dict]]:
    out: dict[int, dict[str, dict[datetime, float]]] = defaultdict(lambda: defaultdict(dict))
    rows = HourlyAggregate.objects.valid().filter(
        sensor_id__in=list(sensor_ids), hour__gte=start, hour__lte=end, quantity__in=_POLLUTANTS
    )
    for sensor_id, quantity, hour, mean in rows.values_list("sensor_id", "quantity", "hour", "mean"):
        out[sensor_id][quantity][hour] = mean
    return out


_POLLUTANTS = ("pm25", "pm10", "no2", "o3", "so2", "co")


def sensor_indices(sensors: Iterable[Sensor], *, at: datetime | None = None) -> dict[int, LatestIndex | None]:
    """Latest index per sensor from its hourly means of the last 48 h up to ``at`` (default now)."""
    sensors = list(sensors)
    end = hour_floor(at or timezone.now())
    means = _hourly_means([s.pk for s in sensors], end - timedelta(hours=INDEX_LOOKBACK_H), end)
    return {s.pk: _latest(s.city.profile.aqi_scheme, means.get(s.pk, {})) for s in sensors}


def _pooled(scheme: str, means: dict[int, dict[str, dict]], ids: Iterable[int]) -> LatestIndex | None:
    """The index of the median, hour by hour and per pollutant, of these sensors' hourly means."""
    ids = [i for i in ids if i in means]
    pooled: dict[str, dict[datetime, list[float]]] = defaultdict(lambda: defaultdict(list))
    for i in ids:
        for p, s in means[i].items():
            for h, v in s.items():
                pooled[p][h].append(v)
    medians = {p: {h: float(np.median(v)) for h, v in s.items()} for p, s in pooled.items()}
    return _latest(scheme, medians, n_sensors=len(ids))


def neighbourhood_indices(
    city: City, *, at: datetime | None = None
) -> dict[Neighbourhood, LatestIndex | None]:
    """Latest index per neighbourhood of ``city``: median of its public sensors' hourly means, then the index."""
    end = hour_floor(at or timezone.now())
    sensors = list(Sensor.objects.for_city(city).public().filter(neighbourhood__isnull=False))
    means = _hourly_means([s.pk for s in sensors], end - timedelta(hours=INDEX_LOOKBACK_H), end)
    members: dict[int, list[int]] = defaultdict(list)
    for s in sensors:
        members[s.neighbourhood_id].append(s.pk)
    return {
        hood: _pooled(city.profile.aqi_scheme, means, members.get(hood.pk, []))
        for hood in city.neighbourhoods.all()
    }


def public_indices(
    city: City, sensors: list[Sensor], *, at: datetime | None = None
) -> tuple[dict[int, LatestIndex | None], LatestIndex | None]:
    """Latest index of each of ``city``'s public ``sensors`` and the city's (:func:`city_index`), from one query."""
    end = hour_floor(at or timezone.now())
    means = _hourly_means([s.pk for s in sensors], end - timedelta(hours=INDEX_LOOKBACK_H), end)
    scheme = city.profile.aqi_scheme
    per_sensor = {s.pk: _latest(scheme, means.get(s.pk, {})) for s in sensors}
    return per_sensor, _pooled(scheme, means, [s.pk for s in sensors])


def city_index(city: City, *, at: datetime | None = None) -> LatestIndex | None:
    """Latest city-wide index: the median of all the city's public sensors' hourly means (per pollutant and
    hour, as :func:`neighbourhood_indices` does per neighbourhood), then the city's scheme."""
    return public_indices(city, list(Sensor.objects.for_city(city).public()), at=at)[1]
