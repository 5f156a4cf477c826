"""Daily and weekly charts of the sensor page follow the 75 % completeness rule (18 of 24 hours; 6 of 7 days)."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.utils import timezone

from smartip.sensing import aggregates, averaging, pages
from smartip.sensing.models import HourlyAggregate
from smartip.sensing.services import register_sensor
from tests.sensing.conftest import point_in

MONDAY = datetime(2026, 11, 2, tzinfo=UTC)


def hours_of(day: int, n: int, value: float, start_hour: int = 0) -> dict[datetime, float]:
    base = MONDAY + timedelta(days=day, hours=start_hour)
    return {base + timedelta(hours=h): value + h * 0.1 for h in range(n)}


def test_daily_means_need_18_of_24_hours():
    by_hour = {**hours_of(0, 24, 10.0), **hours_of(1, 18, 20.0, 6), **hours_of(2, 17, 30.0)}
    dw = pages.daily_weekly(by_hour, MONDAY, 1)
    assert dw.daily[0] == pytest.approx(np.mean(list(hours_of(0, 24, 10.0).values())))
    assert dw.daily[1] == pytest.approx(np.mean(list(hours_of(1, 18, 20.0, 6).values())))
    assert np.isnan(dw.daily[2])  # 17 hours: a gap, not a mean of what arrived
    assert list(dw.hours_per_day[:4]) == [24, 18, 17, 0]


def test_weekly_means_are_means_of_valid_days_with_6_of_7():
    week0 = {}
    for day in (0, 1, 3, 4, 5, 6):
        week0.update(hours_of(day, 24, 5.0 * day))
    week0.update(hours_of(2, 12, 400.0))  # an incomplete day does not pull the week up
    week1 = {}
    for day in range(7, 12):
        week1.update(hours_of(day, 24, 8.0))  # 5 of 7 days
    dw = pages.daily_weekly({**week0, **week1}, MONDAY, 2)
    valid_days = [np.mean(list(hours_of(d, 24, 5.0 * d).values())) for d in (0, 1, 3, 4, 5, 6)]
    assert dw.weekly[0] == pytest.approx(np.mean(valid_days))
    assert list(dw.days_per_week) == [6, 5]
    assert np.isnan(dw.weekly[1])
    assert averaging.min_count(7) == 6 and averaging.min_count(24) == 18


@pytest.mark.django_db
def test_sensor_page_shows_incomplete_days_as_gaps(as_user, manchester, hoods):
    lat, lon = point_in(hoods[0])
    sensor = register_sensor(city=manchester, owner=None, name="Garden", model="SDS011", lat=lat, lon=lon)[0]
    now = MONDAY + timedelta(days=9, hours=15, minutes=20)  # Wednesday of the second week
    rows = {**hours_of(7, 24, 12.0), **hours_of(8, 10, 50.0)}  # Monday complete, Tuesday 10 hours
    HourlyAggregate.objects.bulk_create(
        [HourlyAggregate(sensor=sensor, quantity="pm25", hour=h, mean=v, n=20) for h, v in rows.items()]
    )
    day_chart = pages.sensor_charts(sensor, "pm25", now=now)[1]
    by_day = {b.start: b for b in day_chart.bars}
    monday = by_day[MONDAY + timedelta(days=7)]
    assert monday.value == pytest.approx(np.mean(list(hours_of(7, 24, 12.0).values())))
    tuesday = by_day[MONDAY + timedelta(days=8)]
    assert tuesday.value is None and tuesday.gap == "incomplete: 10 of 24 hours"
    assert by_day[MONDAY + timedelta(days=9)].gap == ""  # no data at all: no note
    week_chart = pages.sensor_charts(sensor, "pm25", now=now)[2]
    assert week_chart.bars[-1].value is None and week_chart.bars[-1].gap == "incomplete: 1 of 7 valid days"
    assert all(b.value is None and b.gap == "" for b in week_chart.bars[:-1])

    two_days_ago = aggregates.hour_floor(timezone.now()).replace(hour=0) - timedelta(days=2)
    HourlyAggregate.objects.bulk_create(
        [
            HourlyAggregate(
                sensor=sensor, quantity="pm25", hour=two_days_ago + timedelta(hours=h), mean=9.0, n=20
            )
            for h in range(11)
        ]
    )
    html = as_user(None).get(f"/air/sensors/{sensor.pk}/").content.decode()
    assert "at least 18 of 24 hours" in html and "at least 6 of 7 valid days" in html
    assert "incomplete: 11 of 24 hours" in html and "9.00" not in html
