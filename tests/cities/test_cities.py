import json

import pytest
from django.core.management import CommandError, call_command

from smartip.cities.models import City, Neighbourhood
from smartip.cities.profile import CityProfile
from smartip.cities.services import upsert_city
from smartip.core.errors import Invalid

pytestmark = pytest.mark.django_db

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-2.25, 53.47], [-2.23, 53.47], [-2.23, 53.49], [-2.25, 53.49], [-2.25, 53.47]]],
}


def _fc(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def _feature(**props):
    geometry = props.pop("geometry", SQUARE)
    return {"type": "Feature", "geometry": geometry, "properties": props}


def test_five_cities_with_their_languages_and_zones(cities):
    assert {c: (cities[c].languages[0], cities[c].timezone) for c in cities} == {
        "manchester": ("en", "Europe/London"),
        "ghent": ("nl", "Europe/Brussels"),
        "cologne": ("de", "Europe/Berlin"),
        "bologna": ("it", "Europe/Rome"),
        "oulu": ("fi", "Europe/Helsinki"),
    }


def test_profile_defaults_and_overrides(cities):
    assert cities["ghent"].profile.duplicate_radius_m == 40
    assert cities["cologne"].profile.duplicate_radius_m == CityProfile().duplicate_radius_m
    assert cities["manchester"].profile.aqi_scheme == "daqi"


def test_a_sixth_city_is_data(db, tmp_path):
    path = tmp_path / "aarau.json"
    path.write_text(
        json.dumps(
            [
                {
                    "slug": "aarau",
                    "name": "Aarau",
                    "country": "CH",
                    "timezone": "Europe/Zurich",
                    "languages": ["de"],
                    "bbox": [47.37, 8.02, 47.41, 8.08],
                    "profile": {"duplicate_radius_m": 20},
                }
            ]
        )
    )
    call_command("cities", "add", str(path))
    aarau = City.objects.get(slug="aarau")
    assert aarau.profile.duplicate_radius_m == 20 and aarau.departments.count() == 4


@pytest.mark.parametrize(
    "change,field",
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"languages": ["xx"]}, "languages"),
        ({"bbox": [50, 0, 40, 1]}, "bbox"),
        ({"profile": {"colour": "red"}}, "profile"),
    ],
)
def test_bad_city_data_refused(db, change, field):
    data = {
        "slug": "x",
        "name": "X",
        "country": "XX",
        "timezone": "UTC",
        "languages": ["en"],
        "bbox": [1, 1, 2, 2],
        **change,
    }
    with pytest.raises(Invalid) as err:
        upsert_city(data)
    assert err.value.field == field and not City.objects.filter(slug="x").exists()


def test_import_neighbourhoods_command_and_lookup(manchester, tmp_path):
    path = tmp_path / "n.geojson"
    path.write_text(
        json.dumps(_fc(_feature(code="M1", name="Centre", population=1200, deprivation_decile=3)))
    )
    call_command("cities", "import-neighbourhoods", "manchester", str(path))
    hood = Neighbourhood.objects.get(code="M1")
    assert (hood.population, hood.deprivation_decile) == (1200, 3)
    assert manchester.neighbourhood_at(53.48, -2.24) == hood
    assert manchester.neighbourhood_at(53.50, -2.24) is None


@pytest.mark.parametrize(
    "features,message",
    [
        (
            [_feature(code="A", name="ok"), _feature(code="B", name="bad", deprivation_decile=11)],
            "deprivation_decile",
        ),
        (
            [_feature(code="A", name="ok"), _feature(code="B", name="bad", geometry={"type": "Point"})],
            "geometry",
        ),
        ([_feature(code="A")], "missing name"),
        ([], "no features"),
    ],
)
def test_bad_neighbourhood_file_imports_nothing(manchester, tmp_path, features, message):
    path = tmp_path / "n.geojson"
    path.write_text(json.dumps(_fc(*features)))
    with pytest.raises(CommandError, match=message):
        call_command("cities", "import-neighbourhoods", "manchester", str(path))
    assert Neighbourhood.objects.count() == 0


def test_import_reports_unknown_city_and_broken_json(cities, tmp_path):
    path = tmp_path / "n.geojson"
    path.write_text("{not json")
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("cities", "import-neighbourhoods", "manchester", str(path))
    with pytest.raises(CommandError, match="no city"):
        call_command("cities", "import-neighbourhoods", "atlantis", str(path))


def test_cities_api(client, cities):
    assert [c["slug"] for c in client.get("/api/cities/").json()] == [
        "bologna",
        "ghent",
        "cologne",
        "manchester",
        "oulu",
    ]  # ordered by name: Bologna, Gent, Köln, ...
    assert client.get("/api/cities/atlantis").status_code == 404
