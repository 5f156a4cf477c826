"""Citizen sensing: sensors (things), observations in one narrow table, hourly aggregates.

SensorThings mapping (for the /sensorthings/v1.1 layer): Thing ≈ :class:`Sensor` (with its Location: lat/lon,
shown rounded); Sensor (the instrument) ≈ ``Sensor.model``; ObservedProperty ≈ a :data:`QUANTITIES` code;
Datastream ≈ (sensor, quantity) — id ``"{sensor_id}:{quantity}"``, unit from :data:`QUANTITIES`;
Observation ≈ :class:`Observation` (phenomenonTime = ``time``, result = ``value``, resultQuality = ``qc_flags``).
"""

import math
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smartip.accounts.models import ApiKey, hash_key
from smartip.cities.models import City, Neighbourhood
from smartip.core import geo


@dataclass(frozen=True)
class Quantity:
    """What a datastream measures: unit (UCUM), the physically possible range (readings outside are refused)."""

    code: str
    name: str
    unit: str
    possible_min: float
    possible_max: float


QUANTITIES: dict[str, Quantity] = {
    q.code: q
    for q in (
        Quantity("pm1", "PM1", "ug/m3", 0.0, 20_000.0),
        Quantity("pm25", "PM2.5", "ug/m3", 0.0, 20_000.0),
        Quantity("pm4", "PM4", "ug/m3", 0.0, 20_000.0),
        Quantity("pm10", "PM10", "ug/m3", 0.0, 20_000.0),
        Quantity("no2", "NO2", "ug/m3", 0.0, 50_000.0),
        Quantity("o3", "O3", "ug/m3", 0.0, 50_000.0),
        Quantity("so2", "SO2", "ug/m3", 0.0, 50_000.0),
        Quantity("co", "CO", "ug/m3", 0.0, 5_000_000.0),
        Quantity("no", "NO", "ug/m3", 0.0, 50_000.0),
        Quantity("nox", "NOx", "ug/m3", 0.0, 100_000.0),
        Quantity("temperature", "Air temperature", "Cel", -60.0, 70.0),
        Quantity("humidity", "Relative humidity", "%", 0.0, 100.0),
        Quantity("pressure", "Air pressure", "Pa", 30_000.0, 110_000.0),
        Quantity("noise_laeq", "Noise LAeq", "dB(A)", 0.0, 194.0),
        Quantity("noise_lamin", "Noise LAmin", "dB(A)", 0.0, 194.0),
        Quantity("noise_lamax", "Noise LAmax", "dB(A)", 0.0, 194.0),
        Quantity("co2", "CO2", "ppm", 0.0, 100_000.0),
    )
}
#: Pollutants a reference station may report slightly below zero (zero drift); PM from a citizen sensor may not.
REFERENCE_NEGATIVE_SLACK = 10.0
AIR_POLLUTANTS = ("pm25", "pm10", "no2", "o3", "so2", "co")


class SensorModel(models.TextChoices):
    SDS011 = "SDS011", "SDS011"
    PMS5003 = "PMS5003", "PMS5003"
    SPS30 = "SPS30", "SPS30"
    BME280 = "BME280", "BME280"
    SHT3X = "SHT3x", "SHT3x"
    DHT22 = "DHT22", "DHT22"
    DNMS = "DNMS", _("DNMS noise")
    NO2_CELL = "NO2-cell", _("NO2 electrochemical cell")
    REFERENCE = "reference", _("reference station")


class Exposure(models.TextChoices):
    OUTDOOR = "outdoor", _("outdoor")
    INDOOR = "indoor", _("indoor")


