"""MQTT ingest worker (``smartip sensing mqtt-worker``): QoS 1, acknowledged only after the database commit.

Topic scheme (``SENSING_MQTT_PREFIX`` default ``smartip``)::

    {prefix}/{city}/sensors/{sensor_id}/readings     a device publishes here, QoS 1
    {prefix}/{city}/sensors/{sensor_id}/errors       the worker answers refusals here (QoS 0, JSON error)

Payload (JSON, UTF-8)::

    {"key": "<the sensor's own key or a device key>",
     "readings": [{"quantity": "pm25", "time": "2026-11-25T06:00:00Z", "value": 8.1}, ...]}

The key travels in the payload (the broker may be shared, so topic names are not secrets). The same checks as
the HTTP batch apply (ingest.py); a refused message is acknowledged (it would be refused again) and its reason
published on the errors topic.

Delivery: the worker connects with a fixed client id and a persistent session (MQTT 3.1.1 ``clean_session=False``),
subscribes at QoS 1 with paho-mqtt's ``manual_ack=True``, collects messages for up to ``flush_s`` or ``batch``
messages, stores them in ONE transaction and only then sends the PUBACKs. If the worker dies before the commit,
the broker redelivers the unacknowledged messages to the next worker with the same client id; if it dies after
the commit but before the PUBACKs, the redelivered readings are duplicates of the idempotency key and are not
stored twice. Every ``aggregate_every_s`` (60 s) the worker also refreshes the hourly means of sensors with new
readings (aggregates.refresh_dirty); deployments that ingest over HTTP only run ``smartip sensing aggregate``
from cron instead. Broker note: Mosquitto keeps at most ``max_queued_messages`` (default 1000) messages per offline
session — raise it in production so a worker restart never drops readings.
"""

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as paho
from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from smartip.core.errors import DomainError, Invalid
from smartip.sensing.alerts import refresh_and_alert
from smartip.sensing.ingest import Reading, prepare_sensor_message, store
from smartip.sensing.models import Sensor

log = logging.getLogger(__name__)
AUTH_CACHE_S = 60.0


def readings_topic(prefix: str, city: str, sensor_id: int) -> str:
    return f"{prefix}/{city}/sensors/{sensor_id}/readings"


def subscription(prefix: str) -> str:
    return f"{prefix}/+/sensors/+/readings"


def parse_topic(topic: str, prefix: str) -> tuple[str, int]:
    """``(city, sensor_id)`` of a readings topic."""
    parts = topic[len(prefix) + 1 :].split("/") if topic.startswith(prefix + "/") else []
    if len(parts) != 4 or parts[1] != "sensors" or parts[3] != "readings" or not parts[2].isdigit():
        raise Invalid(f"topic {topic!r} is not {prefix}/<city>/sensors/<id>/readings", field="topic")
    return parts[0], int(parts[2])


@dataclass
class Stats:
    messages: int = 0
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    batches: int = 0
    hours_aggregated: int = 0
    errors: list[str] = field(default_factory=list)


class Crash(Exception):
    """Raised by a test fault hook to simulate the process dying at that point."""


