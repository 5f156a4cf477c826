"""The DIY sensor firmware's push format (airrohr / Sensor.Community), so an existing node only changes its address.

The firmware POSTs JSON, one request per sensor (to Sensor.Community) or one per node (to a "custom API"):

    POST <path>   X-Sensor: esp8266-12345   X-PIN: 1   Content-Type: application/json
    {"esp8266id": "12345", "software_version": "NRZ-2020-133",
     "sensordatavalues": [{"value_type": "SDS_P1", "value": "12.30"}, {"value_type": "P2", "value": "8.10"}]}

Paths served (all the same view): ``/sensing/push``, ``/v1/push-sensor-data/`` (the Sensor.Community path) and
``/data.php`` (the firmware's default "custom API" path): in the firmware's "Send data to custom API" settings, set
our server as host and keep the default path. Values are strings in this format (as the firmware sends them);
firmware prefixes (``SDS_``, ``BME280_``, …) are stripped; P0 → pm1, P1 → pm10, P2 → pm25, P4 → pm4,
``noise_LAeq`` → noise_laeq, ``co2_ppm`` → co2; pressure is in Pa. Housekeeping values (signal, samples,
min_micro, durP1 …) are ignored and listed in the answer. The reading time is the server's receipt time.

A retried push is not a new reading: the firmware sends no time of its own, so a retry after a lost answer would
be stored again at a later second. A push whose every value equals the sensor's latest stored value of that
quantity within the retry window (half the sensor's interval, at least PUSH_RETRY_MIN_S) before the receipt is
acknowledged as duplicates (``{"received": n, "stored": 0, "duplicates": n}``, as the JSON batch reports a repeated
reading) and not stored again. A real next reading comes about one interval later, outside the window.

Auth: the node is known by ``X-Sensor`` (Sensor.firmware_id). Its key goes as the password of HTTP Basic auth (the
firmware's custom-API user/password fields) or in ``X-API-Key``; a sensor marked ``push_without_key`` is accepted
on ``X-Sensor`` alone, as Sensor.Community does. Answers: 201 with counts; 4xx ``{"error": {...}}`` naming the field.
"""

import base64
import binascii
import json
import re
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from smartip.accounts.models import ApiKey, hash_key
from smartip.core.errors import DomainError, Forbidden, Invalid, Unauthorized
from smartip.sensing.ingest import IngestResult, Reading, check_batch_size, check_possible, store, truncate_s
from smartip.sensing.models import Observation, Sensor

VALUE_TYPES: dict[str, str] = {
    "P0": "pm1",
    "P1": "pm10",
    "P2": "pm25",
    "P4": "pm4",
    "temperature": "temperature",
    "humidity": "humidity",
    "pressure": "pressure",
    "noise_LAeq": "noise_laeq",
    "noise_LA_min": "noise_lamin",
    "noise_LA_max": "noise_lamax",
    "co2_ppm": "co2",
}
#: the shortest retry window (s), for sensors with a very short interval
PUSH_RETRY_MIN_S = 5
_PREFIX = re.compile(
    r"^(SDS|PMS|HPM|NPM|SPS30|SEN5X|IPS|BME280|BMP280|BMP|BME680|HTU21D|SHT3X|DHT22|DS18B20|DNMS|SCD30|GPS)_"
)


def value_type_quantity(value_type: str) -> str | None:
    """Our quantity code for a firmware value type (prefix stripped), or None for housekeeping values."""
    return VALUE_TYPES.get(_PREFIX.sub("", value_type))