class SensorQuerySet(models.QuerySet["Sensor"]):
    def for_city(self, city: City) -> "SensorQuerySet":
        return self.filter(city=city)

    def active(self) -> "SensorQuerySet":
        return self.filter(is_active=True)

    def outdoor(self) -> "SensorQuerySet":
        return self.filter(exposure=Exposure.OUTDOOR)

    def public(self) -> "SensorQuerySet":
        """What maps and open data show: active outdoor sensors (indoor ones are excluded, as Sensor.Community)."""
        return self.active().outdoor()

    def dirty(self) -> "SensorQuerySet":
        """Sensors with readings newer than their hourly aggregates."""
        return self.filter(dirty_since__isnull=False)


class Sensor(models.Model):
    """A measuring device at one place (SensorThings: a Thing with its Location)."""

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="sensors")
    neighbourhood = models.ForeignKey(
        Neighbourhood, null=True, blank=True, on_delete=models.SET_NULL, related_name="sensors"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sensors"
    )
    name = models.CharField(_("name"), max_length=120)
    model = models.CharField(_("model"), max_length=16, choices=SensorModel.choices)
    exposure = models.CharField(
        _("exposure"), max_length=8, choices=Exposure.choices, default=Exposure.OUTDOOR
    )
    height_m = models.FloatField(_("height above ground (m)"), null=True, blank=True)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    public_lat = models.FloatField(_("shown latitude"))
    public_lon = models.FloatField(_("shown longitude"))
    h3 = models.CharField(max_length=16, blank=True, db_index=True)
    is_home_hosted = models.BooleanField(_("hosted at a home"), default=True)
    is_reference = models.BooleanField(_("reference station"), default=False)
    firmware_id = models.CharField(
        _("firmware id"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text=_("X-Sensor, e.g. esp8266-12345"),
    )
    api_key = models.ForeignKey(
        ApiKey,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sensors",
        help_text=_("device key"),
    )
    key_hash = models.CharField(max_length=64, blank=True, db_index=True)
    push_without_key = models.BooleanField(
        _("accept firmware pushes without a key"),
        default=False,
        help_text=_("as Sensor.Community: X-Sensor only"),
    )
    interval_s = models.PositiveIntegerField(_("reading interval (s)"), default=145)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    dirty_since = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = SensorQuerySet.as_manager()

    class Meta:
        ordering = ["city", "name"]
        verbose_name = _("sensor")
        verbose_name_plural = _("sensors")

    def __str__(self) -> str:
        return f"{self.name} ({self.model})"

    def set_position(self, lat: float, lon: float) -> None:
        """Exact position kept private; home-hosted sensors are shown on a grid of SENSOR_PUBLIC_ROUNDING_M."""
        self.lat, self.lon = lat, lon
        if self.is_home_hosted:
            self.public_lat, self.public_lon = rounded_position(lat, lon, settings.SENSOR_PUBLIC_ROUNDING_M)
        else:
            self.public_lat, self.public_lon = lat, lon
        self.h3 = geo.h3_cell(self.public_lat, self.public_lon)
        self.neighbourhood = self.city.neighbourhood_at(lat, lon) if self.city_id else None

    def new_key(self) -> str:
        """Give the sensor its own secret (returned once, stored hashed)."""
        raw = "sn_" + secrets.token_urlsafe(24)
        self.key_hash = hash_key(raw)
        self.save(update_fields=["key_hash"])
        return raw

    def accepts_key(self, raw: str | None, *, key: ApiKey | None = None) -> bool:
        """Own key, or an active device key linked to it or held by its owner."""
        if raw and self.key_hash and secrets.compare_digest(self.key_hash, hash_key(raw.strip())):
            return True
        if key is None or not key.is_active:
            return False
        return key.pk == self.api_key_id or (key.kind == ApiKey.Kind.DEVICE and key.user_id == self.owner_id)

    @property
    def scheme(self) -> str:
        return self.city.profile.aqi_scheme

    @classmethod
    def mark_dirty(cls, sensor_id: int, since: datetime, seen: datetime) -> None:
        """Note that hourly aggregates from ``since`` on need recomputing."""
        cls.mark_many_dirty({sensor_id: since}, seen)

    @classmethod
    def mark_many_dirty(cls, since: dict[int, datetime], seen: datetime) -> None:
        """One UPDATE for all the sensors of a batch: ``dirty_since`` becomes the earlier of old and new."""
        if not since:
            return
        new = models.Case(
            *[models.When(pk=pk, then=models.Value(t)) for pk, t in since.items()],
            output_field=models.DateTimeField(),
        )
        cls.objects.filter(pk__in=list(since)).update(
            dirty_since=Least(Coalesce(models.F("dirty_since"), new), new), last_seen_at=seen
        )


def rounded_position(lat: float, lon: float, step_m: float) -> tuple[float, float]:
    """Centre of the ``step_m`` grid cell holding the point (so a home is never shown exactly)."""
    if step_m <= 0:
        return lat, lon
    dlat = math.degrees(step_m / geo.EARTH_RADIUS_M)
    row_lat = (math.floor(lat / dlat) + 0.5) * dlat
    dlon = dlat / max(
        math.cos(math.radians(row_lat)), 1e-6
    )  # the row's width, so every point of a cell agrees
    return row_lat, (math.floor(lon / dlon) + 0.5) * dlon


class ObservationQuerySet(models.QuerySet["Observation"]):
    def for_sensor(self, sensor: Sensor) -> "ObservationQuerySet":
        return self.filter(sensor=sensor)

    def clean(self) -> "ObservationQuerySet":
        return self.filter(qc_flags=0)

    def between(self, start: datetime, end: datetime) -> "ObservationQuerySet":
        return self.filter(time__gte=start, time__lt=end)


class Observation(models.Model):
    """One reading. The natural key (sensor, quantity, time) is unique: a repeated reading is never stored twice."""

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, db_index=False, related_name="observations")
    quantity = models.CharField(max_length=16)
    time = models.DateTimeField()
    value = models.FloatField()
    qc_flags = models.PositiveSmallIntegerField(default=0, help_text=_("bit flags, see sensing/qc.py"))

    objects = ObservationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sensor", "quantity", "time"], name="observation_idempotency_key"
            ),
        ]
        verbose_name = _("observation")
        verbose_name_plural = _("observations")

    def __str__(self) -> str:
        return f"{self.sensor_id} {self.quantity} {self.time:%Y-%m-%d %H:%M:%S} {self.value:g}"


