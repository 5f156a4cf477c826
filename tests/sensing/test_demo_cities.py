"""Every demo city (cities.json) gets a week of readings, one reference station, and a PM episode that reaches
the demo alert's band and raises an alert episode (one city per test, so a failure names the city)."""

import json
import random
from datetime import timedelta

import pytest

from smartip.cities.services import CITIES_FILE

pytestmark = pytest.mark.django_db

SLUGS = [c["slug"] for c in json.loads(CITIES_FILE.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("slug", SLUGS)
def test_demo_city_has_a_week_a_station_and_an_alert_worthy_episode(cities, slug):
    from django.db.models import Max, Min

    from smartip.cities.demo import demo_neighbourhoods
    from smartip.cities.services import import_neighbourhoods
    from smartip.core.demo import ensure_demo_users
    from smartip.sensing import aggregates, bands, demo
    from smartip.sensing.alert_models import AlertEpisode
    from smartip.sensing.models import Observation, Sensor

    city = cities[slug]
    import_neighbourhoods(city=city, geojson=demo_neighbourhoods(city, random.Random(1)))
    users, _ = ensure_demo_users(city)
    demo.load_demo(city=city, users=users, rng=random.Random(2))

    sensors = list(Sensor.objects.for_city(city))
    assert len([s for s in sensors if s.is_reference]) == 1
    for sensor in sensors:
        span = Observation.objects.filter(sensor=sensor).aggregate(first=Min("time"), last=Max("time"))
        week = timedelta(days=demo.DAYS) - timedelta(seconds=sensor.interval_s)
        assert span["last"] - span["first"] >= week, sensor.name

    for s in sensors:
        s.city = city
    latest = aggregates.sensor_indices([s for s in sensors if s.exposure == "outdoor"])
    top = max((i.band for i in latest.values() if i is not None), default=0)
    assert top >= demo.DEMO_ALERT_BAND, f"{slug}: highest band {top}"
    assert bands.band(city.profile.aqi_scheme, top) is not None
    assert AlertEpisode.objects.filter(subscription__city=city).exists()
