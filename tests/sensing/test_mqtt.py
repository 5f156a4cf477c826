"""MQTT ingest against the real local Mosquitto: exactly-once storage across hard worker crashes.

The worker runs in a thread that can be killed hard at a chosen point (``Crash``): its network loop stops and the
socket closes without PUBACKs or DISCONNECT, as when the process is killed; a new worker then connects with the
same client id (persistent session) and the broker redelivers what was not acknowledged.
"""

import json
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as paho
import pytest

from smartip.sensing.models import Observation
from smartip.sensing.mqtt import Crash, Worker, parse_topic, readings_topic

BROKER = ("127.0.0.1", 1883)


def _broker_up() -> bool:
    try:
        socket.create_connection(BROKER, timeout=1).close()
        return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.skipif(not _broker_up(), reason="no MQTT broker at 127.0.0.1:1883"),
    pytest.mark.django_db(transaction=True),
]


class Runner:
    """A worker in a thread; ``crash_at(point, after_batches)`` makes it die at that point of a later batch."""

    def __init__(self, prefix: str, client_id: str) -> None:
        self.prefix, self.client_id = prefix, client_id
        self.crash_point: str | None = None
        self.crash_after = 0
        self.crashed = threading.Event()
        self.worker = Worker(prefix=prefix, client_id=client_id, batch=50, flush_s=0.02, fault=self._fault)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _fault(self, point: str) -> None:
        if point == self.crash_point and self.worker.stats.batches >= self.crash_after:
            raise Crash(point)

    def _run(self) -> None:
        from django.db import connection

        try:
            self.worker.run()
        except Crash:
            self.crashed.set()
        finally:
            connection.close()

    def start(self) -> "Runner":
        self.thread.start()
        assert self.worker.subscribed.wait(10), "worker did not subscribe"
        return self

    def stop(self) -> None:
        self.worker.stop()
        self.thread.join(10)


