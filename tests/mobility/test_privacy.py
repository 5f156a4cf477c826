"""The publication rule enforced in the service on real rows: no published cell from fewer than
MOBILITY_MIN_PEOPLE distinct people, trimmed trip ends never aggregated, noise only when configured."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartip.mobility import services
from smartip.mobility.fixes import from_columns
from smartip.mobility.models import MatchedSegment, Trace, Trip, Tripleg
from tests.factories import make_user
from tests.mobility.jobs import committed
from tests.mobility.test_models import commute

pytestmark = pytest.mark.django_db
START = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)  # a Monday


def person_trip(city, user, *, way_ids, mode="bicycle", in_end=False, origin="a", destination="b", at=START):
    blob = from_columns([0.0, 1.0], [city.center[0]] * 2, [city.center[1]] * 2).to_bytes()
    trace, _ = Trace.objects.get_or_create(
        owner=user,
        city=city,
        defaults={
            "source_format": "batch",
            "consent_at": at,
            "consent_purpose": "t",
            "fixes_blob": blob,
            "n_fixes": 2,
        },
    )
    trip = Trip.objects.create(
        trace=trace,
        started_at=at,
        finished_at=at + timedelta(minutes=20),
        modes=[mode],
        main_mode=mode,
        origin_h3=origin,
        destination_h3=destination,
    )
    leg = Tripleg.objects.create(trip=trip, mode=mode, started_at=at, finished_at=trip.finished_at)
    MatchedSegment.objects.bulk_create(
        MatchedSegment(
            tripleg=leg,
            osm_way_id=w,
            entered_at=at + timedelta(seconds=30 * i),
            duration_s=30,
            length_m=100,
            speed_mps=100 / 30,
            in_trip_end=in_end,
        )
        for i, w in enumerate(way_ids)
    )
    return trip


@pytest.fixture
def people(manchester):
    return [make_user(f"rider{i}") for i in range(8)]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(st.tuples(st.integers(0, 7), st.integers(1, 4)), min_size=1, max_size=25))
def test_no_published_cell_comes_from_fewer_than_five_people(manchester, people, plan):
    Trace.objects.all().delete()
    contributors: dict[int, set[int]] = {}
    for person, way in plan:
        person_trip(manchester, people[person], way_ids=[way], origin=f"o{way}", destination="d")
        contributors.setdefault(way, set()).add(person)
    cells = services.compute_aggregates(city=manchester, kind="segments")
    published = {c["way_id"] for c in cells}
    assert published == {w for w, ps in contributors.items() if len(ps) >= 5}
    assert all(c["n_people"] >= 5 for c in cells)
    od = services.compute_aggregates(city=manchester, kind="od-h3")
    assert {c["origin"] for c in od} == {f"o{w}" for w, ps in contributors.items() if len(ps) >= 5}


def test_the_threshold_is_a_setting(manchester, people, settings):
    for p in people[:3]:
        person_trip(manchester, p, way_ids=[7])
    assert services.compute_aggregates(city=manchester, kind="segments") == []
    settings.MOBILITY_MIN_PEOPLE = 3
    (cell,) = services.compute_aggregates(city=manchester, kind="segments")
    assert cell == {
        "way_id": 7,
        "mode": "bicycle",
        "hour": 9,
        "day_type": "weekday",
        "count": 3,
        "n_people": 3,
    }


def test_one_person_counts_at_most_the_cap(manchester, people, settings):
    settings.MOBILITY_CAP_PER_PERSON = 2
    for p in people[:5]:
        person_trip(manchester, p, way_ids=[7])
    for _ in range(30):
        person_trip(manchester, people[0], way_ids=[7])
    (cell,) = services.compute_aggregates(city=manchester, kind="segments")
    assert cell["count"] == 2 + 4 and cell["n_people"] == 5


def test_segments_in_trimmed_trip_ends_are_never_aggregated(manchester, people):
    for p in people:
        person_trip(manchester, p, way_ids=[1, 2], in_end=True)
        person_trip(manchester, p, way_ids=[3])
    assert {c["way_id"] for c in services.compute_aggregates(city=manchester, kind="segments")} == {3}


def test_processing_trims_real_trips_before_aggregation(manchester, people, settings):
    settings.MAPMATCH_ENGINE = "fake"
    lat, lon = manchester.center
    for i, p in enumerate(people[:5]):
        trace = services.upload_trace(
            owner=p,
            city=manchester,
            fixes=commute(lat, lon, seed=i),
            source_format="gpx",
            consent=True,
            purpose="t",
            process=False,
        )
        services.process_trace(trace=trace, rng=random.Random(i))
    ends = MatchedSegment.objects.filter(in_trip_end=True)
    assert ends.exists()
    cells = services.compute_aggregates(city=manchester, kind="segments")
    # the fake engine gives one pseudo segment (way 0) per fix pair: only the trimmed middle is counted
    counted = sum(c["count"] for c in cells)
    assert counted <= MatchedSegment.objects.filter(in_trip_end=False).count()
    assert counted < MatchedSegment.objects.count()


def test_noise_when_epsilon_is_set(manchester, people, settings):
    for p in people:
        person_trip(manchester, p, way_ids=[7])
    settings.MOBILITY_DP_EPSILON = 0.1
    counts = {
        services.compute_aggregates(city=manchester, kind="segments", rng=random.Random(s))[0]["count"]
        for s in range(20)
    }
    assert len(counts) > 3


def test_aggregate_exports_as_csv_and_geojson(manchester, people):
    import csv
    import io

    import h3

    from smartip.core.geo import h3_cell

    lat, lon = manchester.center
    origin, destination = h3_cell(lat, lon, 8), h3_cell(lat + 0.02, lon, 8)
    for p in people:
        person_trip(manchester, p, way_ids=[7], origin=origin, destination=destination)
    cells = services.compute_aggregates(city=manchester, kind="od-h3")
    assert cells == [{"origin": origin, "destination": destination, "count": 8, "n_people": 8}]
    rows = list(csv.DictReader(io.StringIO(services.aggregates_csv("od-h3", cells))))
    assert rows == [{"origin": origin, "destination": destination, "count": "8", "n_people": "8"}]
    doc = services.aggregates_geojson(city=manchester, kind="od-h3", cells=cells)
    (feature,) = doc["features"]
    assert feature["geometry"]["coordinates"][0] == list(reversed(h3.cell_to_latlng(origin)))
    assert feature["properties"]["count"] == 8


def test_the_demo_gives_every_city_published_cells(cities, settings, tmp_path):
    """Demo commutes on a synthetic grid, matched by the real Valhalla: published cells in every kind."""
    from smartip.cities.demo import demo_neighbourhoods
    from smartip.cities.services import import_neighbourhoods
    from smartip.core.demo import ensure_demo_users
    from smartip.mobility.demo import load_demo

    settings.HOME = tmp_path
    settings.MAPMATCH_ENGINE = "valhalla"
    city = cities["ghent"]
    import_neighbourhoods(city=city, geojson=demo_neighbourhoods(city, random.Random(1)))
    users, _ = ensure_demo_users(city)
    with committed():  # the demo's processing jobs run after its commit
        load_demo(city=city, users=users, rng=random.Random(3))
    assert Trace.objects.filter(city=city).values("owner").distinct().count() >= 6
    for kind in ("segments", "speeds", "od-h3", "od-neighbourhoods", "mode-share"):
        cells = services.compute_aggregates(city=city, kind=kind)
        assert cells, kind
    segments = services.compute_aggregates(city=city, kind="segments")
    assert all(c["n_people"] >= 5 for c in segments)
    assert MatchedSegment.objects.exclude(segment=None).exists()
    load_demo(city=city, users=users, rng=random.Random(3))  # idempotent
    assert Trace.objects.filter(city=city).count() == 24
