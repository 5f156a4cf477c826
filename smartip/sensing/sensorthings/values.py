"""Field checks for SensorThings bodies: each refusal names the field (``Thing.Datastreams[0].name``)."""

from datetime import datetime
from typing import Any

from smartip.core.errors import Invalid
from smartip.sensing import ingest
from smartip.sensing.models import QUANTITIES

#: unit symbols clients commonly send for the unit we store (we do not convert units: others are refused)
UNIT_ALIASES = {
    "ug/m3": {"ug/m3", "µg/m³", "µg/m3", "μg/m³", "μg/m3", "ug/m^3"},
    "Cel": {"Cel", "°C", "degC", "C"},
    "%": {"%", "%RH"},
    "Pa": {"Pa"},
    "dB(A)": {"dB(A)", "dBA", "dB"},
    "ppm": {"ppm", "[ppm]"},
}


def text(body: dict[str, Any], name: str, where: str, *, required: bool = False) -> str:
    value = body.get(name)
    if value is None:
        if required:
            raise Invalid(f"{where}.{name}: required", field=f"{where}.{name}")
        return ""
    if not isinstance(value, str):
        raise Invalid(f"{where}.{name}: a string is expected, not {value!r}", field=f"{where}.{name}")
    return value


def json_object(value: Any, where: str, *, required: bool = False) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise Invalid(f"{where}: a JSON object is expected", field=where)
    return value


def number(value: Any, where: str) -> float:
    """Our observations are numbers (OM_Measurement); other result types are refused."""
    return ingest.check_number(value, where)


def time_instant(value: Any, where: str, now: datetime) -> datetime:
    """An ISO 8601 instant; None means now. Intervals (``a/b``) are refused: observations are instants here."""
    if value is None:
        return now
    if isinstance(value, str) and "/" in value:
        raise Invalid(f"{where}: time intervals are not supported, send an instant", field=where)
    return ingest.parse_time(value, where, now)


def geojson_point(geometry: Any) -> tuple[float, float] | None:
    """(lat, lon) of a GeoJSON Point (or a Feature holding one), else None."""
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return None
    coords = geometry.get("coordinates")
    if (
        isinstance(coords, list)
        and len(coords) >= 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords[:2])
    ):
        lon, lat = float(coords[0]), float(coords[1])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return lat, lon
    raise Invalid("location: a GeoJSON Point is [longitude, latitude] in degrees", field="location")


def quantity_of(explicit: Any, name: str, definition: str, where: str) -> str:
    """Which of our quantities an ObservedProperty is: ``properties.quantity``, else its name or definition
    (the code ``pm25`` or the name ``PM2.5``, case-insensitive; a definition URI's last segment counts)."""
    by_name = {q.name.lower(): q.code for q in QUANTITIES.values()} | {c: c for c in QUANTITIES}
    candidates = [explicit, name, definition, definition.rstrip("/").rsplit("/", 1)[-1]]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.lower() in by_name:
            return by_name[candidate.lower()]
    raise Invalid(
        f"{where}: which quantity is {name!r}? set properties.quantity to one of {', '.join(QUANTITIES)}",
        field=f"{where}.properties.quantity",
    )


def check_unit(unit: dict[str, Any], quantity: str, where: str) -> None:
    """The Datastream's unit must be the unit we store the quantity in (no conversion)."""
    symbol = unit.get("symbol")
    expected = QUANTITIES[quantity].unit
    if symbol is None or symbol in UNIT_ALIASES.get(expected, {expected}):
        return
    raise Invalid(
        f"{where}.symbol: {quantity} is stored in {expected}, not {symbol!r}", field=f"{where}.symbol"
    )
