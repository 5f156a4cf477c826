import signal
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from smartip.core.cli import print_json, run_action, table


class Command(BaseCommand):
    help = (
        "Citizen sensing: aqi (hourly indices from a CSV of concentrations), import (Sensor.Community archive "
        "and station CSVs), aggregate (hourly means and QC of new readings), alerts (air-quality alerts), "
        "mqtt-worker (MQTT ingest)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        aqi = sub.add_parser(
            "aqi", help="each hour's index and band for a CSV (timestamp, pm25, pm10, no2, o3, so2)"
        )
        aqi.add_argument("file")
        aqi.add_argument("--scheme", required=True, choices=["eaqi", "daqi", "usaqi"])
        aqi.add_argument(
            "--version", dest="table_version", default=None, help="table version (default: the current one)"
        )
        aqi.add_argument("--json", action="store_true")

        imp = sub.add_parser(
            "import",
            help="Sensor.Community archive CSVs (sensor_id;sensor_type;…) or hourly station CSVs, idempotent",
        )
        imp.add_argument("files", nargs="+", metavar="FILE")
        imp.add_argument("--city", required=True, help="city slug")
        imp.add_argument("--station", help="station name: the files are hourly reference-station CSVs")
        imp.add_argument("--lat", type=float, help="station latitude (new stations; default the city centre)")
        imp.add_argument("--lon", type=float, help="station longitude")
        imp.add_argument("--no-aggregate", action="store_true", help="skip the hourly aggregation afterwards")
        imp.add_argument("--json", action="store_true")

        agg = sub.add_parser("aggregate", help="hourly means and series QC for sensors with new readings")
        agg.add_argument("--city", help="only this city")
        agg.add_argument("--json", action="store_true")

        alerts = sub.add_parser(
            "alerts", help="check air-quality alert subscriptions, one message per episode"
        )
        alerts.add_argument("--city", required=True, help="city slug")
        alerts.add_argument("--json", action="store_true")

        worker = sub.add_parser(
            "mqtt-worker", help="subscribe to {prefix}/+/sensors/+/readings (QoS 1) and store readings"
        )
        worker.add_argument("--url", default=None, help="broker (default MQTT_URL)")
        worker.add_argument("--prefix", default=None, help="topic root (default SENSING_MQTT_PREFIX)")
        worker.add_argument(
            "--client-id", default=None, help="persistent session id (default SENSING_MQTT_CLIENT_ID)"
        )
        worker.add_argument("--batch", type=int, default=500, help="messages per transaction")
        worker.add_argument(
            "--aggregate-every",
            type=float,
            default=60.0,
            help="seconds between hourly-mean refreshes (0: off)",
        )

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        run_action(self, action, opts)

    def do_aqi(self, file: str, scheme: str, table_version: str | None, json: bool, **_: Any) -> None:
        from smartip.sensing.csvio import aqi_rows

        rows = aqi_rows(file, scheme, table_version)
        if json:
            print_json([r.as_dict() for r in rows])
            return
        body = [
            [r.timestamp, "—" if r.index is None else f"{r.index:g}", r.band_name or "—", r.dominant or "—"]
            for r in rows
        ]
        self.stdout.write(table(body, ["timestamp", "index", "band", "dominant"]))

    def do_import(
        self,
        files: list[str],
        city: str,
        station: str | None,
        lat: float | None,
        lon: float | None,
        no_aggregate: bool,
        json: bool,
        **_: Any,
    ) -> None:
        from django.db import transaction
        from tqdm import tqdm

        from smartip.cities.services import get_city
        from smartip.sensing import aggregates, services

        c = get_city(city)
        rows = []
        for file in files:
            if not Path(file).exists():
                raise FileNotFoundError(2, "no such file", file)
            bars: list[tqdm] = []

            def progress(n: int, total: int, file: str = file, bars: list = bars) -> None:
                if not bars:
                    bars.append(
                        tqdm(total=total, unit="reading", desc=Path(file).name, file=sys.stderr, disable=None)
                    )
                bars[0].update(n)

            try:
                with transaction.atomic():
                    if station:
                        done = services.import_station(
                            path=file, city=c, station=station, lat=lat, lon=lon, progress=progress
                        )
                    else:
                        done = services.import_sensor_community(path=file, city=c, progress=progress)
                    hours = 0 if no_aggregate else aggregates.refresh_sensor(done.sensor)
            finally:
                for bar in bars:
                    bar.close()
            r = done.result
            rows.append(
                {
                    "file": file,
                    "sensor": done.sensor.pk,
                    "firmware_id": done.sensor.firmware_id,
                    "created": done.created,
                    "received": r.received,
                    "stored": r.stored,
                    "duplicates": r.duplicates,
                    "hours": hours,
                }
            )
        if json:
            print_json(rows)
            return
        body = [
            [Path(r["file"]).name, str(r["sensor"]), str(r["stored"]), str(r["duplicates"]), str(r["hours"])]
            for r in rows
        ]
        self.stdout.write(table(body, ["file", "sensor", "stored", "duplicates", "hours"]))

    def do_aggregate(self, city: str | None, json: bool, **_: Any) -> None:
        from smartip.cities.services import get_city
        from smartip.sensing.alerts import refresh_and_alert

        hours, sent = refresh_and_alert(city=get_city(city) if city else None)
        if json:
            print_json({"hours": hours, "alerts_sent": sent})
        else:
            self.stdout.write(f"{hours} hourly aggregates written, {sent} alerts sent")

    def do_alerts(self, city: str, json: bool, **_: Any) -> None:
        from django.utils import timezone

        from smartip.cities.services import get_city
        from smartip.sensing.alerts import check_alerts

        run = check_alerts(city=get_city(city), now=timezone.now())
        if json:
            print_json(run.as_dict())
        else:
            self.stdout.write(
                f"{run.checked} alerts checked, {run.started} episodes started, {run.ended} ended, "
                f"{run.notified} notified"
            )

    def do_mqtt_worker(
        self,
        url: str | None,
        prefix: str | None,
        client_id: str | None,
        batch: int,
        aggregate_every: float,
        **_: Any,
    ) -> None:
        from smartip.sensing.mqtt import Worker, subscription

        worker = Worker(
            url=url,
            prefix=prefix,
            client_id=client_id,
            batch=batch,
            aggregate_every_s=aggregate_every or None,
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_a: worker.stop())
        self.stderr.write(
            f"mqtt-worker {worker.client_id} on {worker.host}:{worker.port}, topic {subscription(worker.prefix)}"
        )
        stats = worker.run()
        self.stderr.write(
            f"stopped: {stats.messages} messages, {stats.stored} stored, {stats.duplicates} duplicates, "
            f"{stats.refused} refused, {stats.hours_aggregated} hourly means refreshed"
        )
