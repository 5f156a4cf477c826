"""Alert workflows: subscribe, and after each aggregation check every active subscription of a city.

:func:`check_alerts` reads the latest index of each followed sensor / neighbourhood (aggregates.sensor_indices,
aggregates.neighbourhood_indices), advances each subscription's episode (AlertSubscription.observe) and sends one
message per new episode through the platform's notifier (reports.notify: settings.NOTIFIER).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from smartip.accounts.models import User
from smartip.accounts.permissions import has_role
from smartip.cities.models import City, Neighbourhood
from smartip.core.errors import Forbidden, Invalid, gettext_noop
from smartip.reports.notify import Message, get_notifier
from smartip.sensing import aggregates, aqi
from smartip.sensing.alert_models import DEFAULT_RECOVERY_H, AlertEpisode, AlertSubscription
from smartip.sensing.models import Sensor

MAX_RECOVERY_H = 72


@dataclass(frozen=True)
class AlertRun:
    checked: int
    started: int
    ended: int
    notified: int

    def as_dict(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "started": self.started,
            "ended": self.ended,
            "notified": self.notified,
        }


def subscribe(
    *,
    user: User,
    city: City,
    threshold_band: int,
    sensor: Sensor | None = None,
    neighbourhood: Neighbourhood | None = None,
    recovery_h: int = DEFAULT_RECOVERY_H,
) -> AlertSubscription:
    """Follow one public sensor or one neighbourhood of ``city`` from ``threshold_band`` (1-based) on."""
    if not user.is_authenticated:
        raise Forbidden(gettext_noop("log in to receive alerts"), field="user")
    if not user.email:
        raise Invalid(gettext_noop("add an email address to your profile to receive alerts"), field="email")
    if (sensor is None) == (neighbourhood is None):
        raise Invalid(gettext_noop("follow either a sensor or a neighbourhood"), field="sensor")
    if sensor is not None and (sensor.city_id != city.pk or not sensor.is_active):
        raise Invalid(gettext_noop("no such sensor in this city"), field="sensor")
    if neighbourhood is not None and neighbourhood.city_id != city.pk:
        raise Invalid(gettext_noop("no such neighbourhood in this city"), field="neighbourhood")
    n_bands = len(aqi.band_names(city.profile.aqi_scheme))
    if not 1 <= threshold_band <= n_bands:
        raise Invalid(
            gettext_noop("band must be between 1 and %(maximum)s"), field="threshold_band", maximum=n_bands
        )
    if not 1 <= recovery_h <= MAX_RECOVERY_H:
        raise Invalid(
            gettext_noop("hours must be between 1 and %(maximum)s"),
            field="recovery_h",
            maximum=MAX_RECOVERY_H,
        )
    existing = AlertSubscription.objects.filter(user=user, sensor=sensor, neighbourhood=neighbourhood).first()
    if existing is not None:  # one alert per place: a second subscribe changes it (and restarts its episode)
        existing.threshold_band, existing.recovery_h, existing.is_active = threshold_band, recovery_h, True
        existing.episode_since = existing.last_at_or_above = None
        existing.save()
        return existing
    return AlertSubscription.objects.create(
        user=user,
        city=city,
        sensor=sensor,
        neighbourhood=neighbourhood,
        threshold_band=threshold_band,
        recovery_h=recovery_h,
    )


def unsubscribe(*, user: User, subscription: AlertSubscription) -> None:
    if subscription.user_id != user.pk and not has_role(user, subscription.city, "admin"):
        raise Forbidden(gettext_noop("not your alert"), field="subscription")
    subscription.delete()


def _place_name(sub: AlertSubscription) -> str:
    return sub.sensor.name if sub.sensor is not None else sub.neighbourhood.name


def _message(sub: AlertSubscription, latest: aggregates.LatestIndex) -> Message:
    with translation.override(sub.user.language or sub.city.default_language):
        place = _place_name(sub)
        subject = _("Air quality alert: %(band)s at %(place)s") % {
            "band": _(latest.band_name),
            "place": place,
        }
        path = (
            reverse("sensing:sensor", args=[sub.sensor_id])
            if sub.sensor_id
            else reverse("sensing:neighbourhoods")
        )
        body = "\n\n".join(
            [
                _("The air quality index at %(place)s reached %(band)s at %(hour)s (UTC).")
                % {"place": place, "band": _(latest.band_name), "hour": f"{latest.hour:%Y-%m-%d %H:%M}"},
                _("You will not hear again until it has been better for %(n)s hours.")
                % {"n": sub.recovery_h},
                _("Details: %(path)s") % {"path": path},
            ]
        )
    return Message(to=sub.user.email, subject=subject, body=body)


def check_alerts(*, city: City, now: datetime) -> AlertRun:
    """Advance every active subscription of ``city`` with the index at ``now``; one message per new episode."""
    subs = list(
        AlertSubscription.objects.for_city(city)
        .active()
        .select_related("user", "sensor", "neighbourhood", "city")
        .order_by("pk")
    )
    if not subs:
        return AlertRun(0, 0, 0, 0)
    sensors = {s.sensor_id: s.sensor for s in subs if s.sensor_id}
    for sensor in sensors.values():
        sensor.city = city  # the scheme comes from the city: no query per sensor
    by_sensor = aggregates.sensor_indices(sensors.values(), at=now) if sensors else {}
    by_hood = (
        {h.pk: v for h, v in aggregates.neighbourhood_indices(city, at=now).items()}
        if any(s.neighbourhood_id for s in subs)
        else {}
    )
    started = ended = 0
    messages: list[Message] = []
    with transaction.atomic():
        for sub in subs:
            latest = by_sensor.get(sub.sensor_id) if sub.sensor_id else by_hood.get(sub.neighbourhood_id)
            change = sub.observe(latest.band if latest else None, latest.hour if latest else None)
            if change is None:
                if latest is not None and sub.last_at_or_above == latest.hour:
                    sub.save(update_fields=["last_at_or_above"])
                continue
            sub.save(update_fields=["episode_since", "last_at_or_above"])
            if change == "start" and latest is not None:
                started += 1
                AlertEpisode.objects.create(
                    subscription=sub,
                    started_at=latest.hour,
                    band=latest.band,
                    band_name=latest.band_name,
                    notified_at=now,
                )
                messages.append(_message(sub, latest))
            elif change == "end" and latest is not None:
                ended += 1
                AlertEpisode.objects.filter(subscription=sub, ended_at__isnull=True).update(
                    ended_at=latest.hour
                )
    if messages:
        get_notifier().send(messages)
    return AlertRun(len(subs), started, ended, len(messages))


def refresh_and_alert(*, city: City | None = None, now: datetime | None = None) -> tuple[int, int]:
    """Recompute hourly means for sensors with new readings, then advance alerts of the affected cities.

    Returns (hourly aggregates written, messages sent). Called by `smartip sensing aggregate` and the MQTT worker."""
    from django.utils import timezone

    from smartip.cities.models import City as CityModel
    from smartip.sensing import aggregates

    hours = aggregates.refresh_dirty(city=city)
    cities = [city] if city is not None else list(CityModel.objects.active())
    sent = sum(check_alerts(city=c, now=now or timezone.now()).notified for c in cities)
    return hours, sent
