"""Sensing workflows across models: register a sensor, import archive and station files."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from django.utils import timezone

from smartip.accounts.models import User
from smartip.accounts.permissions import has_role
from smartip.cities.models import City
from smartip.core.errors import Conflict, Forbidden, Invalid, gettext_noop
from smartip.sensing import csvio
from smartip.sensing.ingest import IngestResult, Reading, check_possible, store
from smartip.sensing.models import QUANTITIES, Exposure, Sensor, SensorModel

IMPORT_CHUNK = 5000
#: Sensor.Community archive ``sensor_type`` → our model.
ARCHIVE_TYPES: dict[str, str] = {
    **{m.upper(): m for m in SensorModel.values},
    **{t: "SHT3x" for t in ("SHT30", "SHT31", "SHT35")},
    "DNMS (LAERM)": "DNMS",
}


def register_sensor(
    *,
    city: City,
    owner: User | None,
    name: str,
    model: str,
    lat: float,
    lon: float,
    exposure: str = "outdoor",
    height_m: float | None = None,
    is_home_hosted: bool = True,
    is_reference: bool = False,
    firmware_id: str | None = None,
    interval_s: int = 145,
    push_without_key: bool = False,
) -> tuple[Sensor, str]:
    """A new sensor and its own key (returned once). The position must lie in the city."""
    if model not in SensorModel.values:
        raise Invalid(
            gettext_noop("unknown model %(model)s; one of %(choices)s"),
            field="model",
            model=repr(model),
            choices=", ".join(SensorModel.values),
        )
    if exposure not in Exposure.values:
        raise Invalid(
            gettext_noop("exposure must be one of %(choices)s"),
            field="exposure",
            choices=", ".join(Exposure.values),
        )
    if not city.contains(lat, lon):
        raise Invalid(
            gettext_noop("(%(lat)s, %(lon)s) is outside %(city)s"),
            field="lat",
            lat=lat,
            lon=lon,
            city=city.name,
        )
    if firmware_id and Sensor.objects.filter(firmware_id=firmware_id).exists():
        raise Conflict(
            gettext_noop("firmware id %(firmware_id)s is already registered"),
            field="firmware_id",
            firmware_id=repr(firmware_id),
        )
    sensor = Sensor(
        city=city,
        owner=owner,
        name=name,
        model=model,
        exposure=exposure,
        height_m=height_m,
        is_home_hosted=is_home_hosted,
        is_reference=is_reference,
        firmware_id=firmware_id or None,
        interval_s=interval_s,
        push_without_key=push_without_key,
    )
    sensor.set_position(lat, lon)
    sensor.save()
    return sensor, sensor.new_key()


def can_register_reference(user: User | None, city: City) -> bool:
    """Reference stations are registered by the city's administrators (the API and the page share this rule)."""
    return has_role(user, city, "admin")


def register_sensor_as(user: User, *, city: City, **fields: object) -> tuple[Sensor, str]:
    """Citizens register their own sensors; only city admins may register reference stations."""
    if not has_role(user, city, "citizen", "admin", "analyst"):
        raise Forbidden(gettext_noop("register in %(city)s first"), field="city", city=city.name)
    if fields.get("is_reference") and not can_register_reference(user, city):
        raise Forbidden(
            gettext_noop("only a city administrator registers reference stations"), field="is_reference"
        )
    return register_sensor(city=city, owner=user, **fields)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------- import


@dataclass(frozen=True)
class ImportResult:
    sensor: Sensor
    created: bool
    result: IngestResult


def _readings_from_columns(
    sensor: Sensor, timestamps: np.ndarray, values: dict[str, np.ndarray], name: str
) -> list[Reading]:
    """Finite values of known quantities become readings (timestamps as written, taken as UTC)."""
    times = [t.replace(tzinfo=UTC) for t in timestamps.astype("datetime64[s]").astype(datetime)]
    now = timezone.now()
    out = []
    for quantity, column in values.items():
        if quantity not in QUANTITIES:
            continue
        for row, value in enumerate(column.tolist()):
            if value != value:  # NaN: a missing cell is not a reading
                continue
            if times[row] > now:
                raise Invalid(
                    f"{name} line {row + 2}: {times[row]:%Y-%m-%d %H:%M} is in the future", field="timestamp"
                )
            check_possible(
                quantity, value, f"{name} line {row + 2} {quantity}", reference=sensor.is_reference
            )
            out.append(Reading(sensor.pk, quantity, times[row], value))
    return out


def import_readings(
    sensor: Sensor, readings: list[Reading], progress: Callable[[int, int], None] | None = None
) -> IngestResult:
    received = stored = 0
    for lo in range(0, len(readings), IMPORT_CHUNK):
        chunk = readings[lo : lo + IMPORT_CHUNK]
        r = store(chunk, {sensor.pk: sensor})
        received, stored = received + r.received, stored + r.stored
        if progress:
            progress(len(chunk), len(readings))
    return IngestResult(received, stored, received - stored)


def import_sensor_community(
    *,
    path: Path | str,
    city: City,
    owner: User | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """A Sensor.Community archive CSV: the sensor is found (or created) by firmware id ``sc-<sensor_id>``."""
    archive = csvio.read_sensor_community_csv(path)
    firmware_id = f"sc-{archive.sensor_id}"
    sensor = Sensor.objects.filter(firmware_id=firmware_id).first()
    created = sensor is None
    if sensor is None:
        model = ARCHIVE_TYPES.get(archive.sensor_type.upper())
        if model is None:
            raise Invalid(
                f"{path}: sensor type {archive.sensor_type!r} is not supported", field="sensor_type"
            )
        if not city.contains(archive.lat, archive.lon):
            raise Invalid(
                f"{path}: sensor at ({archive.lat}, {archive.lon}) is outside {city.name}", field="city"
            )
        sensor, _ = register_sensor(
            city=city,
            owner=owner,
            name=f"Sensor.Community {archive.sensor_type} {archive.sensor_id}",
            model=model,
            lat=archive.lat,
            lon=archive.lon,
            firmware_id=firmware_id,
        )
    readings = _readings_from_columns(sensor, archive.timestamps, archive.values, str(path))
    return ImportResult(sensor, created, import_readings(sensor, readings, progress))


def import_station(
    *,
    path: Path | str,
    city: City,
    station: str,
    lat: float | None = None,
    lon: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """An hourly reference-station CSV; the station is found (or created) by firmware id ``station-<name>``."""
    series = csvio.read_station_csv(path)
    firmware_id = f"station-{station}"
    sensor = Sensor.objects.filter(firmware_id=firmware_id).first()
    created = sensor is None
    if sensor is None:
        if lat is None or lon is None:
            lat, lon = city.center
        sensor, _ = register_sensor(
            city=city,
            owner=None,
            name=station,
            model="reference",
            lat=lat,
            lon=lon,
            is_home_hosted=False,
            is_reference=True,
            firmware_id=firmware_id,
            interval_s=3600,
        )
    readings = _readings_from_columns(sensor, series.timestamps, series.values, str(path))
    return ImportResult(sensor, created, import_readings(sensor, readings, progress))
