from functools import cached_property
from zoneinfo import ZoneInfo

from django.db import models
from django.utils.translation import gettext_lazy as _

from smartip.cities.profile import CityProfile
from smartip.core import geo


class CityQuerySet(models.QuerySet["City"]):
    def active(self) -> "CityQuerySet":
        return self.filter(is_active=True)

    def by_jurisdiction(self, jurisdiction_id: str) -> "CityQuerySet":
        """A city is selected by its slug or by the jurisdiction_id its profile declares."""
        return self.filter(models.Q(slug=jurisdiction_id) | models.Q(jurisdiction_id=jurisdiction_id))


class City(models.Model):
    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    country = models.CharField(_("country code"), max_length=2)
    timezone = models.CharField(_("time zone"), max_length=64)
    languages = models.JSONField(_("languages"), default=list, help_text=_("First is the default."))
    jurisdiction_id = models.CharField(_("Open311 jurisdiction id"), max_length=120, unique=True)
    min_lat = models.FloatField()
    min_lon = models.FloatField()
    max_lat = models.FloatField()
    max_lon = models.FloatField()
    profile_overrides = models.JSONField(_("profile"), default=dict, blank=True)
    is_active = models.BooleanField(default=True)

    objects = CityQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("city")
        verbose_name_plural = _("cities")

    def __str__(self) -> str:
        return self.name

    @cached_property
    def profile(self) -> CityProfile:
        return CityProfile.from_overrides(self.profile_overrides)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else "en"

    @property
    def center(self) -> tuple[float, float]:
        return (self.min_lat + self.max_lat) / 2, (self.min_lon + self.max_lon) / 2

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon

    def neighbourhood_at(self, lat: float, lon: float) -> "Neighbourhood | None":
        for hood in self.neighbourhoods.all():
            if hood.contains(lat, lon):
                return hood
        return None


class Department(models.Model):
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="departments")
    slug = models.SlugField()
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["city", "slug"], name="department_slug_per_city")]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return f"{self.name} ({self.city.name})"


class Neighbourhood(models.Model):
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="neighbourhoods")
    code = models.CharField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    geometry = models.JSONField(_("geometry"), help_text=_("GeoJSON Polygon or MultiPolygon"))
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    deprivation_decile = models.PositiveSmallIntegerField(
        _("deprivation decile"), null=True, blank=True, help_text=_("1 = most deprived, 10 = least")
    )
    min_lat = models.FloatField()
    min_lon = models.FloatField()
    max_lat = models.FloatField()
    max_lon = models.FloatField()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["city", "code"], name="neighbourhood_code_per_city")]
        verbose_name = _("neighbourhood")
        verbose_name_plural = _("neighbourhoods")

    def __str__(self) -> str:
        return self.name

    def contains(self, lat: float, lon: float) -> bool:
        if not (self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon):
            return False
        return geo.point_in_geometry(lat, lon, self.geometry)