class Worker:
    """Subscribe, batch, store, commit, acknowledge. ``run()`` blocks until ``stop()`` (or a crash)."""

    def __init__(
        self,
        *,
        url: str | None = None,
        prefix: str | None = None,
        client_id: str | None = None,
        batch: int = 500,
        flush_s: float = 0.05,
        fault: Callable[[str], None] | None = None,
        aggregate_every_s: float | None = 60.0,
    ) -> None:
        parsed = urlparse(url or settings.MQTT_URL)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 1883
        self.username, self.password = parsed.username, parsed.password
        self.prefix = prefix or settings.SENSING_MQTT_PREFIX
        self.client_id = client_id or settings.SENSING_MQTT_CLIENT_ID
        self.batch, self.flush_s = batch, flush_s
        self.fault = fault or (lambda _point: None)
        self.aggregate_every_s = aggregate_every_s
        self._aggregated_at = time.monotonic()
        self.stats = Stats()
        self.subscribed = threading.Event()
        self._inbox: queue.Queue[paho.MQTTMessage] = queue.Queue()
        self._stop = threading.Event()
        self._auth: dict[str, tuple[float, dict[int, Sensor]]] = {}
        self.client = paho.Client(
            callback_api_version=paho.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=False,
            protocol=paho.MQTTv311,
            manual_ack=True,
        )
        if self.username:
            self.client.username_pw_set(self.username, self.password)
        self.client.max_inflight_messages_set(1000)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_a: self.subscribed.set()
        self.client.on_message = lambda _c, _u, msg: self._inbox.put(msg)

    def _on_connect(self, client: paho.Client, _u: Any, _flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("MQTT connect refused: %s", reason)
            return
        client.subscribe(subscription(self.prefix), qos=1)

    # -------------------------------------------------------------------------------------------- loop

    def run(self) -> Stats:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        try:
            while not self._stop.is_set():
                messages = self._collect()
                if messages:
                    self._process(messages)
                self._maybe_aggregate()
        except Crash:
            self._die()
            raise
        finally:
            close_old_connections()
        self.client.disconnect()
        self.client.loop_stop()
        return self.stats

    def stop(self) -> None:
        self._stop.set()

    def _die(self) -> None:
        """What a killed process leaves behind: no PUBACKs, no DISCONNECT, the socket just closes."""
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()

    def _collect(self) -> list[paho.MQTTMessage]:
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        messages = [first]
        deadline = time.monotonic() + self.flush_s
        while len(messages) < self.batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                messages.append(self._inbox.get(timeout=remaining))
            except queue.Empty:
                break
        return messages

    def _process(self, messages: list[paho.MQTTMessage]) -> None:
        now = timezone.now()
        readings: list[Reading] = []
        sensors: dict[int, Sensor] = {}
        refusals: list[tuple[paho.MQTTMessage, DomainError]] = []
        for msg in messages:
            try:
                found, sensor = self._prepare(msg, now)
            except DomainError as exc:
                refusals.append((msg, exc))
                continue
            readings += found
            sensors[sensor.pk] = sensor
        with transaction.atomic():
            result = store(readings, sensors, now=now)
            self.fault("before_commit")
        self.fault("after_commit")
        for msg, error in refusals:
            self._refuse(msg, error)
        for msg in messages:
            self.client.ack(msg.mid, msg.qos)
        s = self.stats
        s.messages += len(messages)
        s.stored += result.stored
        s.duplicates += result.duplicates
        s.refused += len(refusals)
        s.batches += 1

    def _maybe_aggregate(self) -> None:
        """Keep hourly means and indices fresh: refresh sensors with new readings every ``aggregate_every_s``."""
        every = self.aggregate_every_s
        if every is None or time.monotonic() - self._aggregated_at < every:
            return
        self._aggregated_at = time.monotonic()
        try:
            self.stats.hours_aggregated += refresh_and_alert()[0]
        except Exception:  # a failed refresh must not stop ingest; the sensors stay dirty for the next round
            log.exception("hourly aggregation failed")

    def _prepare(self, msg: paho.MQTTMessage, now: Any) -> tuple[list[Reading], Sensor]:
        city, sensor_id = parse_topic(msg.topic, self.prefix)
        try:
            payload = json.loads(msg.payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Invalid(f"payload: not JSON ({exc})", field="payload") from None
        raw_key = payload.get("key") if isinstance(payload, dict) else None
        if raw_key is not None and not isinstance(raw_key, str):
            raise Invalid("key: must be a string", field="key")
        cached = self._auth.get(raw_key or "")
        if cached is None or time.monotonic() - cached[0] > AUTH_CACHE_S:
            cached = (time.monotonic(), {})
            self._auth[raw_key or ""] = cached
        readings, sensor = prepare_sensor_message(
            sensor_id=sensor_id, payload=payload, raw_key=raw_key, now=now, sensors=cached[1]
        )
        if sensor.city.slug != city:
            raise Invalid(f"topic: sensor {sensor_id} is not in {city!r}", field="topic")
        return readings, sensor

    def _refuse(self, msg: paho.MQTTMessage, exc: DomainError) -> None:
        self.stats.errors.append(exc.message)
        error_topic = msg.topic.rsplit("/", 1)[0] + "/errors"
        self.client.publish(error_topic, json.dumps({"error": exc.as_dict()}), qos=0)
