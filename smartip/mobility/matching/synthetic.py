"""A small synthetic street grid written as an OpenStreetMap ``.osm.pbf`` (demo data and fast tests).

Rows run east-west ("Row Street N"), columns north-south ("Column Avenue N"); every crossing is a shared node,
so Valhalla routes across the grid. Node ids start at 1, row way ids at 1001, column way ids at 2001.
"""

from __future__ import annotations

import math
from pathlib import Path

from smartip.core.errors import Invalid

METRES_PER_DEGREE = math.pi / 180.0 * 6_371_008.8
ROW_WAY_BASE = 1000
COLUMN_WAY_BASE = 2000


def grid_node_lonlat(
    row: int, col: int, *, origin_lat: float, origin_lon: float, spacing_m: float
) -> tuple[float, float]:
    """(lon, lat) of the grid crossing at ``row``, ``col`` (row 0 and column 0 at the south-west corner)."""
    lat = origin_lat + row * spacing_m / METRES_PER_DEGREE
    lon = origin_lon + col * spacing_m / (METRES_PER_DEGREE * math.cos(math.radians(origin_lat)))
    return lon, lat


def write_street_grid(
    path: Path,
    *,
    origin_lat: float = 41.15,
    origin_lon: float = -8.61,
    rows: int = 6,
    cols: int = 6,
    spacing_m: float = 150.0,
    highway: str = "residential",
) -> Path:
    """Write a ``rows`` × ``cols`` grid of two-way streets to ``path`` (must end in ``.osm.pbf``)."""
    import osmium
    from osmium.osm.mutable import Node, Way

    path = Path(path)
    if not path.name.endswith(".osm.pbf"):
        raise Invalid(f"{path.name}: a street grid is written as .osm.pbf", field="path")
    if rows < 2 or cols < 2 or spacing_m <= 0:
        raise Invalid("a street grid needs at least 2 rows, 2 columns and a positive spacing", field="rows")
    path.unlink(missing_ok=True)
    stamp = "2024-01-01T00:00:00Z"

    def node_id(row: int, col: int) -> int:
        return row * cols + col + 1

    writer = osmium.SimpleWriter(str(path))
    try:
        for row in range(rows):
            for col in range(cols):
                lon, lat = grid_node_lonlat(
                    row, col, origin_lat=origin_lat, origin_lon=origin_lon, spacing_m=spacing_m
                )
                writer.add_node(Node(id=node_id(row, col), location=(lon, lat), version=1, timestamp=stamp))
        for row in range(rows):
            tags = {"highway": highway, "name": f"Row Street {row + 1}"}
            refs = [node_id(row, col) for col in range(cols)]
            writer.add_way(Way(id=ROW_WAY_BASE + row + 1, nodes=refs, tags=tags, version=1, timestamp=stamp))
        for col in range(cols):
            tags = {"highway": highway, "name": f"Column Avenue {col + 1}"}
            refs = [node_id(row, col) for row in range(rows)]
            writer.add_way(
                Way(id=COLUMN_WAY_BASE + col + 1, nodes=refs, tags=tags, version=1, timestamp=stamp)
            )
    finally:
        writer.close()
    return path
