"""Mobility storage: street networks, traces (fixes as one compact blob per trace), privacy zones, and the rows
derived from a trace by the pipeline (stay points, trips, triplegs, matched street segments).

Deleting a trace deletes everything derived from it (every derived row hangs off the trace by CASCADE).
Trip ends used for aggregation (`Trip.origin_*_agg` / neighbourhoods / H3 cells, `MatchedSegment.in_trip_end`)
are computed once at processing time from ends trimmed by a random 200-500 m, so repeated queries never
re-draw the randomness (which would let averaging undo the trimming).
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smartip.cities.models import City, Neighbourhood
from smartip.mobility.fixes import Fixes

MODES = ("walk", "bicycle", "bus", "car", "train")


class StreetNetwork(models.Model):
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="street_networks")
    source_name = models.CharField(_("source file"), max_length=255)
    sha256 = models.CharField(max_length=64)
    tiles_config = models.CharField(_("Valhalla config path"), max_length=500)
    n_segments = models.PositiveIntegerField(default=0)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["city", "-loaded_at"]
        get_latest_by = "loaded_at"

    def __str__(self) -> str:
        return f"{self.city.slug}: {self.source_name}"


class StreetSegment(models.Model):
    network = models.ForeignKey(StreetNetwork, on_delete=models.CASCADE, related_name="segments")
    osm_way_id = models.BigIntegerField()
    name = models.CharField(max_length=255, blank=True)
    highway = models.CharField(_("highway class"), max_length=64, blank=True)
    geometry = models.JSONField(help_text=_("GeoJSON LineString"))
    length_m = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "osm_way_id"], name="segment_way_per_network")
        ]

    def __str__(self) -> str:
        return self.name or f"way {self.osm_way_id}"


class TraceQuerySet(models.QuerySet["Trace"]):
    def owned_by(self, user: object) -> "TraceQuerySet":
        return self.filter(owner=user)

    def for_city(self, city: City) -> "TraceQuerySet":
        return self.filter(city=city)


#: a processing job queued or running for longer than this is presumed lost, and may be queued again (a second
#: run only replaces the rows of the first)
STALE_JOB = timedelta(hours=1)


class TraceStatus(models.TextChoices):
    """Where a trace is in processing; `failed` carries a reason and can be retried."""

    STORED = "stored", _("not processed")
    QUEUED = "queued", _("waiting to be processed")
    PROCESSING = "processing", _("being processed")
    DONE = "done", _("processed")
    FAILED = "failed", _("processing failed")


class Trace(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="traces")
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="traces")
    name = models.CharField(_("name"), max_length=200, blank=True)
    source_format = models.CharField(max_length=16)
    consent_at = models.DateTimeField(_("consent given at"))
    consent_purpose = models.TextField(_("purpose consented to"))
    uploaded_at = models.DateTimeField(auto_now_add=True)
    n_fixes = models.PositiveIntegerField(default=0)
    n_dropped_in_zones = models.PositiveIntegerField(default=0)
    fixes_blob = models.BinaryField(_("fixes (compact columnar)"))
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    matched_with = models.CharField(max_length=32, blank=True)
    status = models.CharField(
        _("processing status"), max_length=16, choices=TraceStatus.choices, default=TraceStatus.STORED
    )
    status_reason = models.TextField(_("why processing failed"), blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    objects = TraceQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["city", "started_at"])]

    def __str__(self) -> str:
        return self.name or f"trace {self.pk}"

    @property
    def fixes(self) -> Fixes:
        return Fixes.from_bytes(bytes(self.fixes_blob))

    @property
    def can_be_processed_again(self) -> bool:
        """A failed or never-queued trace, or one whose job looks lost (queued or running for longer than
        `STALE_JOB`: a worker killed mid-job); not a done one, whose trimmed trip ends would be re-drawn."""
        if self.status in (TraceStatus.FAILED, TraceStatus.STORED):
            return True
        if self.status in (TraceStatus.QUEUED, TraceStatus.PROCESSING):
            return self.status_changed_at is None or timezone.now() - self.status_changed_at > STALE_JOB
        return False

    def _set_status(self, status: str, reason: str = "", **fields: object) -> None:
        """An UPDATE by primary key, so a job whose trace was deleted meanwhile changes nothing and fails not."""
        changes = {"status": status, "status_reason": reason, "status_changed_at": timezone.now(), **fields}
        type(self).objects.filter(pk=self.pk).update(**changes)
        for name, value in changes.items():
            setattr(self, name, value)

    def mark_queued(self) -> None:
        self._set_status(TraceStatus.QUEUED)

    def mark_processing(self) -> None:
        self._set_status(TraceStatus.PROCESSING)

    def mark_done(self, *, matched_with: str) -> None:
        self._set_status(TraceStatus.DONE, processed_at=timezone.now(), matched_with=matched_with[:32])

    def mark_failed(self, reason: str) -> None:
        self._set_status(TraceStatus.FAILED, reason=reason[:1000] or "unknown error")


class TraceBatch(models.Model):
    """One phone batch, so a retried upload with the same `batch_id` is recognised and never stored twice."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    device_key = models.ForeignKey("accounts.ApiKey", null=True, on_delete=models.SET_NULL, related_name="+")
    batch_id = models.CharField(max_length=100)
    trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="batches")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "batch_id"], name="trace_batch_once_per_owner")
        ]

    def __str__(self) -> str:
        return f"batch {self.batch_id}"


