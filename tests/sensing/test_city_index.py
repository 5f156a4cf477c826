"""The city-wide index: median of all public sensors' hourly means (as per neighbourhood), shown on the map."""

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from smartip.sensing import aggregates, aqi
from smartip.sensing.models import HourlyAggregate
from smartip.sensing.services import register_sensor
from tests.sensing.conftest import point_in

pytestmark = pytest.mark.django_db


def add(city, hoods, name, i, series, **kw):
    lat, lon = point_in(hoods[i % len(hoods)])
    sensor = register_sensor(city=city, owner=None, name=name, model="SDS011", lat=lat, lon=lon, **kw)[0]
    end = aggregates.hour_floor(timezone.now())
    HourlyAggregate.objects.bulk_create(
        [
            HourlyAggregate(
                sensor=sensor, quantity="pm25", hour=end - timedelta(hours=len(series) - 1 - k), mean=v, n=20
            )
            for k, v in enumerate(series)
        ]
    )
    return sensor


def test_city_index_is_the_index_of_the_median_sensor(as_user, manchester, hoods):
    rng = np.random.default_rng(4)
    a, b, c = (rng.uniform(lo, lo + 10, 30) for lo in (8, 20, 60))
    add(manchester, hoods, "A", 0, a)
    add(manchester, hoods, "B", 1, b)
    add(manchester, hoods, "Faulty", 2, c)  # one high sensor does not set the city's index
    add(manchester, hoods, "Kitchen", 3, np.full(30, 400.0), exposure="indoor")  # not public: left out
    end = aggregates.hour_floor(timezone.now())
    stamps = np.array(
        [np.datetime64((end - timedelta(hours=29 - k)).replace(tzinfo=None), "s") for k in range(30)]
    )
    median = np.median(np.vstack([a, b, c]), axis=0)
    expected = aqi.hourly_indices(manchester.profile.aqi_scheme, stamps, {"pm25": median}).result
    got = aggregates.city_index(manchester)
    assert got is not None and got.n_sensors == 3 and got.hour == end
    assert got.value == expected.value[-1] and got.band == int(expected.band[-1])
    assert got.concentrations_ugm3["pm25"] == pytest.approx(median[-1])

    html = as_user(None).get("/air/").content.decode()
    assert "City index now" in html and "median over public sensors: 3" in html
    assert f"{got.band} · {got.band_name}" in html


def test_city_without_data_has_no_index(as_user, manchester, hoods):
    assert aggregates.city_index(manchester) is None
    html = as_user(None).get("/air/").content.decode()
    assert "City index now" in html and "no current index" in html
