"""Ingest of sensor readings (JSON batch, DIY firmware push, MQTT): validate everything, then store once.

Every entry point validates the whole request before writing anything and refuses it with a reason naming the
field (``readings[3].value``): readings more than SENSING_MAX_FUTURE_S in the future, unknown sensors, a wrong
key, physically impossible values (negative PM, RH over 100 %, temperature outside −60..70 °C …), NaN, strings
where numbers are expected, more than SENSING_MAX_BATCH readings. Storing is idempotent: the natural key
(sensor, quantity, time) is unique and inserts skip conflicts, so a repeated reading is counted as a duplicate.

QC at ingest needs only the batch itself: range against the sensor's full scale (RANGE) and the PM1 ≤ PM2.5 ≤
PM10 order of readings taken at the same time (PM_ORDER). Series checks (stuck, spike, flatline) run in the
hourly aggregation (aggregates.py). Flags are stored with the reading; nothing is deleted.

The caller (the edge) owns the transaction.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone

from smartip.accounts.models import ApiKey, hash_key
from smartip.core.errors import Forbidden, Invalid, Unauthorized
from smartip.sensing import qc
from smartip.sensing.models import QUANTITIES, REFERENCE_NEGATIVE_SLACK, Exposure, Observation, Sensor

PM_QUANTITIES = ("pm1", "pm25", "pm10")


class Reading(NamedTuple):
    """One validated reading, ready to store (a tuple: thousands are made per request)."""

    sensor_id: int
    quantity: str
    time: datetime
    value: float


@dataclass(frozen=True)
class IngestResult:
    received: int
    stored: int
    duplicates: int
    ignored: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
        }
        if self.ignored:
            out["ignored"] = list(self.ignored)
        return out


# ---------------------------------------------------------------------------------------------- validation


def check_number(value: Any, where: str) -> float:
    """A finite JSON number (not a string, not a boolean, not NaN/Infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "a string" if isinstance(value, str) else type(value).__name__.replace("NoneType", "null")
        raise Invalid(f"{where}: {value!r} is {kind}, expected a number", field=where)
    try:
        number = float(value)
    except OverflowError:
        raise Invalid(f"{where}: {value!r} is too large", field=where) from None
    if not math.isfinite(number):
        raise Invalid(f"{where}: {value!r} is not a finite number", field=where)
    return number


def check_possible(quantity: str, value: float, where: str, *, reference: bool = False) -> None:
    """Refuse physically impossible values (reference stations may read slightly below zero)."""
    q = QUANTITIES[quantity]
    low = q.possible_min - (REFERENCE_NEGATIVE_SLACK if reference and q.possible_min == 0.0 else 0.0)
    if not low <= value <= q.possible_max:
        raise Invalid(
            f"{where}: {value:g} {q.unit} is impossible for {quantity} (allowed {low:g}..{q.possible_max:g})",
            field=where,
        )


def check_quantity(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in QUANTITIES:
        raise Invalid(f"{where}: unknown quantity {value!r}; known: {', '.join(QUANTITIES)}", field=where)
    return value


def parse_time(value: Any, where: str, now: datetime, max_future_s: float | None = None) -> datetime:
    """ISO 8601 with a time zone (``2026-11-25T06:00:00Z``) or Unix seconds; not in the future beyond the skew."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid(f"{where}: cannot read time {value!r} (ISO 8601 expected)", field=where) from None
        if parsed.tzinfo is None:
            raise Invalid(f"{where}: time {value!r} has no time zone (add Z or +01:00)", field=where)
        parsed = parsed.astimezone(UTC)
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        try:
            parsed = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise Invalid(f"{where}: {value!r} is not a Unix time", field=where) from None
    else:
        raise Invalid(f"{where}: {value!r} is not a time (ISO 8601 string or Unix seconds)", field=where)
    if max_future_s is None:
        max_future_s = settings.SENSING_MAX_FUTURE_S
    if (parsed - now).total_seconds() > max_future_s:
        raise Invalid(
            f"{where}: {value!r} is in the future (server time {now:%Y-%m-%dT%H:%M:%SZ})", field=where
        )
    return parsed


def check_batch_size(n: int, field: str = "readings") -> None:
    if n > settings.SENSING_MAX_BATCH:
        raise Invalid(f"{field}: {n} readings, at most {settings.SENSING_MAX_BATCH} per request", field=field)
    if n == 0:
        raise Invalid(f"{field}: no readings", field=field)


def parse_readings(payload: Any, *, now: datetime, default_sensor: int | None = None) -> list[Reading]:
    """Field checks of a JSON batch ``{"sensor"?: id, "readings": [{"sensor"?, "quantity", "time", "value"}]}``.

    A tight loop takes the common shape (int sensor, known quantity, finite number, ISO time with offset); any
    other item goes through :func:`_parse_item`, which accepts the other valid forms or names what is wrong.
    Physical plausibility needs the sensors (reference slack) and is checked by :func:`check_values`.
    """
    if not isinstance(payload, dict):
        raise Invalid("the body must be a JSON object with a 'readings' list", field="body")
    if "sensor" in payload and default_sensor is None:
        default_sensor = _sensor_id(payload["sensor"], "sensor")
    items = payload.get("readings")
    if not isinstance(items, list):
        raise Invalid("readings: a list of readings is required", field="readings")
    check_batch_size(len(items))
    max_future_s = settings.SENSING_MAX_FUTURE_S
    latest = now + timedelta(seconds=max_future_s)
    out: list[Reading] = []
    append = out.append
    fromiso, isfinite, utc = datetime.fromisoformat, math.isfinite, UTC
    for i, item in enumerate(items):
        try:
            quantity, value, t = item["quantity"], item["value"], item["time"]
            sensor_id = item.get("sensor", default_sensor)
            if (
                type(sensor_id) is int
                and sensor_id > 0
                and quantity in QUANTITIES
                and (type(value) is float or type(value) is int)
                and isfinite(value)
                and type(t) is str
            ):
                parsed = fromiso(t)
                if parsed.tzinfo is not None and parsed <= latest:
                    append(Reading(sensor_id, quantity, parsed.astimezone(utc), float(value)))
                    continue
        except (TypeError, KeyError, ValueError, AttributeError, OverflowError):
            pass
        append(_parse_item(i, item, default_sensor, now, max_future_s))
    return out


def _parse_item(i: int, item: Any, default_sensor: int | None, now: datetime, max_future_s: float) -> Reading:
    where = f"readings[{i}]"
    if not isinstance(item, dict):
        raise Invalid(f"{where}: each reading must be an object", field=where)
    if "sensor" in item:
        sensor_id = _sensor_id(item["sensor"], f"{where}.sensor")
    elif default_sensor is not None:
        sensor_id = default_sensor
    else:
        raise Invalid(
            f"{where}.sensor: which sensor? (give 'sensor' here or at the top)", field=f"{where}.sensor"
        )
    for name in ("quantity", "time", "value"):
        if name not in item:
            raise Invalid(f"{where}.{name}: missing", field=f"{where}.{name}")
    quantity = check_quantity(item["quantity"], f"{where}.quantity")
    value = check_number(item["value"], f"{where}.value")
    time = parse_time(item["time"], f"{where}.time", now, max_future_s)
    return Reading(sensor_id, quantity, time, value)


def _sensor_id(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Invalid(f"{where}: {value!r} is not a sensor id (a positive integer)", field=where)
    return value


# ------------------------------------------------------------------------------------------- authorisation


def sensors_for_key(raw_key: str | None, sensor_ids: set[int], *, field: str = "sensor") -> dict[int, Sensor]:
    """The sensors of the batch, each checked against the key (own key, linked device key or owner's device key).

    No key or a key nobody holds → Unauthorized; unknown sensor → Invalid naming it; a valid key for other
    sensors → Forbidden.
    """
    if not raw_key or not raw_key.strip():
        raise Unauthorized("send the sensor's key or a device key in X-API-Key", field="X-API-Key")
    digest = hash_key(raw_key.strip())
    key = ApiKey.objects.active().filter(key_hash=digest).first()
    if key is None and not Sensor.objects.filter(key_hash=digest).exists():
        raise Unauthorized("the key is wrong or revoked", field="X-API-Key")
    sensors = {s.pk: s for s in Sensor.objects.filter(pk__in=sensor_ids).select_related("city")}
    missing = sorted(sensor_ids - set(sensors))
    if missing:
        raise Invalid(f"{field}: unknown sensor {missing[0]}", field=field)
    for sensor in sensors.values():
        if not sensor.is_active:
            raise Forbidden(f"{field}: sensor {sensor.pk} is deactivated", field=field)
        if not sensor.accepts_key(raw_key, key=key):
            raise Forbidden(f"{field}: this key may not write to sensor {sensor.pk}", field=field)
    return sensors


def check_values(
    readings: list[Reading], sensors: dict[int, Sensor], field: str = "readings"
) -> list[Reading]:
    """Physical plausibility per reading (after the sensors are known: reference stations get some slack)."""
    bounds = {q.code: (q.possible_min, q.possible_max) for q in QUANTITIES.values()}
    references = {pk for pk, s in sensors.items() if s.is_reference}
    for i, (sensor_id, quantity, _, value) in enumerate(readings):
        lo, hi = bounds[quantity]
        if not lo <= value <= hi:
            check_possible(quantity, value, f"{field}[{i}].value", reference=sensor_id in references)
    return readings


# ------------------------------------------------------------------------------------------------- storing


def ingest_flags(readings: list[Reading], sensors: dict[int, Sensor]) -> np.ndarray:
    """QC flags that need only the batch: range (per quantity and sensor model) and PM order."""
    flags = np.zeros(len(readings), dtype=np.uint16)
    values = np.fromiter((r.value for r in readings), dtype=np.float64, count=len(readings))
    groups: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    pm: dict[tuple[int, datetime], dict[str, int]] = defaultdict(dict)
    for i, r in enumerate(readings):
        sensor = sensors[r.sensor_id]
        if r.quantity in PM_QUANTITIES:
            groups[("pm", sensor.model)].append(i)
            pm[(r.sensor_id, r.time)][r.quantity] = i
        elif r.quantity == "temperature":
            outdoor = sensor.exposure == Exposure.OUTDOOR
            groups[("temperature:ambient" if outdoor else "temperature", None)].append(i)
        elif r.quantity in ("humidity", "noise_laeq"):
            groups[(r.quantity, None)].append(i)
    for (quantity, model), idx in groups.items():
        if quantity.startswith("temperature:"):
            lo, hi = qc.RANGES[quantity]
            flags[idx] |= qc.range_flags(values[idx], lo, hi)
        else:
            flags[idx] |= qc.range_flags_for(quantity, values[idx], model)
    rows = [row for row in pm.values() if len(row) > 1]
    if rows:
        cols = {q: np.array([values[row[q]] if q in row else np.nan for row in rows]) for q in PM_QUANTITIES}
        bad = qc.pm_order_flags(cols["pm1"], cols["pm25"], cols["pm10"])
        for row, flag in zip(rows, bad, strict=True):
            if flag:
                for i in row.values():
                    flags[i] |= flag
    return flags


def store(
    readings: list[Reading], sensors: dict[int, Sensor], *, now: datetime | None = None
) -> IngestResult:
    """Insert with ON CONFLICT DO NOTHING (duplicates skipped), mark the sensors' aggregates dirty."""
    if not readings:
        return IngestResult(0, 0, 0)
    flags = ingest_flags(readings, sensors)
    stored = insert_observations(readings, flags)
    first: dict[int, datetime] = {}
    for r in readings:
        if r.sensor_id not in first or r.time < first[r.sensor_id]:
            first[r.sensor_id] = r.time
    mark_dirty(first, now or timezone.now())
    return IngestResult(len(readings), stored, len(readings) - stored)


def insert_observations(readings: list[Reading], flags: np.ndarray) -> int:
    """Rows actually inserted (conflicts on the idempotency key skipped), in one statement where possible."""
    table = Observation._meta.db_table
    flag_list = flags.tolist()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _insert_postgresql(table, readings, flag_list)
        if connection.vendor == "sqlite":
            cursor.executemany(
                f"INSERT OR IGNORE INTO {table} (sensor_id, quantity, time, value, qc_flags) "
                "VALUES (%s, %s, %s, %s, %s)",
                [
                    (r.sensor_id, r.quantity, sqlite_time(r.time), r.value, f)
                    for r, f in zip(readings, flag_list, strict=True)
                ],
            )
            return max(cursor.rowcount, 0)
    before = Observation.objects.count()
    Observation.objects.bulk_create(
        [
            Observation(sensor_id=r.sensor_id, quantity=r.quantity, time=r.time, value=r.value, qc_flags=f)
            for r, f in zip(readings, flag_list, strict=True)
        ],
        ignore_conflicts=True,
    )
    return Observation.objects.count() - before


def _insert_postgresql(table: str, readings: list[Reading], flags: list[int]) -> int:
    """One INSERT … SELECT FROM unnest(arrays) … ON CONFLICT DO NOTHING, the five arrays sent as array literals.

    Building the literals with ``join`` is the fastest way in from Python: binding 25,000 separate values (client
    or server side) costs more than the insert itself. The elements are integers, quantity codes from
    :data:`QUANTITIES`, ISO times and float reprs, none of which needs quoting in an array literal.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (sensor_id, quantity, time, value, qc_flags) "
            "SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::timestamptz[], %s::float8[], %s::int[]) "
            "ON CONFLICT (sensor_id, quantity, time) DO NOTHING",
            [
                "{" + ",".join([str(r.sensor_id) for r in readings]) + "}",
                "{" + ",".join([r.quantity for r in readings]) + "}",
                "{" + ",".join([r.time.isoformat() for r in readings]) + "}",
                "{" + ",".join([repr(r.value) for r in readings]) + "}",
                "{" + ",".join(map(str, flags)) + "}",
            ],
        )
        return max(cursor.rowcount, 0)


def mark_dirty(first: dict[int, datetime], seen: datetime) -> None:
    """``dirty_since`` := the earlier of the stored and the batch's first time, for all sensors in one statement."""
    table = Sensor._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS s SET dirty_since = LEAST(COALESCE(s.dirty_since, v.t), v.t), "
                "last_seen_at = %s FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, t) WHERE s.id = v.id",
                [seen, list(first), list(first.values())],
            )
        return
    if connection.vendor == "sqlite":  # times are ISO text there: MIN compares them correctly
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET dirty_since = MIN(COALESCE(dirty_since, %s), %s), last_seen_at = %s "
                "WHERE id = %s",
                [(sqlite_time(t), sqlite_time(t), sqlite_time(seen), pk) for pk, t in first.items()],
            )
        return
    Sensor.mark_many_dirty(first, seen)


def sqlite_time(t: datetime) -> str:
    """What Django's SQLite backend stores for an aware datetime (naive UTC text), without its per-call overhead."""
    return (t if t.utcoffset() == _ZERO else t.astimezone(UTC)).replace(tzinfo=None).isoformat(" ")


_ZERO = timedelta(0)


# ---------------------------------------------------------------------------------------------- services


def ingest_batch(*, payload: Any, raw_key: str | None, now: datetime | None = None) -> IngestResult:
    """The JSON batch (HTTP POST /api/sensing/readings): all checks first, then one insert."""
    now = now or timezone.now()
    raws = parse_readings(payload, now=now)
    sensors = sensors_for_key(raw_key, {r.sensor_id for r in raws}, field="readings.sensor")
    return store(check_values(raws, sensors), sensors, now=now)


def prepare_sensor_message(
    *,
    sensor_id: int,
    payload: Any,
    raw_key: str | None,
    now: datetime,
    sensors: dict[int, Sensor] | None = None,
) -> tuple[list[Reading], Sensor]:
    """Checks of one sensor's message ``{"key": …, "readings": [{"quantity", "time", "value"}]}`` (MQTT).

    ``sensors`` caches sensors already authorised with this key (the caller keys the cache by key).
    """
    items = payload.get("readings") if isinstance(payload, dict) else None
    if isinstance(items, list) and any(isinstance(r, dict) and "sensor" in r for r in items):
        raise Invalid("readings: the topic names the sensor, not the readings", field="readings.sensor")
    raws = parse_readings(payload, now=now, default_sensor=sensor_id)
    if sensors is None or sensor_id not in sensors:
        found = sensors_for_key(raw_key, {sensor_id}, field="topic")
        if sensors is not None:
            sensors.update(found)
    else:
        found = sensors
    return check_values(raws, found), found[sensor_id]


def ingest_sensor_message(
    *, sensor_id: int, payload: Any, raw_key: str | None, now: datetime | None = None
) -> IngestResult:
    """One sensor's readings (the MQTT payload), checked then stored."""
    now = now or timezone.now()
    readings, sensor = prepare_sensor_message(sensor_id=sensor_id, payload=payload, raw_key=raw_key, now=now)
    return store(readings, {sensor.pk: sensor}, now=now)


def truncate_s(t: datetime) -> datetime:
    return t - timedelta(microseconds=t.microsecond)