def parse_firmware_number(value: Any, where: str) -> float:
    """Firmware values are decimal strings ("12.30"); JSON numbers are accepted too. NaN is refused."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid(f"{where}: {value!r} is not a number", field=where)
    try:
        number = float(value)
    except ValueError:
        raise Invalid(f"{where}: {value!r} is not a number", field=where) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise Invalid(f"{where}: {value!r} is not a finite number", field=where)
    return number


def parse_push(body: bytes, sensor: Sensor, now: datetime) -> tuple[list[Reading], tuple[str, ...]]:
    """Readings of one push (all checked before anything is stored) and the ignored value types."""
    try:
        payload = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"body: not JSON ({exc})", field="body") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("sensordatavalues"), list):
        raise Invalid("sensordatavalues: a list of {value_type, value} is required", field="sensordatavalues")
    items = payload["sensordatavalues"]
    check_batch_size(len(items), "sensordatavalues")
    readings: dict[str, Reading] = {}
    ignored: list[str] = []
    for i, item in enumerate(items):
        where = f"sensordatavalues[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("value_type"), str) or "value" not in item:
            raise Invalid(f"{where}: each entry needs value_type (text) and value", field=where)
        quantity = value_type_quantity(item["value_type"])
        if quantity is None:
            ignored.append(item["value_type"])
            continue
        value = parse_firmware_number(item["value"], f"{where}.value")
        check_possible(quantity, value, f"{where}.value", reference=sensor.is_reference)
        readings.setdefault(
            quantity, Reading(sensor.pk, quantity, now, value)
        )  # first of a repeated type wins
    return list(readings.values()), tuple(ignored)


def push_key(request: HttpRequest) -> str | None:
    """The key from HTTP Basic auth (password) or X-API-Key."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("Authorization: malformed Basic credentials", field="Authorization") from None
        return decoded.partition(":")[2] or None
    return request.headers.get("X-API-Key") or None


def push_sensor(firmware_id: str | None, raw_key: str | None) -> Sensor:
    if not firmware_id:
        raise Invalid("X-Sensor: header missing (e.g. esp8266-12345)", field="X-Sensor")
    sensor = Sensor.objects.select_related("city").filter(firmware_id=firmware_id.strip()).first()
    if sensor is None:
        raise Invalid(f"X-Sensor: unknown sensor {firmware_id!r}; register it first", field="X-Sensor")
    if not sensor.is_active:
        raise Forbidden(f"X-Sensor: sensor {firmware_id!r} is deactivated", field="X-Sensor")
    if raw_key is None and sensor.push_without_key:
        return sensor
    key = ApiKey.objects.active().filter(key_hash=hash_key(raw_key.strip())).first() if raw_key else None
    if not sensor.accepts_key(raw_key, key=key):
        raise Unauthorized(f"the key for {firmware_id!r} is missing or wrong", field="Authorization")
    return sensor


def retry_window_s(sensor: Sensor) -> float:
    """How long after a stored push an identical one counts as its retry: half the interval, ≥ PUSH_RETRY_MIN_S."""
    return max(sensor.interval_s / 2, PUSH_RETRY_MIN_S)


def is_retry(sensor: Sensor, readings: list[Reading], now: datetime) -> bool:
    """Every value equals the latest stored value of its quantity within the retry window before ``now``."""
    since = now - timedelta(seconds=retry_window_s(sensor))
    latest: dict[str, float] = {}
    rows = (
        Observation.objects.filter(
            sensor=sensor, quantity__in=[r.quantity for r in readings], time__gte=since, time__lte=now
        )
        .order_by("quantity", "-time")
        .values_list("quantity", "value")
    )
    for quantity, value in rows:
        latest.setdefault(quantity, value)
    return all(latest.get(r.quantity) == r.value for r in readings)


def ingest_push(
    *, firmware_id: str | None, raw_key: str | None, body: bytes, now: datetime | None = None
) -> IngestResult:
    """Service: one firmware push, stored at receipt time (whole seconds); a retry is counted as duplicates."""
    now = truncate_s(now or timezone.now())
    sensor = push_sensor(firmware_id, raw_key)
    readings, ignored = parse_push(body, sensor, now)
    if not readings:
        return IngestResult(0, 0, 0, ignored)
    if is_retry(sensor, readings, now):
        return IngestResult(len(readings), 0, len(readings), ignored)
    result = store(readings, {sensor.pk: sensor}, now=now)
    return IngestResult(result.received, result.stored, result.duplicates, ignored)


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def push_view(request: HttpRequest) -> HttpResponse:
    """Thin edge: parse headers, call the service in one transaction, answer JSON."""
    try:
        with transaction.atomic():
            result = ingest_push(
                firmware_id=request.headers.get("X-Sensor"), raw_key=push_key(request), body=request.body
            )
    except DomainError as exc:
        return JsonResponse({"error": exc.as_dict()}, status=exc.status)
    return JsonResponse(result.as_dict(), status=201)
