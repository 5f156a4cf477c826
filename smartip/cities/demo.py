"""Demo neighbourhoods: real district names on an approximate grid over each city's bounding box.

The boundaries are NOT official: they only give the demo something to group by. A city imports its real
boundaries with `smartip cities import-neighbourhoods CITY FILE.geojson`.
"""

import random
from typing import Any

from smartip.cities.models import City

DEMO_DISTRICTS = {
    "manchester": [
        "Cheetham",
        "Ancoats and Beswick",
        "Clayton",
        "Hulme",
        "City Centre",
        "Ardwick",
        "Chorlton",
        "Moss Side",
        "Fallowfield",
    ],
    "ghent": [
        "Mariakerke",
        "Wondelgem",
        "Oostakker",
        "Drongen",
        "Binnenstad",
        "Sint-Amandsberg",
        "Sint-Denijs-Westrem",
        "Zwijnaarde",
        "Gentbrugge",
    ],
    "cologne": [
        "Chorweiler",
        "Nippes",
        "Mülheim",
        "Ehrenfeld",
        "Innenstadt",
        "Kalk",
        "Lindenthal",
        "Rodenkirchen",
        "Porz",
    ],
    "bologna": [
        "Borgo Panigale",
        "Navile",
        "Bolognina",
        "Reno",
        "Porto-Saragozza",
        "San Donato-San Vitale",
        "Saragozza",
        "Santo Stefano",
        "Savena",
    ],
    "oulu": [
        "Linnanmaa",
        "Toppila",
        "Ritaharju",
        "Tuira",
        "Keskusta",
        "Raksila",
        "Kaukovainio",
        "Kaakkuri",
        "Hiukkavaara",
    ],
}


def demo_neighbourhoods(city: City, rng: random.Random) -> dict[str, Any]:
    """A 3×3 FeatureCollection over the city's bounding box (north-west first)."""
    names = DEMO_DISTRICTS.get(city.slug) or [f"{city.name} {i + 1}" for i in range(9)]
    dlat = (city.max_lat - city.min_lat) / 3
    dlon = (city.max_lon - city.min_lon) / 3
    features = []
    for i, name in enumerate(names[:9]):
        row, col = divmod(i, 3)
        top = city.max_lat - row * dlat
        left = city.min_lon + col * dlon
        ring = [[left, top], [left + dlon, top], [left + dlon, top - dlat], [left, top - dlat], [left, top]]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    "code": f"{city.slug}-{i + 1}",
                    "name": name,
                    "population": rng.randrange(8_000, 40_000),
                    "deprivation_decile": rng.randint(1, 10),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
