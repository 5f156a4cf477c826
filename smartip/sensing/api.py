"""JSON API for citizen sensing (/api/sensing): the batch ingest endpoint, sensors and their latest index."""

import json
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from smartip.accounts.auth import REQUIRED
from smartip.accounts.models import User
from smartip.cities.services import get_city
from smartip.core.errors import Invalid, NotFound
from smartip.sensing import aggregates, ingest, services
from smartip.sensing.models import Sensor
from smartip.sensing.schemas import (
    IngestOut,
    NeighbourhoodIndexOut,
    ReadingsIn,
    SensorCreatedOut,
    SensorIn,
    SensorOut,
    sensor_out,
)

router = Router(tags=["sensing"])

_BATCH_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ReadingsIn.model_json_schema()}},
    },
    "parameters": [
        {
            "in": "header",
            "name": "X-API-Key",
            "required": True,
            "schema": {"type": "string"},
            "description": "the sensor's own key, a device key linked to it, or its owner's device key",
        }
    ],
}


@router.post(
    "/readings", response={201: IngestOut}, openapi_extra=_BATCH_DOC, summary="Store a batch of readings"
)
def post_readings(request: HttpRequest) -> Status:
    """Up to 5,000 readings of one or more sensors; all are checked before any is stored (4xx names the field).

    Idempotent: a reading already stored (same sensor, quantity and time) counts as a duplicate.
    """
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"body: not JSON ({exc})", field="body") from None
    result = ingest.ingest_batch(payload=payload, raw_key=request.headers.get("X-API-Key"))
    return Status(201, result.as_dict())


@router.get("/sensors", response=list[SensorOut])
def list_sensors(request: HttpRequest, city: str) -> list[dict[str, Any]]:
    """Public (active, outdoor) sensors of a city with their latest index."""
    c = get_city(city)
    sensors = list(Sensor.objects.for_city(c).public().select_related("city", "neighbourhood"))
    indices = aggregates.sensor_indices(sensors)
    return [sensor_out(s, _index(indices.get(s.pk))) for s in sensors]


@router.get("/sensors/{sensor_id}", response=SensorOut)
def get_sensor(request: HttpRequest, sensor_id: int) -> dict[str, Any]:
    sensor = Sensor.objects.public().select_related("city", "neighbourhood").filter(pk=sensor_id).first()
    if sensor is None:
        raise NotFound(f"no public sensor {sensor_id}", field="sensor_id")
    return sensor_out(sensor, _index(aggregates.sensor_indices([sensor])[sensor.pk]))


@router.post("/sensors", response={201: SensorCreatedOut}, auth=REQUIRED)
def create_sensor(request: HttpRequest, body: SensorIn) -> Status:
    """Register a sensor you host; the answer holds its key (shown once)."""
    user: User = request.auth  # type: ignore[attr-defined]
    fields = body.dict()
    city = get_city(fields.pop("city"))
    sensor, key = services.register_sensor_as(user, city=city, **fields)
    return Status(201, {**sensor_out(sensor), "key": key, "firmware_id": sensor.firmware_id})


@router.get("/neighbourhoods", response=list[NeighbourhoodIndexOut])
def neighbourhoods(request: HttpRequest, city: str) -> list[dict[str, Any]]:
    """Latest index per neighbourhood (median of its public sensors' hourly means)."""
    c = get_city(city)
    return [
        {"code": hood.code, "name": hood.name, "index": _index(latest)}
        for hood, latest in aggregates.neighbourhood_indices(c).items()
    ]


def _index(latest: aggregates.LatestIndex | None) -> dict[str, Any] | None:
    return None if latest is None else latest.as_dict()