class TraceSession(models.Model):
    """A phone's recording session: every batch the owner sends with the same `session_id` extends one trace.

    The row outlives its trace (`trace` becomes NULL when the owner deletes it), so a phone still sending
    batches of a deleted session is refused instead of silently starting the trace again. It holds no
    position. `trim_seed` makes reprocessing after each batch draw the same trimmed trip ends again (fresh
    draws, averaged, would undo the trimming).
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_id = models.CharField(max_length=100)
    device_key = models.ForeignKey("accounts.ApiKey", null=True, on_delete=models.SET_NULL, related_name="+")
    trace = models.OneToOneField(
        Trace, null=True, blank=True, on_delete=models.SET_NULL, related_name="session"
    )
    trim_seed = models.BigIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "session_id"], name="trace_session_once_per_owner")
        ]

    def __str__(self) -> str:
        return f"session {self.session_id}"


class PrivacyZone(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="privacy_zones"
    )
    label = models.CharField(_("label"), max_length=120)
    lat = models.FloatField()
    lon = models.FloatField()
    radius_m = models.FloatField(_("radius (m)"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.label

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.lat, self.lon, self.radius_m)


class StayPoint(models.Model):
    trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="staypoints")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    lat = models.FloatField()
    lon = models.FloatField()
    is_activity = models.BooleanField(default=False)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"stay point {self.pk} at {self.started_at:%Y-%m-%d %H:%M}"


class TripQuerySet(models.QuerySet["Trip"]):
    def for_city(self, city: City) -> "TripQuerySet":
        return self.filter(trace__city=city)

    def between(self, since: object | None, until: object | None) -> "TripQuerySet":
        qs = self
        if since is not None:
            qs = qs.filter(started_at__gte=since)
        if until is not None:
            qs = qs.filter(started_at__lt=until)
        return qs


class Trip(models.Model):
    trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="trips")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    origin_lat = models.FloatField(null=True)
    origin_lon = models.FloatField(null=True)
    destination_lat = models.FloatField(null=True)
    destination_lon = models.FloatField(null=True)
    # Ends for aggregation: after trimming 200-500 m off each end (see the module docstring).
    origin_neighbourhood = models.ForeignKey(
        Neighbourhood, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    destination_neighbourhood = models.ForeignKey(
        Neighbourhood, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    origin_h3 = models.CharField(max_length=16, blank=True)
    destination_h3 = models.CharField(max_length=16, blank=True)
    modes = models.JSONField(default=list)
    main_mode = models.CharField(max_length=16, blank=True)
    distance_m = models.FloatField(default=0.0)

    objects = TripQuerySet.as_manager()

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"trip {self.pk} at {self.started_at:%Y-%m-%d %H:%M}"


class Tripleg(models.Model):
    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="triplegs")
    mode = models.CharField(max_length=16, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    distance_m = models.FloatField(default=0.0)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"{self.mode or 'leg'} {self.pk}"


class MatchedSegment(models.Model):
    tripleg = models.ForeignKey(Tripleg, on_delete=models.CASCADE, related_name="segments")
    segment = models.ForeignKey(
        StreetSegment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    osm_way_id = models.BigIntegerField()
    entered_at = models.DateTimeField()
    duration_s = models.FloatField()
    length_m = models.FloatField()
    speed_mps = models.FloatField(null=True)
    in_trip_end = models.BooleanField(
        default=False, help_text=_("wholly inside the trimmed ends of a trip: not aggregated")
    )

    class Meta:
        ordering = ["entered_at"]
        indexes = [models.Index(fields=["osm_way_id", "entered_at"])]

    def __str__(self) -> str:
        return f"way {self.osm_way_id} at {self.entered_at:%H:%M:%S}"
