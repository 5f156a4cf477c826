"""Street networks from OpenStreetMap extracts: Valhalla routing tiles and a plain street-segment table.

Tiles are built offline by the tile builder shipped in the ``pyvalhalla`` wheel and cached per network file
content hash under a folder the caller chooses (``<cache_root>/<sha256[:16]>/``), so the same extract is
built once however often it is uploaded or renamed. Nothing here fetches anything from the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from smartip.core.errors import Invalid

EARTH_RADIUS_M = 6_371_008.8
#: ``highway=*`` values that are not (yet) travelled streets; Valhalla's graph leaves them out too.
NON_STREET_HIGHWAYS = frozenset(
    {"proposed", "construction", "abandoned", "disused", "razed", "platform", "bus_stop", "elevator", "no"}
)
#: Service limits raised above Valhalla's defaults so a whole day of 1 Hz fixes fits in one request.
MAX_SHAPE_POINTS = 200_000
MAX_TRACE_DISTANCE_M = 5_000_000.0
_CONFIG_NAME = "valhalla.json"
_READY_MARK = "READY"


@dataclass(frozen=True, slots=True)
class StreetSegment:
    """One OSM way tagged ``highway=*``: ``coords`` are ``[[lon, lat], ...]`` in WGS84 degrees."""

    way_id: int
    name: str
    highway: str
    coords: list[list[float]]
    length_m: float


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (the tile cache key)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def valhalla_config(tiles_dir: Path) -> dict[str, Any]:
    """A Valhalla config dict for tiles in ``tiles_dir``, logging off (it would write to stdout)."""
    import valhalla

    config: dict[str, Any] = valhalla.get_config(tile_extract="", tile_dir=Path(tiles_dir), verbose=False)
    trace_limits = config["service_limits"]["trace"]
    trace_limits["max_shape"] = MAX_SHAPE_POINTS
    trace_limits["max_distance"] = MAX_TRACE_DISTANCE_M
    config["mjolnir"]["concurrency"] = 1
    # Let requests set the break distance too (Valhalla silently ignores non-customizable trace options).
    customizable = config["meili"]["customizable"]
    if "breakage_distance" not in customizable:
        customizable.append("breakage_distance")
    return config


def _check_extract(pbf_path: Path) -> Path:
    pbf_path = Path(pbf_path)
    if not pbf_path.is_file():
        raise Invalid(f"network file {pbf_path} does not exist", field="network")
    if not pbf_path.name.endswith((".osm.pbf", ".osm")):
        raise Invalid(
            f"network file {pbf_path.name} is not an OpenStreetMap extract (.osm.pbf, or .osm XML)",
            field="network",
        )
    return pbf_path


def build_tiles(pbf_path: Path, cache_root: Path) -> Path:
    """Build (or reuse) Valhalla tiles for an ``.osm.pbf`` (or ``.osm`` XML) extract; return its config path.

    The tiles go to ``cache_root/<sha256[:16]>/tiles``; a build happens in a temporary sibling folder that is
    renamed into place only when complete, so a crash or a concurrent build never leaves half a cache.
    Raises ``Invalid`` for a missing or unreadable extract, or one without any street Valhalla can route.
    """
    pbf_path = _check_extract(pbf_path)
    target = Path(cache_root) / file_sha256(pbf_path)[:16]
    if (target / _READY_MARK).is_file():
        return target / _CONFIG_NAME
    Path(cache_root).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_root))
    try:
        _build_into(pbf_path, work, final=target)
        try:
            os.rename(work, target)
        except OSError:
            if not (target / _READY_MARK).is_file():  # neither ours nor a finished concurrent build
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target / _CONFIG_NAME


def _build_into(pbf_path: Path, work: Path, *, final: Path) -> None:
    """Build tiles in ``work``; leave there the config naming ``final``'s tiles and, last, the ready mark."""
    from valhalla._scripts import PYVALHALLA_BIN_DIR

    tiles = work / "tiles"
    tiles.mkdir()
    config = valhalla_config(tiles)
    config_path = work / "build.json"
    config_path.write_text(json.dumps(config))
    builder = Path(PYVALHALLA_BIN_DIR) / "valhalla_build_tiles"
    done = subprocess.run(
        [str(builder), "-c", str(config_path), str(pbf_path.resolve())],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 and _readable_without_streets(pbf_path):
        raise Invalid(f"{pbf_path.name} holds no street (no way tagged highway=*)", field="network")
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise Invalid(
            f"could not build a street network from {pbf_path.name}: {' '.join(tail)}", field="network"
        )
    if not any(tiles.rglob("*.gph")):
        raise Invalid(f"{pbf_path.name} holds no street Valhalla can route on", field="network")
    config["mjolnir"]["tile_dir"] = str((final / "tiles").resolve())
    (work / _CONFIG_NAME).write_text(json.dumps(config))
    (work / _READY_MARK).write_text(pbf_path.name)


def _readable_without_streets(pbf_path: Path) -> bool:
    """True when osmium reads the extract and it has no ``highway=*`` way (False if unreadable)."""
    import osmium

    try:
        processor = osmium.FileProcessor(str(pbf_path), osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter("highway")
        )
        return not any(True for _ in processor)
    except Exception:  # noqa: BLE001 - any reader failure means "unreadable", reported by the caller
        return False


def polyline_length_m(lon: np.ndarray, lat: np.ndarray) -> float:
    """Great-circle (haversine) length of a polyline in metres."""
    if len(lon) < 2:
        return 0.0
    lam, phi = np.radians(lon), np.radians(lat)
    a = np.sin(np.diff(phi) / 2) ** 2 + np.cos(phi[:-1]) * np.cos(phi[1:]) * np.sin(np.diff(lam) / 2) ** 2
    return float(np.sum(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))))


def street_segments(pbf_path: Path) -> list[StreetSegment]:
    """Every street way of an extract (``highway=*`` lines, not areas or planned roads), in file order.

    Ways with a node missing from the extract (clipped at its border) keep the nodes that are present;
    ways left with fewer than two nodes are dropped.
    """
    import osmium

    pbf_path = _check_extract(pbf_path)
    processor = (
        osmium.FileProcessor(str(pbf_path)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
    )
    segments: list[StreetSegment] = []
    for obj in processor:
        if not isinstance(obj, osmium.osm.Way):
            continue
        highway = obj.tags.get("highway") or ""
        if highway in NON_STREET_HIGHWAYS or obj.tags.get("area") == "yes":
            continue
        coords = [[n.lon, n.lat] for n in obj.nodes if n.location.valid()]
        if len(coords) < 2:
            continue
        xy = np.asarray(coords)
        segments.append(
            StreetSegment(
                way_id=int(obj.id),
                name=obj.tags.get("name") or "",
                highway=highway,
                coords=coords,
                length_m=polyline_length_m(xy[:, 0], xy[:, 1]),
            )
        )
    return segments
