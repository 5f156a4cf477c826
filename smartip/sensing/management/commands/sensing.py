from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from smartip.core.cli import print_json, run_action, table


class Command(BaseCommand):
    help = "Citizen sensing: aqi (hourly indices from a CSV of concentrations)"

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
