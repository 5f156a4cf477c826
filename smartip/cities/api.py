from typing import Any

from django.http import HttpRequest
from ninja import Router

from smartip.cities.models import City
from smartip.cities.schemas import CityOut, NeighbourhoodOut, city_out
from smartip.cities.services import get_city

router = Router(tags=["cities"])


@router.get("/", response=list[CityOut])
def list_cities(request: HttpRequest) -> list[CityOut]:
    return [city_out(c) for c in City.objects.active()]


@router.get("/{slug}", response=CityOut)
def city_detail(request: HttpRequest, slug: str) -> CityOut:
    return city_out(get_city(slug))


@router.get("/{slug}/neighbourhoods", response=list[NeighbourhoodOut])
def neighbourhoods(request: HttpRequest, slug: str) -> Any:
    return get_city(slug).neighbourhoods.all()


@router.get("/{slug}/neighbourhoods.geojson")
def neighbourhoods_geojson(request: HttpRequest, slug: str) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "geometry": n.geometry,
            "properties": {
                "code": n.code,
                "name": n.name,
                "population": n.population,
                "deprivation_decile": n.deprivation_decile,
            },
        }
        for n in get_city(slug).neighbourhoods.all()
    ]
    return {"type": "FeatureCollection", "features": features}
