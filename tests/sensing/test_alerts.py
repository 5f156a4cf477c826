"""Alerts: one message per episode, a new episode after recovery, state only advanced by data."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command

from smartip.core.errors import Invalid
from smartip.sensing import aggregates
from smartip.sensing.alert_models import AlertEpisode, AlertSubscription
from smartip.sensing.alerts import check_alerts, subscribe
from smartip.sensing.models import HourlyAggregate

T0 = datetime(2026, 1, 5, 0, tzinfo=UTC)
CLEAN_UGM3 = 4.0
SMOGGY_UGM3 = 150.0


def put_hours(sensor, start, values):
    HourlyAggregate.objects.bulk_create(
        [
            HourlyAggregate(sensor=sensor, quantity="pm25", hour=start + timedelta(hours=i), mean=v, n=12)
            for i, v in enumerate(values)
        ]
    )


def run_hours(city, start, n_hours):
    """check_alerts once per hour, as the scheduler does after each aggregation."""
    for i in range(n_hours):
        check_alerts(city=city, now=start + timedelta(hours=i, minutes=5))


@pytest.fixture
def profile_hours(sensor):
    """48 clean hours, 30 smoggy, 60 clean, 30 smoggy (two episodes with a full recovery between)."""
    values = [CLEAN_UGM3] * 48 + [SMOGGY_UGM3] * 30 + [CLEAN_UGM3] * 60 + [SMOGGY_UGM3] * 30
    put_hours(sensor, T0, values)
    return values


def high_band(city):
    # DAQI (Manchester): band 3 = "High"
    return 3


def test_one_message_per_episode_and_another_after_recovery(manchester, citizen, sensor, profile_hours):
    sub = subscribe(user=citizen, city=manchester, sensor=sensor, threshold_band=high_band(manchester))
    # the oracle: the band each hour, from the aggregation's own index, and the episodes it implies
    bands = []
    for i in range(len(profile_hours)):
        latest = aggregates.sensor_indices([sensor], at=T0 + timedelta(hours=i, minutes=5))[sensor.pk]
        bands.append(latest.band if latest else 0)
    assert max(bands) >= 3 and min(bands) < 3  # the profile does cross the band

    run_hours(manchester, T0, 48 + 30)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [citizen.email]
    assert "Back garden" in mail.outbox[0].subject
    sub.refresh_from_db()
    assert sub.in_episode

    run_hours(manchester, T0 + timedelta(hours=78), 60)
    assert len(mail.outbox) == 1, "recovery sends nothing"
    sub.refresh_from_db()
    assert not sub.in_episode

    run_hours(manchester, T0 + timedelta(hours=138), 30)
    assert len(mail.outbox) == 2
    episodes = list(AlertEpisode.objects.filter(subscription=sub).order_by("started_at"))
    assert len(episodes) == 2
    assert episodes[0].ended_at is not None and episodes[1].ended_at is None
    # the episode starts the first hour the band is reached
    first = next(i for i, b in enumerate(bands) if b >= 3)
    assert episodes[0].started_at == T0 + timedelta(hours=first)


def test_short_dip_does_not_end_the_episode(manchester, citizen, sensor):
    sub = AlertSubscription.objects.create(
        user=citizen, city=manchester, sensor=sensor, threshold_band=2, recovery_h=3
    )
    hour = T0
    assert sub.observe(2, hour) == "start"
    assert sub.observe(1, hour + timedelta(hours=1)) is None
    assert sub.observe(1, hour + timedelta(hours=2)) is None
    assert sub.observe(3, hour + timedelta(hours=3)) is None, "still the same episode"
    assert sub.observe(1, hour + timedelta(hours=5)) is None
    assert sub.observe(None, hour + timedelta(hours=9)) is None, "no data ends nothing"
    assert sub.observe(1, hour + timedelta(hours=6)) == "end"
    assert sub.observe(2, hour + timedelta(hours=7)) == "start"


def test_neighbourhood_alert(manchester, citizen, sensor, profile_hours):
    subscribe(user=citizen, city=manchester, neighbourhood=sensor.neighbourhood, threshold_band=3)
    run_hours(manchester, T0 + timedelta(hours=40), 40)
    assert len(mail.outbox) == 1
    assert sensor.neighbourhood.name in mail.outbox[0].subject


def test_subscribe_refuses_bad_band_and_two_places(manchester, citizen, sensor):
    with pytest.raises(Invalid) as exc:
        subscribe(user=citizen, city=manchester, sensor=sensor, threshold_band=9)
    assert exc.value.field == "threshold_band"
    with pytest.raises(Invalid) as exc:
        subscribe(
            user=citizen, city=manchester, sensor=sensor, neighbourhood=sensor.neighbourhood, threshold_band=2
        )
    assert exc.value.field == "sensor"


def test_cli_alerts(manchester, citizen, sensor, capsys):
    subscribe(user=citizen, city=manchester, sensor=sensor, threshold_band=1)
    put_hours(
        sensor,
        datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=30),
        [10.0] * 30,
    )
    call_command("sensing", "alerts", "--city", "manchester", "--json")
    out = capsys.readouterr().out
    assert '"notified": 1' in out
    call_command("sensing", "alerts", "--city", "manchester")
    assert "0 notified" in capsys.readouterr().out


def test_subscribing_twice_changes_the_one_alert(manchester, citizen, sensor, profile_hours):
    first = subscribe(user=citizen, city=manchester, sensor=sensor, threshold_band=2)
    again = subscribe(user=citizen, city=manchester, sensor=sensor, threshold_band=3, recovery_h=5)
    assert first.pk == again.pk
    assert AlertSubscription.objects.filter(user=citizen).count() == 1
    assert (again.threshold_band, again.recovery_h) == (3, 5)
    run_hours(manchester, T0 + timedelta(hours=40), 40)
    assert len(mail.outbox) == 1
