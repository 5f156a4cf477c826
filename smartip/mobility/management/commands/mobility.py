from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from smartip.core.cli import print_json, run_action, table


class Command(BaseCommand):
    help = "Citizen mobility: process FILE (stay points, trips, modes); match FILE --network FILE.osm.pbf"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        proc = sub.add_parser(
            "process", help="stay points and trips with modes of a GPX/GeoJSON/CSV/PLT trace"
        )
        proc.add_argument("file")
        proc.add_argument("--json", action="store_true")
        match = sub.add_parser("match", help="match a trace to a street network (.osm.pbf); prints GeoJSON")
        match.add_argument("file")
        match.add_argument("--network", required=True)
        match.add_argument(
            "--mode", default="car", choices=["walk", "bicycle", "bus", "tram", "car", "train"]
        )
        match.add_argument("--json", action="store_true", help="(the output is GeoJSON either way)")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        run_action(self, action, opts)

    def do_process(self, file: str, json: bool, **_: Any) -> None:
        from smartip.mobility.pipeline.run import process
        from smartip.mobility.readers import read_trace

        result = process(read_trace(Path(file)))
        summary = _summary(result)
        if json:
            print_json(summary)
            return
        self.stdout.write(
            f"{summary['fixes']} fixes kept, {len(summary['staypoints'])} stay points, "
            f"{len(summary['trips'])} trips\n"
        )
        rows = [
            [str(t["id"]), t["started_at"], t["finished_at"], ",".join(t["modes"])] for t in summary["trips"]
        ]
        self.stdout.write(table(rows, ["trip", "started", "finished", "modes"]))

    def do_match(self, file: str, network: str, mode: str, **_: Any) -> None:
        from smartip.mobility.matching.geojson import match_on_network
        from smartip.mobility.readers import read_trace

        fixes = read_trace(Path(file))
        cache = Path(settings.HOME) / "valhalla"
        print_json(
            match_on_network(
                fixes.lat, fixes.lon, fixes.t_s, network_pbf=Path(network), cache_dir=cache, mode=mode
            )
        )


def _iso(t_s: float) -> str:
    return str(np.datetime64(int(t_s), "s")) + "Z"


def _summary(result: Any) -> dict[str, Any]:
    sp, tpls, trips = result.staypoints, result.triplegs, result.trips
    modes = list(result.tripleg_modes)
    trip_modes: dict[int, list[str]] = {}
    for i in range(len(tpls)):
        trip_id = int(trips.tripleg_trip[i])
        trip_modes.setdefault(trip_id, []).append(str(modes[i]))
    return {
        "fixes": len(result.fixes),
        "staypoints": [
            {
                "id": i,
                "lat": float(sp.lat[i]),
                "lon": float(sp.lon[i]),
                "started_at": _iso(sp.started_at_s[i]),
                "finished_at": _iso(sp.finished_at_s[i]),
                "is_activity": bool(sp.is_activity[i]),
            }
            for i in range(len(sp))
        ],
        "triplegs": [
            {
                "id": i,
                "mode": str(modes[i]),
                "started_at": _iso(tpls.started_at_s[i]),
                "finished_at": _iso(tpls.finished_at_s[i]),
            }
            for i in range(len(tpls))
        ],
        "trips": [
            {
                "id": i,
                "started_at": _iso(trips.started_at_s[i]),
                "finished_at": _iso(trips.finished_at_s[i]),
                "modes": trip_modes.get(i, []),
            }
            for i in range(len(trips))
        ],
    }
