"""A Beijing street network for matching the GeoLife fixes: the SparseTaxi road graph as an ``.osm.pbf``.

SparseTaxi (Li et al., SIGSPATIAL 2013; ``/work/shared/data/mobility/SparseTaxi/map``) ships Beijing's 2013
OpenStreetMap streets as 27,542 ways (``osm_data/beijing.highway.txt``: node count, highway, one-way flag,
name, speed limit; ``beijing.waynodes.txt``: OSM node ids) and 32,552 graph vertices (``vertexMap.txt``: OSM
node id and x, y "in a projected space based on longitude and latitude", undocumented). Only the vertices
have coordinates (64k of the ways' 206k node references), so ways are drawn straight between vertices.

The projection is recovered from the data: x, y are kilometres, x = 85.23 km/° of longitude (111.32 · cos
40°) and y = 111.63 km/° of latitude, an affine map fitted (``fit_registration``) by iterating closest
points between GeoLife fixes moving at 3-40 m/s and the graph's edges. Fitted separately on a 3 × 3 split
of the area the residual shifts stay below 1.1 m, so one affine map fits everywhere; 45 % of the moving fixes
lie within 20 m of a graph edge (straightened ways, 2008 fixes on 2013 streets, trains and subways).

    python benchmarks/beijing_network.py   # writes the extract to the temp dir and prints the coverage
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
SPARSE_TAXI_MAP = REPO_ROOT.parent / "shared" / "data" / "mobility" / "SparseTaxi" / "map"
#: Affine map from (lon - 116.35, lat - 39.95, 1) to the graph's x, y in km, fitted by ``fit_registration``.
CENTRE_LONLAT = (116.35, 39.95)
REGISTRATION = np.array([[85.2312, 0.0683, 29.8477], [-0.0372, 111.6272, 113.7445]])
#: ``highway`` values of the SparseTaxi table that are not streets (``other`` holds rivers, stadiums, …).
NOT_STREETS = frozenset({"other", "platform", "construction", "FIXME", "roat", "services", "rest_area"})


def lonlat_to_graph_km(
    lon: np.ndarray, lat: np.ndarray, registration: np.ndarray = REGISTRATION
) -> np.ndarray:
    """WGS84 degrees to the SparseTaxi graph's x, y (km), as ``(n, 2)``."""
    design = np.column_stack([lon - CENTRE_LONLAT[0], lat - CENTRE_LONLAT[1], np.ones(len(lon))])
    return design @ registration.T


def graph_km_to_lonlat(xy: np.ndarray, registration: np.ndarray = REGISTRATION) -> np.ndarray:
    """The inverse of ``lonlat_to_graph_km``: ``(n, 2)`` lon, lat."""
    linear, offset = registration[:, :2], registration[:, 2]
    return np.linalg.solve(linear, (xy - offset).T).T + np.asarray(CENTRE_LONLAT)


def read_vertices(folder: Path = SPARSE_TAXI_MAP) -> tuple[np.ndarray, np.ndarray]:
    """(OSM node ids, their x, y in km) of the graph vertices."""
    table = np.loadtxt(folder / "vertexMap.txt")
    return table[:, 1].astype(np.int64), table[:, 2:4]


def edge_points_km(folder: Path = SPARSE_TAXI_MAP, step_km: float = 0.01) -> np.ndarray:
    """Points every ``step_km`` along the graph's edges (``adjacentList.txt``), for nearest-edge queries."""
    _, xy = read_vertices(folder)
    edges = np.loadtxt(folder / "adjacentList.txt", skiprows=1)[:, :2].astype(np.int64)
    a, b = xy[edges[:, 0]], xy[edges[:, 1]]
    steps = np.maximum((np.hypot(*(b - a).T) / step_km).astype(np.int64), 1)
    which = np.repeat(np.arange(len(edges)), steps + 1)
    share = np.concatenate([np.linspace(0.0, 1.0, n + 1) for n in steps.tolist()])
    return a[which] + share[:, None] * (b[which] - a[which])