class HourlyQuerySet(models.QuerySet["HourlyAggregate"]):
    def valid(self) -> "HourlyQuerySet":
        return self.filter(mean__isnull=False)

    def for_city(self, city: City) -> "HourlyQuerySet":
        return self.filter(sensor__city=city)


class HourlyAggregate(models.Model):
    """Hour-beginning mean of the clean readings; ``mean`` is null when under 75 % complete."""

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, db_index=False, related_name="hourly")
    quantity = models.CharField(max_length=16)
    hour = models.DateTimeField()
    mean = models.FloatField(null=True)
    n = models.PositiveIntegerField(default=0, help_text=_("clean readings"))
    n_total = models.PositiveIntegerField(default=0)
    flags = models.PositiveSmallIntegerField(default=0, help_text=_("OR of the readings' flags"))
    updated_at = models.DateTimeField(default=timezone.now)

    objects = HourlyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sensor", "quantity", "hour"], name="hourly_per_sensor_quantity"),
        ]
        indexes = [models.Index(fields=["quantity", "hour"], name="hourly_quantity_hour")]
        verbose_name = _("hourly aggregate")
        verbose_name_plural = _("hourly aggregates")

    def __str__(self) -> str:
        return f"{self.sensor_id} {self.quantity} {self.hour:%Y-%m-%d %H}h {self.mean}"


from smartip.sensing.alert_models import *  # noqa: E402, F403  (alerts, owned by alert_models.py)
from smartip.sensing.sta_models import *  # noqa: E402, F403  (SensorThings tables, owned by sensorthings/)
