"""Air-quality alerts: a citizen follows a sensor or a neighbourhood and is told once per episode.

An episode starts when the latest index of the followed place reaches the subscription's band and ends when the
index has stayed below that band for ``recovery_h`` hours (measured on the data's hours). One message at the
start of each episode; the episode history is kept in :class:`AlertEpisode`.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smartip.cities.models import City, Neighbourhood

__all__ = ["DEFAULT_RECOVERY_H", "AlertEpisode", "AlertSubscription"]

DEFAULT_RECOVERY_H = 3


class AlertSubscriptionQuerySet(models.QuerySet["AlertSubscription"]):
    def for_city(self, city: City) -> "AlertSubscriptionQuerySet":
        return self.filter(city=city)

    def active(self) -> "AlertSubscriptionQuerySet":
        return self.filter(is_active=True)

    def of(self, user: object) -> "AlertSubscriptionQuerySet":
        return self.filter(user=user)


class AlertSubscription(models.Model):
    """Follow one sensor or one neighbourhood; told when its index reaches ``threshold_band`` (1 = best band)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="air_alerts")
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="air_alerts")
    sensor = models.ForeignKey(
        "sensing.Sensor", null=True, blank=True, on_delete=models.CASCADE, related_name="alert_subscriptions"
    )
    neighbourhood = models.ForeignKey(
        Neighbourhood, null=True, blank=True, on_delete=models.CASCADE, related_name="air_alerts"
    )
    threshold_band = models.PositiveSmallIntegerField(_("alert from band"))
    recovery_h = models.PositiveSmallIntegerField(
        _("episode ends after hours below"), default=DEFAULT_RECOVERY_H
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # episode state
    episode_since = models.DateTimeField(null=True, blank=True)
    last_at_or_above = models.DateTimeField(null=True, blank=True)

    objects = AlertSubscriptionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(sensor__isnull=False) & Q(neighbourhood__isnull=True))
                | (Q(sensor__isnull=True) & Q(neighbourhood__isnull=False)),
                name="alert_follows_sensor_xor_neighbourhood",
            ),
            models.CheckConstraint(condition=Q(threshold_band__gte=1), name="alert_band_positive"),
        ]
        verbose_name = _("air-quality alert")
        verbose_name_plural = _("air-quality alerts")

    def __str__(self) -> str:
        place = f"sensor {self.sensor_id}" if self.sensor_id else f"neighbourhood {self.neighbourhood_id}"
        return f"{self.user_id} → {place} from band {self.threshold_band}"

    @property
    def in_episode(self) -> bool:
        return self.episode_since is not None

    def observe(self, band: int | None, hour: datetime | None) -> str | None:
        """Advance the episode state with the latest band at ``hour``; returns "start", "end" or None.

        ``band`` None (no current index) changes nothing: a silent sensor neither starts nor ends an episode.
        """
        if band is None or hour is None:
            return None
        if band >= self.threshold_band:
            self.last_at_or_above = hour
            if self.episode_since is None:
                self.episode_since = hour
                return "start"
            return None
        recovered = self.last_at_or_above is not None and hour - self.last_at_or_above >= timedelta(
            hours=self.recovery_h
        )
        if self.episode_since is not None and recovered:
            self.episode_since = None
            return "end"
        return None


class AlertEpisode(models.Model):
    """One episode of one subscription: when it started, when it ended, when the citizen was told."""

    subscription = models.ForeignKey(AlertSubscription, on_delete=models.CASCADE, related_name="episodes")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    band = models.PositiveSmallIntegerField()
    band_name = models.CharField(max_length=64, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("air-quality episode")
        verbose_name_plural = _("air-quality episodes")

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.started_at:%Y-%m-%d %H}h band {self.band}"
