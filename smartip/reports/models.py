"""Civic reports: categories (Open311 services), reports (Open311 requests), their updates, photos, audit."""

import math
import uuid

import h3
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smartip.cities.models import City, Department, Neighbourhood
from smartip.core import geo


class Category(models.Model):
    """An Open311 service. `attributes` holds the service definition's attributes (Open311 shape)."""

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="categories")
    service_code = models.SlugField(_("service code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    group = models.CharField(_("group"), max_length=100, blank=True)
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="categories")
    duplicate_radius_m = models.PositiveIntegerField(_("duplicate radius (m)"), default=50)
    attributes = models.JSONField(_("extra attributes"), default=list, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["group", "name"]
        constraints = [models.UniqueConstraint(fields=["city", "service_code"], name="service_code_per_city")]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    @property
    def has_metadata(self) -> bool:
        return bool(self.attributes)


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    FIXED = "fixed", _("Fixed")
    CLOSED = "closed", _("Closed, not fixed")


OPEN_STATES = (Status.OPEN, Status.ACKNOWLEDGED, Status.IN_PROGRESS)


class CloseReason(models.TextChoices):
    DUPLICATE = "duplicate", _("Duplicate")
    NOT_RESPONSIBLE = "not_responsible", _("Not our responsibility")
    CANNOT_FIND = "cannot_find", _("Could not find the problem")
    NO_ACTION = "no_action", _("No further action")
    INVALID = "invalid", _("Not a valid report")


# Small circles are also narrowed by H3 cells (an indexed IN list): a lat band alone scans thousands of rows.
H3_PREFILTER_MAX_M = 1500.0


def cells_covering(lat: float, lon: float, radius_m: float, sides: int = 24) -> list[str]:
    """Res-9 cells that together contain the whole circle: every cell overlapping a polygon drawn around it
    (circumscribed, 2 % wider, so it contains the circle)."""
    outer_m = 1.02 * radius_m / math.cos(math.pi / sides)
    dlat = math.degrees(outer_m / geo.EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    ring = [
        (lat + dlat * math.cos(2 * math.pi * i / sides), lon + dlon * math.sin(2 * math.pi * i / sides))
        for i in range(sides)
    ]
    cells = h3.h3shape_to_cells_experimental(h3.LatLngPoly(ring), geo.H3_RESOLUTION, contain="overlap")
    return sorted(set(cells) | {geo.h3_cell(lat, lon)})


class ReportQuerySet(models.QuerySet["Report"]):
    def for_city(self, city: City) -> "ReportQuerySet":
        return self.filter(city=city)

    def visible(self) -> "ReportQuerySet":
        """What the public (and Open311 GET) may see."""
        return self.filter(is_hidden=False)

    def open(self) -> "ReportQuerySet":
        return self.filter(status__in=OPEN_STATES)

    def closed(self) -> "ReportQuerySet":
        return self.exclude(status__in=OPEN_STATES)

    def near(self, lat: float, lon: float, radius_m: float) -> "ReportQuerySet":
        """Bounding-box prefilter in SQL; callers needing exact circles refine with geo.haversine_m."""
        min_lat, min_lon, max_lat, max_lon = geo.bbox_around(lat, lon, radius_m)
        return self.filter(lat__gte=min_lat, lat__lte=max_lat, lon__gte=min_lon, lon__lte=max_lon)

    def within(self, lat: float, lon: float, radius_m: float) -> "ReportQuerySet":
        """Inside the circle, in SQL on any database: box prefilter (indexed), then a local flat-earth distance
        (error < 0.1 % below 10 km, far under GPS error), annotated as `distance2_m2` for ordering."""
        m_per_deg = math.radians(geo.EARTH_RADIUS_M)
        kx = m_per_deg * max(math.cos(math.radians(lat)), 1e-6)
        dy = (models.F("lat") - lat) * m_per_deg
        dx = (models.F("lon") - lon) * kx
        qs = self.near(lat, lon, radius_m)
        if radius_m <= H3_PREFILTER_MAX_M:
            qs = qs.filter(h3_cell__in=cells_covering(lat, lon, radius_m))
        return qs.annotate(
            distance2_m2=models.ExpressionWrapper(dy * dy + dx * dx, output_field=models.FloatField())
        ).filter(distance2_m2__lte=radius_m * radius_m)

    def with_related(self) -> "ReportQuerySet":
        """What list pages and APIs show, in one query (no N+1)."""
        return self.select_related("city", "category", "department", "neighbourhood", "reporter")


class Report(models.Model):
    """A citizen's report of a problem: an Open311 service request."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="reports")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="reports")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="reports")
    neighbourhood = models.ForeignKey(
        Neighbourhood, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    # contact details given without an account (Open311 POST), never shown publicly
    contact_email = models.EmailField(blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    device_id = models.CharField(max_length=200, blank=True)
    is_anonymous = models.BooleanField(_("show my name publicly? (no)"), default=False)
    assisted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Staff who entered it on the citizen's behalf"),
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    description = models.TextField(_("description"), max_length=4000)
    attributes = models.JSONField(default=dict, blank=True)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    h3_cell = models.CharField(max_length=16, db_index=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    media_url = models.URLField(
        _("media URL"),
        max_length=500,
        blank=True,
        help_text=_("A photo hosted elsewhere (Open311 media_url)"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    close_reason = models.CharField(max_length=32, choices=CloseReason.choices, blank=True)
    status_notes = models.TextField(blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    supporters = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="supported_reports"
    )
    support_count = models.PositiveIntegerField(default=0)
    flag_count = models.PositiveIntegerField(default=0)
    is_hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    expected_at = models.DateTimeField(null=True, blank=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["city", "status", "category", "created_at"], name="report_city_status_cat"),
            models.Index(fields=["city", "created_at"], name="report_city_created"),
            models.Index(fields=["city", "lat", "lon"], name="report_city_latlon"),
            models.Index(fields=["department", "status"], name="report_dept_status"),
            models.Index(fields=["city", "h3_cell"], name="report_city_h3"),
            models.Index(
                fields=["city", "is_hidden", "category", "status", "created_at"], name="report_city_vis_cat"
            ),
        ]
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self) -> str:
        return f"#{self.pk} {self.category.name}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def open311_status(self) -> str:
        """Open311 v2 knows only open and closed."""
        return "open" if self.is_open else "closed"

    @property
    def public_reporter_name(self) -> str:
        if self.is_anonymous or self.reporter is None:
            return ""
        return self.reporter.public_name


class ReportPhoto(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="reports/%Y/%m/")
    thumbnail = models.ImageField(upload_to="reports/thumbs/%Y/%m/")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"photo {self.pk} of report {self.report_id}"


class ReportUpdate(models.Model):
    """A step on the report's timeline: public updates are sent to reporter and supporters, notes are internal."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Status change")
        COMMENT = "comment", _("Public update")
        NOTE = "note", _("Internal note")
        REASSIGN = "reassign", _("Reassigned")
        REOPEN = "reopen", _("Reopened")
        DUPLICATE = "duplicate", _("Marked as duplicate")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    is_public = models.BooleanField(default=True)
    text = models.TextField(blank=True, max_length=4000)
    old_status = models.CharField(max_length=16, blank=True)
    new_status = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on report {self.report_id}"


class ReportFlag(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="flags")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "user"], name="one_flag_per_user")]

    def __str__(self) -> str:
        return f"flag on report {self.report_id}"


class AuditEntry(models.Model):
    """Every change to a report: who, when, what (old → new). Never edited or deleted by the app."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="audit")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=40)
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} on report {self.report_id}"


class ServiceToken(models.Model):
    """Open311 token for a request accepted before it has an id (we create ids at once, so a token maps to one)."""

    token = models.UUIDField(default=uuid.uuid4, unique=True)
    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="token")

    def __str__(self) -> str:
        return str(self.token)