def publisher(client_id: str) -> paho.Client:
    client = paho.Client(callback_api_version=paho.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    client.connect(*BROKER)
    client.loop_start()
    return client


def forget_session(client_id: str) -> None:
    """Drop the broker's persistent session of a test worker."""
    c = paho.Client(
        callback_api_version=paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True
    )
    c.connect(*BROKER)
    c.loop_start()
    time.sleep(0.2)
    c.disconnect()
    c.loop_stop()


def wait_for(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _idle(worker: Worker, quiet_s: float = 1.5):
    """A predicate: true once the worker has acknowledged nothing new for ``quiet_s``."""
    last = {"n": -1, "since": time.monotonic()}

    def check() -> bool:
        n = worker.stats.messages
        if n != last["n"]:
            last["n"], last["since"] = n, time.monotonic()
        return time.monotonic() - last["since"] >= quiet_s

    return check


@pytest.fixture
def mqtt_ids():
    run = uuid.uuid4().hex[:10]
    prefix, client_id = f"smartip-test-{run}", f"smartip-test-worker-{run}"
    yield prefix, client_id
    forget_session(client_id)


def test_parse_topic():
    assert parse_topic("p/manchester/sensors/12/readings", "p") == ("manchester", 12)
    for bad in (
        "p/manchester/sensors/x/readings",
        "q/m/sensors/1/readings",
        "p/m/sensors/1",
        "p/m/things/1/readings",
    ):
        with pytest.raises(Exception, match="topic"):
            parse_topic(bad, "p")


@pytest.mark.slow
def test_ten_thousand_readings_stored_exactly_once_across_two_hard_crashes(sensor, key, mqtt_ids):
    prefix, client_id = mqtt_ids
    topic = readings_topic(prefix, sensor.city.slug, sensor.pk)
    n_messages, per_message = 1000, 10
    start = datetime.now(UTC) - timedelta(days=2)

    first = Runner(prefix, client_id)
    first.crash_point, first.crash_after = "after_commit", 5  # committed, never acknowledged
    first.start()
    pub = publisher(f"{client_id}-pub")
    infos = []

    def publish(lo: int, hi: int) -> None:
        for m in range(lo, hi):
            readings = [
                {
                    "quantity": "pm25",
                    "time": (start + timedelta(seconds=10 * (m * per_message + j))).isoformat(),
                    "value": round(5 + (m * per_message + j) % 97 * 0.1, 2),
                }
                for j in range(per_message)
            ]
            infos.append(pub.publish(topic, json.dumps({"key": key, "readings": readings}), qos=1))

    publish(0, 300)
    assert first.crashed.wait(20), "first worker never reached its crash point"
    publish(300, 500)  # the worker is down: the broker queues these for its session
    second = Runner(prefix, client_id)
    second.crash_point, second.crash_after = "before_commit", 8  # rolled back, never acknowledged
    second.start()
    publish(500, 800)
    assert second.crashed.wait(20), "second worker never reached its crash point"
    third = Runner(prefix, client_id).start()
    publish(800, n_messages)
    for info in infos:
        info.wait_for_publish(10)
    pub.disconnect()
    pub.loop_stop()

    total = n_messages * per_message
    done = wait_for(
        lambda: (
            first.worker.stats.stored + second.worker.stats.stored + third.worker.stats.stored
            >= total - 50 * per_message
        ),
        30,
    )
    quiet = wait_for(
        _idle(third.worker), 30
    )  # stats of a batch that crashed after its commit are lost with it
    third.stop()
    assert done and quiet, (first.worker.stats, second.worker.stats, third.worker.stats)
    assert Observation.objects.count() == total
    assert Observation.objects.values("time").distinct().count() == total
    # the crash after the commit made the broker redeliver committed messages: they were duplicates, not rows
    assert third.worker.stats.duplicates + second.worker.stats.duplicates > 0
    assert sum(r.worker.stats.refused for r in (first, second, third)) == 0


def test_refused_messages_are_answered_on_the_errors_topic_and_store_nothing(sensor, key, mqtt_ids):
    prefix, client_id = mqtt_ids
    topic = readings_topic(prefix, sensor.city.slug, sensor.pk)
    errors: list[dict] = []
    listener = paho.Client(callback_api_version=paho.CallbackAPIVersion.VERSION2)
    listener.on_message = lambda _c, _u, msg: errors.append(json.loads(msg.payload))
    listener.connect(*BROKER)
    listener.subscribe(f"{prefix}/+/sensors/+/errors")
    listener.loop_start()
    runner = Runner(prefix, client_id).start()
    now = datetime.now(UTC).isoformat()
    ok = {"quantity": "pm25", "time": now, "value": 3.0}
    bad = [
        (topic, b"{not json", "payload"),
        (topic, json.dumps({"key": "sn_wrong", "readings": [ok]}), "X-API-Key"),
        (topic, json.dumps({"readings": [ok]}), "X-API-Key"),
        (topic, json.dumps({"key": key, "readings": [{**ok, "value": "3.0"}]}), "readings[0].value"),
        (topic, json.dumps({"key": key, "readings": [{**ok, "sensor": 1}]}), "readings.sensor"),
        (topic.replace(f"/{sensor.pk}/", "/987654/"), json.dumps({"key": key, "readings": [ok]}), "topic"),
        (topic.replace(sensor.city.slug, "ghent"), json.dumps({"key": key, "readings": [ok]}), "topic"),
    ]
    pub = publisher(f"{client_id}-pub")
    for t, payload, _ in bad:
        pub.publish(t, payload, qos=1).wait_for_publish(5)
    assert wait_for(lambda: runner.worker.stats.refused == len(bad), 15), runner.worker.stats
    assert wait_for(lambda: len(errors) == len(bad), 5)
    runner.stop()
    pub.disconnect()
    listener.disconnect()
    pub.loop_stop()
    listener.loop_stop()
    assert sorted(e["error"]["field"] for e in errors) == sorted(f for _, _, f in bad)
    assert Observation.objects.count() == 0


def _worker_env() -> dict[str, str]:
    """Environment for a worker subprocess that opens the test database (a file on SQLite, see settings)."""
    import os

    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{s['NAME']}"
    else:
        auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
        url = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return dict(os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE="smartip.settings", LOG_LEVEL="ERROR")


@pytest.mark.slow
def test_worker_process_killed_with_sigkill_loses_nothing(sensor, key, mqtt_ids):
    """The real `smartip sensing mqtt-worker` process, killed -9 mid-stream and started again."""
    import signal
    import subprocess
    import sys

    env = _worker_env()
    prefix, client_id = mqtt_ids
    # create the persistent session first, so the broker queues everything published before the worker starts
    session = paho.Client(
        callback_api_version=paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False
    )
    session.connect(*BROKER)
    session.loop_start()
    session.subscribe(f"{prefix}/+/sensors/+/readings", qos=1)
    time.sleep(0.3)
    session.disconnect()
    session.loop_stop()

    topic = readings_topic(prefix, sensor.city.slug, sensor.pk)
    start = datetime.now(UTC) - timedelta(days=3)
    pub = publisher(f"{client_id}-pub")
    total = 0
    for m in range(900):  # under Mosquitto's default queue of 1,000 messages per persistent session
        readings = [
            {"quantity": q, "time": (start + timedelta(seconds=145 * m)).isoformat(), "value": 3.0 + m % 7}
            for q in ("pm25", "pm10", "temperature", "humidity", "pm1")
        ]
        total += len(readings)
        pub.publish(topic, json.dumps({"key": key, "readings": readings}), qos=1).wait_for_publish(5)
    pub.disconnect()
    pub.loop_stop()

    command = [sys.executable, "-m", "smartip.cli", "sensing", "mqtt-worker", "--prefix", prefix]
    command += ["--client-id", client_id, "--batch", "20"]
    first = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not Observation.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.002)
        assert Observation.objects.exists(), "the worker stored nothing"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert Observation.objects.count() < total, "killed too late to test anything"
    second = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: Observation.objects.count() >= total, 40)
        time.sleep(0.5)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)
    assert Observation.objects.count() == total


def test_worker_refreshes_hourly_means(sensor, key, mqtt_ids):
    from smartip.sensing.models import HourlyAggregate

    prefix, client_id = mqtt_ids
    runner = Runner(prefix, client_id)
    runner.worker.aggregate_every_s = 0.0
    runner.start()
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    readings = [
        {
            "quantity": "pm25",
            "time": (hour + timedelta(seconds=145 * k)).isoformat(),
            "value": 5 + k % 5 * 0.3,
        }
        for k in range(25)
    ]
    pub = publisher(f"{client_id}-pub")
    topic = readings_topic(prefix, sensor.city.slug, sensor.pk)
    pub.publish(topic, json.dumps({"key": key, "readings": readings}), qos=1).wait_for_publish(5)
    assert wait_for(lambda: runner.worker.stats.hours_aggregated >= 1, 15), runner.worker.stats
    runner.stop()
    pub.disconnect()
    pub.loop_stop()
    row = HourlyAggregate.objects.get(sensor=sensor, quantity="pm25")
    assert row.hour == hour and row.n == 25
    assert row.mean == pytest.approx(sum(r["value"] for r in readings) / 25)
