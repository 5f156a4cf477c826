"""Street networks: Valhalla tiles and the street-segment table of a city, from an OpenStreetMap extract."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from smartip.cities.models import City
from smartip.mobility.models import StreetNetwork, StreetSegment


def load_network(*, city: City, pbf: Path) -> StreetNetwork:
    """Build (or reuse) Valhalla tiles for an extract and fill the city's street segment table."""
    from smartip.mobility.matching.network import build_tiles, file_sha256, street_segments

    config = build_tiles(pbf, Path(settings.HOME) / "valhalla")
    segments = street_segments(pbf)
    network = StreetNetwork.objects.create(
        city=city,
        source_name=Path(pbf).name,
        sha256=file_sha256(pbf),
        tiles_config=str(config),
        n_segments=len(segments),
    )
    seen: set[int] = set()
    rows = []
    for s in segments:
        if s.way_id in seen:
            continue
        seen.add(s.way_id)
        rows.append(
            StreetSegment(
                network=network,
                osm_way_id=s.way_id,
                name=s.name[:255],
                highway=s.highway[:64],
                geometry={"type": "LineString", "coordinates": s.coords},
                length_m=s.length_m,
            )
        )
    StreetSegment.objects.bulk_create(rows, batch_size=2000)
    return network
