"""City workflows: create/update a city from data, import neighbourhoods from GeoJSON."""

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from smartip.cities.models import City, Department, Neighbourhood
from smartip.cities.profile import CityProfile
from smartip.core.errors import Invalid, NotFound

CITIES_FILE = Path(__file__).parent / "data" / "cities.json"


def get_city(slug: str) -> City:
    try:
        return City.objects.get(slug=slug)
    except City.DoesNotExist:
        raise NotFound(f"no city {slug!r}", field="city") from None


def upsert_city(data: dict[str, Any]) -> City:
    """Create or update one city from a plain dict (the format of data/cities.json)."""
    for key in ("slug", "name", "country", "timezone", "languages", "bbox"):
        if key not in data:
            raise Invalid(f"missing {key!r}", field=key)
    try:
        ZoneInfo(data["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"unknown time zone {data['timezone']!r}", field="timezone") from None
    known = {code for code, _ in settings.LANGUAGES}
    if not data["languages"] or any(lang not in known for lang in data["languages"]):
        raise Invalid(f"languages must be among {sorted(known)}", field="languages")
    min_lat, min_lon, max_lat, max_lon = (float(v) for v in data["bbox"])
    if not (-90 <= min_lat < max_lat <= 90 and -180 <= min_lon < max_lon <= 180):
        raise Invalid("bbox must be [min_lat, min_lon, max_lat, max_lon]", field="bbox")
    overrides = data.get("profile", {})
    try:
        profile = CityProfile.from_overrides(overrides)
    except (TypeError, ValueError) as exc:
        raise Invalid(str(exc), field="profile") from None
    city, _ = City.objects.update_or_create(
        slug=data["slug"],
        defaults=dict(
            name=data["name"],
            country=data["country"],
            timezone=data["timezone"],
            languages=data["languages"],
            jurisdiction_id=profile.jurisdiction_id or data["slug"],
            min_lat=min_lat,
            min_lon=min_lon,
            max_lat=max_lat,
            max_lon=max_lon,
            profile_overrides=overrides,
        ),
    )
    for dept in profile.departments:
        Department.objects.update_or_create(
            city=city, slug=dept["slug"], defaults={"name": dept["name"], "email": dept.get("email", "")}
        )
    return city


def load_cities(path: Path = CITIES_FILE) -> list[City]:
    return [upsert_city(item) for item in json.loads(path.read_text(encoding="utf-8"))]


def _ring_bounds(rings: Iterable[list[list[float]]]) -> tuple[float, float, float, float]:
    lats = [pt[1] for ring in rings for pt in ring]
    lons = [pt[0] for ring in rings for pt in ring]
    return min(lats), min(lons), max(lats), max(lons)


def _validate_geometry(geometry: Any, where: str) -> tuple[float, float, float, float]:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise Invalid(f"{where}: geometry must be a Polygon or MultiPolygon", field="geometry")
    coords = geometry.get("coordinates")
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    try:
        rings = [ring for poly in polygons for ring in poly]
        for ring in rings:
            if len(ring) < 4 or any(len(pt) < 2 for pt in ring):
                raise Invalid(f"{where}: a ring needs at least 4 positions", field="geometry")
            for lon, lat, *_ in ring:
                if not (-180 <= float(lon) <= 180 and -90 <= float(lat) <= 90):
                    raise Invalid(f"{where}: coordinate out of range ({lon}, {lat})", field="geometry")
        return _ring_bounds(rings)
    except (TypeError, ValueError):
        raise Invalid(f"{where}: malformed coordinates", field="geometry") from None


def _int_or_none(value: Any, name: str, where: str, lo: int, hi: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid(f"{where}: {name} must be a whole number", field=name) from None
    if not lo <= number <= hi:
        raise Invalid(f"{where}: {name} must be between {lo} and {hi}", field=name)
    return number


def import_neighbourhoods(*, city: City, geojson: dict[str, Any]) -> int:
    """Replace-or-add neighbourhoods from a FeatureCollection. Properties: code, name, population,
    deprivation_decile (aliases: id, NAME, pop, imd_decile). All are validated before anything is written."""
    if not isinstance(geojson, dict) or geojson.get("type") != "FeatureCollection":
        raise Invalid("expected a GeoJSON FeatureCollection", field="type")
    rows = []
    for i, feature in enumerate(geojson.get("features") or []):
        where = f"feature {i}"
        props = feature.get("properties") or {}
        name = props.get("name") or props.get("NAME")
        code = str(props.get("code") or props.get("id") or name or "")
        if not name:
            raise Invalid(f"{where}: missing name", field="name")
        bounds = _validate_geometry(feature.get("geometry"), where)
        rows.append(
            dict(
                code=code,
                name=str(name)[:200],
                geometry=feature["geometry"],
                population=_int_or_none(
                    props.get("population", props.get("pop")), "population", where, 0, 10**8
                ),
                deprivation_decile=_int_or_none(
                    props.get("deprivation_decile", props.get("imd_decile")),
                    "deprivation_decile",
                    where,
                    1,
                    10,
                ),
                min_lat=bounds[0],
                min_lon=bounds[1],
                max_lat=bounds[2],
                max_lon=bounds[3],
            )
        )
    if not rows:
        raise Invalid("the collection has no features", field="features")
    for row in rows:
        code = row.pop("code")
        Neighbourhood.objects.update_or_create(city=city, code=code, defaults=row)
    return len(rows)
