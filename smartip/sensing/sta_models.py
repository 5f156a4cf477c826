"""SensorThings API tables that our sensing models do not already hold (see sensing/sensorthings/__init__.py).

A Thing *is* a :class:`~smartip.sensing.models.Sensor` (same id); :class:`StaThing` only adds the STA description
and properties. Observations stay in the one narrow ``Observation`` table, keyed by (sensor, quantity, time): a
:class:`StaDatastream` is the (sensor, quantity) pair, so it is unique per Thing and quantity. A Feature of
Interest belongs to a Thing (the place it measures), not to each observation, which keeps observations narrow.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StaThing(models.Model):
    """STA fields of a Thing that the Sensor row lacks (created on first STA write)."""

    sensor = models.OneToOneField(
        "sensing.Sensor", primary_key=True, on_delete=models.CASCADE, related_name="sta_thing"
    )
    description = models.TextField(blank=True)
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("SensorThings thing")

    def __str__(self) -> str:
        return f"Thing {self.sensor_id}"


class StaLocation(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    encoding_type = models.CharField(max_length=100, default="application/geo+json")
    location = models.JSONField(help_text=_("GeoJSON geometry, exactly as given (shown rounded for homes)"))
    properties = models.JSONField(default=dict, blank=True)
    things = models.ManyToManyField("sensing.Sensor", related_name="sta_locations", blank=True)

    class Meta:
        verbose_name = _("SensorThings location")

    def __str__(self) -> str:
        return self.name


class StaHistoricalLocation(models.Model):
    thing = models.ForeignKey(
        "sensing.Sensor", on_delete=models.CASCADE, related_name="sta_historical_locations"
    )
    time = models.DateTimeField(default=timezone.now)
    locations = models.ManyToManyField(StaLocation, related_name="historical_locations", blank=True)

    class Meta:
        verbose_name = _("SensorThings historical location")

    def __str__(self) -> str:
        return f"{self.thing_id} at {self.time:%Y-%m-%d %H:%M}"


class StaSensor(models.Model):
    """The instrument (STA Sensor), e.g. an SDS011 with its datasheet."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    encoding_type = models.CharField(max_length=100, default="application/pdf")
    metadata = models.TextField(blank=True)
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("SensorThings sensor")

    def __str__(self) -> str:
        return self.name


class StaObservedProperty(models.Model):
    """A phenomenon; ``quantity`` is the QUANTITIES code our observations are stored under."""

    name = models.CharField(max_length=200)
    definition = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    properties = models.JSONField(default=dict, blank=True)
    quantity = models.CharField(max_length=16)

    class Meta:
        verbose_name = _("SensorThings observed property")

    def __str__(self) -> str:
        return f"{self.name} ({self.quantity})"


class StaDatastream(models.Model):
    """(Thing, quantity): the observations are ``Observation(sensor=thing, quantity=quantity)``."""

    thing = models.ForeignKey("sensing.Sensor", on_delete=models.CASCADE, related_name="sta_datastreams")
    quantity = models.CharField(max_length=16)
    sensor = models.ForeignKey(StaSensor, on_delete=models.CASCADE, related_name="datastreams")
    observed_property = models.ForeignKey(
        StaObservedProperty, on_delete=models.CASCADE, related_name="datastreams"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    observation_type = models.CharField(
        max_length=200,
        default="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
    )
    unit_of_measurement = models.JSONField(default=dict)
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["thing", "quantity"], name="sta_datastream_per_thing_quantity")
        ]
        verbose_name = _("SensorThings datastream")

    def __str__(self) -> str:
        return f"{self.thing_id}:{self.quantity}"


class StaFeatureOfInterest(models.Model):
    """What a Thing's observations are about (one per Thing: observations carry no feature column)."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    encoding_type = models.CharField(max_length=100, default="application/geo+json")
    feature = models.JSONField()
    properties = models.JSONField(default=dict, blank=True)
    thing = models.OneToOneField(
        "sensing.Sensor", null=True, blank=True, on_delete=models.SET_NULL, related_name="sta_feature"
    )

    class Meta:
        verbose_name = _("SensorThings feature of interest")

    def __str__(self) -> str:
        return self.name
