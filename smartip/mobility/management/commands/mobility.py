from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from smartip.core.cli import print_json, run_action, table
from smartip.mobility.matching.matcher import MODE_COSTING, UNMATCHED_MODES


def _street_mode(value: str) -> str:
    """argparse type of --mode: a mode matched to streets; train and unknown modes are refused with why."""
    import argparse

    if value in UNMATCHED_MODES:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not supported: rail matching needs rail lines and the street network has none "
            f"(choose from {', '.join(MODE_COSTING)})"
        )
    if value not in MODE_COSTING:
        raise argparse.ArgumentTypeError(f"unknown mode {value!r} (choose from {', '.join(MODE_COSTING)})")
    return value


class Command(BaseCommand):
    help = (
        "Citizen mobility: process FILE (stay points, trips, modes); match FILE --network FILE.osm.pbf; "
        "load-network CITY FILE.osm.pbf; import DIR --city CITY"
    )

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
            "--mode",
            default="car",
            type=_street_mode,
            metavar="{" + ",".join(MODE_COSTING) + "}",
            help="travel mode whose routing costs the matcher uses (default car); train is not supported: rail "
            "matching needs rail lines, and the network holds streets only",
        )
        match.add_argument("--json", action="store_true", help="(the output is GeoJSON either way)")
        net = sub.add_parser(
            "load-network", help="build map-matching tiles and the street segment table of a city"
        )
        net.add_argument("city")
        net.add_argument("file", help="an OpenStreetMap extract (.osm.pbf)")
        net.add_argument("--json", action="store_true")
        imp = sub.add_parser(
            "import", help="import GeoLife-style folders (PLT) or GPX files: one user per sub-folder of DIR"
        )
        imp.add_argument("dir")
        imp.add_argument("--city", required=True)
        imp.add_argument(
            "--purpose",
            default="research data set imported by the city (consent collected by the data set's publisher)",
        )
        imp.add_argument(
            "--no-process", action="store_true", help="store the traces without running the pipeline"
        )
        imp.add_argument("--json", action="store_true")

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
        if summary["staypoints"]:
            self.stdout.write(table(_staypoint_rows(result.staypoints), STAYPOINT_HEADER) + "\n\n")
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

    def do_load_network(self, city: str, file: str, json: bool, **_: Any) -> None:
        from django.db import transaction

        from smartip.cities.services import get_city
        from smartip.mobility.services import load_network

        with transaction.atomic():
            network = load_network(city=get_city(city), pbf=Path(file))
        summary = {
            "city": city,
            "network": network.pk,
            "segments": network.n_segments,
            "tiles": network.tiles_config,
        }
        if json:
            print_json(summary)
        else:
            self.stdout.write(
                f"{network.n_segments} street segments loaded for {city} ({network.source_name})\n"
            )

    def do_import(self, dir: str, city: str, purpose: str, no_process: bool, json: bool, **_: Any) -> None:
        import sys

        from tqdm import tqdm

        from smartip.cities.services import get_city
        from smartip.mobility.services import import_folder

        folder = Path(dir)
        if not folder.is_dir():
            raise FileNotFoundError(2, "not a folder", dir)
        c = get_city(city)
        with tqdm(desc="traces", unit="file", file=sys.stderr, disable=False) as bar:
            report = import_folder(
                folder=folder,
                city=c,
                purpose=purpose,
                process=not no_process,
                progress=bar.update,
                total=bar.reset,
            )
        if json:
            print_json(report)
            return
        self.stdout.write(
            f"{report['traces']} traces ({report['fixes']} fixes, {report['trips']} trips) for "
            f"{report['users']} users; {len(report['skipped'])} files skipped\n"
        )
        if report["queued"]:
            self.stdout.write(f"{report['queued']} traces wait for a worker (smartip worker)\n")
        for item in report["skipped"]:
            self.stderr.write(f"skipped {item['file']}: {item['reason']}\n")


STAYPOINT_HEADER = ["stay point", "started", "finished", "duration", "lat", "lon", "activity"]


def _duration(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _staypoint_rows(sp: Any) -> list[list[str]]:
    return [
        [
            str(i),
            _iso(sp.started_at_s[i]),
            _iso(sp.finished_at_s[i]),
            _duration(float(sp.finished_at_s[i] - sp.started_at_s[i])),
            f"{sp.lat[i]:.5f}",
            f"{sp.lon[i]:.5f}",
            "yes" if sp.is_activity[i] else "no",
        ]
        for i in range(len(sp))
    ]


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
