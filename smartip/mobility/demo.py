"""Demo mobility data: a synthetic street grid per city (matched by the real in-process Valhalla), and two days
of commutes for twelve residents, so the planner view has published cells (at least 5 people each).

Each resident lives at the grid's south-west corner and works at the north-east one, and drives (nine) or
cycles (three) along Valhalla's own route between them, leaving between 07:05 and 07:25 local time; fixes every 5 s with 5 m noise, 25-minute stays at
home and at work so the pipeline sees trips. Idempotent: a city that already has traces gets nothing more.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction

from smartip.cities.models import City
from smartip.mobility.fixes import Fixes, from_columns
from smartip.mobility.models import StreetNetwork, Trace

GRID_ROWS = 12
GRID_COLS = 12
GRID_SPACING_M = 200.0
N_RESIDENTS = 12
N_DAYS = 2
DWELL_S = 1500.0
STEP_S = 5.0
PURPOSE = "demo data: commutes for the planner view"


def load_demo(*, city: City, users: dict[str, Any], rng: random.Random) -> None:
    if Trace.objects.filter(city=city).exists():
        return
    residents = [users[k] for k in sorted(users, key=_resident_order) if k.startswith("resident")][
        :N_RESIDENTS
    ]
    with transaction.atomic():
        network = demo_network(city)
        config = json.loads(Path(network.tiles_config).read_text())
        _commutes(city, residents, config, rng)


def _resident_order(key: str) -> tuple[int, str]:
    digits = "".join(ch for ch in key if ch.isdigit())
    return (int(digits) if digits else 0, key)


def grid_origin(city: City) -> tuple[float, float]:
    """South-west corner of a grid centred on the city's centre."""
    from smartip.mobility.matching.synthetic import METRES_PER_DEGREE

    lat, lon = city.center
    half_ns = (GRID_ROWS - 1) * GRID_SPACING_M / 2 / METRES_PER_DEGREE
    half_ew = (GRID_COLS - 1) * GRID_SPACING_M / 2 / (METRES_PER_DEGREE * np.cos(np.radians(lat)))
    return lat - half_ns, lon - half_ew


def demo_network(city: City) -> StreetNetwork:
    """The city's street network, or a synthetic grid written and loaded for it."""
    from smartip.mobility.matching.synthetic import write_street_grid
    from smartip.mobility.services import load_network

    network = StreetNetwork.objects.filter(city=city).order_by("-loaded_at").first()
    if network is not None:
        return network
    folder = Path(settings.HOME) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    origin_lat, origin_lon = grid_origin(city)
    pbf = write_street_grid(
        folder / f"{city.slug}-grid.osm.pbf",
        origin_lat=origin_lat,
        origin_lon=origin_lon,
        rows=GRID_ROWS,
        cols=GRID_COLS,
        spacing_m=GRID_SPACING_M,
    )
    return load_network(city=city, pbf=pbf)


def _crossing(city: City, row: int, col: int) -> tuple[float, float]:
    from smartip.mobility.matching.synthetic import grid_node_lonlat

    lat0, lon0 = grid_origin(city)
    return grid_node_lonlat(row, col, origin_lat=lat0, origin_lon=lon0, spacing_m=GRID_SPACING_M)


def _commutes(city: City, residents: list[Any], config: dict[str, Any], rng: random.Random) -> None:
    from smartip.mobility.matching.evaluation import route_between
    from smartip.mobility.services import upload_trace

    noise = np.random.default_rng(rng.randrange(2**32))
    today = datetime.now(city.tz).replace(hour=7, minute=5, second=0, microsecond=0)
    for i, person in enumerate(residents):
        costing = "bicycle" if i % 4 == 3 else "auto"  # a quarter cycle: too few for their own cells
        home = _crossing(city, 0, rng.randrange(0, 2))
        work = _crossing(city, GRID_ROWS - 1, GRID_COLS - 1 - rng.randrange(0, 2))
        there = route_between(config, home, work, costing)
        back = route_between(config, work, home, costing)
        for day in range(1, N_DAYS + 1):
            start = today - timedelta(days=day, minutes=-rng.randrange(0, 20))
            fixes = _day(start.timestamp(), there, back, noise)
            upload_trace(
                owner=person,
                city=city,
                fixes=fixes,
                source_format="batch",
                consent=True,
                purpose=PURPOSE,
                name=f"demo commute {day}",
            )


def _leg(route: Any, start_s: float, noise: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from smartip.mobility.matching.evaluation import simulate_trace

    lat, lon, t = simulate_trace(route, STEP_S, 5.0, noise)
    return lat, lon, start_s + t


def _dwell(lat: float, lon: float, start_s: float, noise: np.random.Generator) -> tuple[np.ndarray, ...]:
    n = int(DWELL_S / STEP_S)
    jitter = noise.normal(0.0, 3.0 / 111_000.0, (2, n))
    return lat + jitter[0], lon + jitter[1], start_s + STEP_S * np.arange(1, n + 1)


def _day(start_s: float, there: Any, back: Any, noise: np.random.Generator) -> Fixes:
    """Home stay, commute, work stay, commute back, home stay."""
    parts = []
    home_lon, home_lat = there.coords[0]
    parts.append(_dwell(home_lat, home_lon, start_s - DWELL_S - STEP_S, noise))
    go = _leg(there, start_s, noise)
    parts.append(go)
    work_lon, work_lat = there.coords[-1]
    parts.append(_dwell(work_lat, work_lon, go[2][-1], noise))
    ret = _leg(back, parts[-1][2][-1] + STEP_S, noise)
    parts.append(ret)
    parts.append(_dwell(home_lat, home_lon, ret[2][-1], noise))
    lat, lon, t = (np.concatenate([p[k] for p in parts]) for k in range(3))
    return from_columns(t, lat, lon, np.full(len(t), 6.0))
