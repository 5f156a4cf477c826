"""API shapes for /api/sensing (the batch body is parsed by ingest.parse_readings, these document it)."""

from datetime import datetime

from ninja import Schema
from pydantic import Field

from smartip.sensing.models import Sensor


class ReadingIn(Schema):
    sensor: int | None = Field(None, description="sensor id (or give it once at the top)")
    quantity: str = Field(
        ..., description="pm1, pm25, pm10, no2, o3, temperature, humidity, pressure (Pa), …"
    )
    time: datetime = Field(..., description="ISO 8601 with a time zone, or Unix seconds")
    value: float = Field(..., description="a JSON number (strings, NaN and Infinity are refused)")


class ReadingsIn(Schema):
    sensor: int | None = None
    readings: list[ReadingIn] = Field(..., description="at most SENSING_MAX_BATCH (5,000) readings")


class IngestOut(Schema):
    received: int
    stored: int
    duplicates: int


class SensorIn(Schema):
    city: str
    name: str
    model: str
    lat: float
    lon: float
    exposure: str = "outdoor"
    height_m: float | None = None
    is_home_hosted: bool = True
    is_reference: bool = False
    firmware_id: str | None = None
    interval_s: int = 145
    push_without_key: bool = False


class IndexOut(Schema):
    hour: datetime
    value: float
    band: int
    band_name: str
    dominant: str
    scheme: str
    concentrations_ugm3: dict[str, float | None]
    n_sensors: int


class SensorOut(Schema):
    id: int
    city: str
    name: str
    model: str
    exposure: str
    lat: float = Field(..., description="shown position (rounded for home-hosted sensors)")
    lon: float
    neighbourhood: str | None
    is_reference: bool
    last_seen_at: datetime | None
    index: IndexOut | None = None


class SensorCreatedOut(SensorOut):
    key: str = Field(..., description="the sensor's own key, shown once")
    firmware_id: str | None


class NeighbourhoodIndexOut(Schema):
    code: str
    name: str
    index: IndexOut | None


def sensor_out(sensor: Sensor, index: dict | None = None) -> dict:
    return {
        "id": sensor.pk,
        "city": sensor.city.slug,
        "name": sensor.name,
        "model": sensor.model,
        "exposure": sensor.exposure,
        "lat": sensor.public_lat,
        "lon": sensor.public_lon,
        "neighbourhood": sensor.neighbourhood.code if sensor.neighbourhood_id else None,
        "is_reference": sensor.is_reference,
        "last_seen_at": sensor.last_seen_at,
        "index": index,
    }