def fit_registration(lon: np.ndarray, lat: np.ndarray, start: np.ndarray = REGISTRATION) -> np.ndarray:
    """Refine the affine map by iterated closest points (fixes should be moving ones, on streets)."""
    from scipy.spatial import cKDTree

    points = edge_points_km()
    tree = cKDTree(points)
    design = np.column_stack([lon - CENTRE_LONLAT[0], lat - CENTRE_LONLAT[1], np.ones(len(lon))])
    registration = start.copy()
    for within_km in (0.04, 0.03, 0.025, 0.02, 0.02, 0.015, 0.015, 0.015):
        distance, nearest = tree.query(design @ registration.T, distance_upper_bound=within_km)
        near = np.isfinite(distance)
        registration = np.linalg.lstsq(design[near], points[nearest[near]], rcond=None)[0].T
    return registration


def coverage(lon: np.ndarray, lat: np.ndarray) -> dict[str, float]:
    """How the fixes overlap the graph: share inside its bounding box, and within 20 / 50 m of an edge."""
    from scipy.spatial import cKDTree

    points = edge_points_km()
    xy = lonlat_to_graph_km(lon, lat)
    low, high = points.min(axis=0), points.max(axis=0)
    inside = np.all((xy >= low) & (xy <= high), axis=1)
    distance, _ = cKDTree(points).query(xy, distance_upper_bound=0.05)
    corners = graph_km_to_lonlat(np.array([low, high]))
    return {
        "graph_lon_min": round(float(corners[0, 0]), 4),
        "graph_lat_min": round(float(corners[0, 1]), 4),
        "graph_lon_max": round(float(corners[1, 0]), 4),
        "graph_lat_max": round(float(corners[1, 1]), 4),
        "fixes": len(lon),
        "share_in_bbox": round(float(inside.mean()), 3),
        "share_within_20m": round(float(np.mean(distance < 0.02)), 3),
        "share_within_50m": round(float(np.mean(distance < 0.05)), 3),
    }


def _ways(folder: Path, known: set[int]) -> list[tuple[list[int], dict[str, str]]]:
    osm = folder / "osm_data"
    with (
        open(osm / "beijing.highway.txt", encoding="utf-8") as meta,
        open(osm / "beijing.waynodes.txt") as refs,
    ):
        rows = [
            (line.rstrip("\n").split("\t"), [int(n) for n in ids.split()])
            for line, ids in zip(meta, refs, strict=True)
        ]
    ways = []
    for fields, nodes in rows:
        highway, oneway, name, speed = fields[1], fields[2], fields[3], fields[4]
        kept = [n for n in nodes if n in known]
        kept = [n for i, n in enumerate(kept) if i == 0 or n != kept[i - 1]]
        if highway in NOT_STREETS or len(kept) < 2:
            continue
        tags = {"highway": highway}
        if name:
            tags["name"] = name
        if oneway in ("1", "-1"):
            tags["oneway"] = "yes" if oneway == "1" else "-1"
        if speed.isdigit():
            tags["maxspeed"] = speed
        ways.append((kept, tags))
    return ways


def write_osm_pbf(out: Path, folder: Path = SPARSE_TAXI_MAP) -> dict[str, Any]:
    """Write the SparseTaxi streets as an ``.osm.pbf`` Valhalla can build (way ids are row numbers, since
    the table keeps no OSM way ids); return node and way counts."""
    import osmium
    from osmium.osm.mutable import Node, Way

    ids, xy = read_vertices(folder)
    lonlat = graph_km_to_lonlat(xy)
    order = np.argsort(ids)
    ways = _ways(folder, set(ids.tolist()))
    out.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(out))
    stamp = "2013-01-01T00:00:00Z"
    try:
        for node_id, (lon, lat) in zip(ids[order].tolist(), lonlat[order].tolist(), strict=True):
            writer.add_node(Node(id=node_id, location=(lon, lat), version=1, timestamp=stamp))
        for way_id, (nodes, tags) in enumerate(ways, start=1):
            writer.add_way(Way(id=way_id, nodes=nodes, tags=tags, version=1, timestamp=stamp))
    finally:
        writer.close()
    return {"nodes": len(ids), "ways": len(ways)}


def main() -> int:
    import tempfile

    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    from mobility import load_users

    users, _ = load_users()
    lon = np.concatenate([u.lon for u in users])
    lat = np.concatenate([u.lat for u in users])
    out = Path(tempfile.gettempdir()) / "smartip-beijing-sparsetaxi.osm.pbf"
    print(write_osm_pbf(out), out)
    print("GeoLife 10 MB sample on the SparseTaxi graph:", coverage(lon, lat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
