from ninja import Schema


class NeighbourhoodOut(Schema):
    code: str
    name: str
    population: int | None
    deprivation_decile: int | None


class CityOut(Schema):
    slug: str
    name: str
    country: str
    timezone: str
    languages: list[str]
    jurisdiction_id: str
    bbox: list[float]


def city_out(city) -> CityOut:  # type: ignore[no-untyped-def]
    return CityOut(
        slug=city.slug,
        name=city.name,
        country=city.country,
        timezone=city.timezone,
        languages=city.languages,
        jurisdiction_id=city.jurisdiction_id,
        bbox=[city.min_lat, city.min_lon, city.max_lat, city.max_lon],
    )
