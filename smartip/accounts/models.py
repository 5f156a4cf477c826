import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smartip.cities.models import City, Department


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    MODERATOR = "moderator", _("Moderator")
    DEPARTMENT_STAFF = "department_staff", _("Department staff")
    PROCESS_MANAGER = "process_manager", _("Process manager")
    ANALYST = "analyst", _("Analyst")
    ADMIN = "admin", _("City administrator")


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    home_city = models.ForeignKey(City, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def public_name(self) -> str:
        return self.display_name or self.username

    def roles_in(self, city: City) -> set[str]:
        """Roles this user holds in a city (cached per request on the instance)."""
        cache = self.__dict__.setdefault("_roles_cache", {})
        if city.pk not in cache:
            cache[city.pk] = set(self.memberships.filter(city=city).values_list("role", flat=True))
            if self.is_superuser:
                cache[city.pk] |= {r.value for r in Role}
        return cache[city.pk]

    def departments_in(self, city: City) -> set[int]:
        return set(
            self.memberships.filter(
                city=city, role=Role.DEPARTMENT_STAFF, department__isnull=False
            ).values_list("department_id", flat=True)
        )


class Membership(models.Model):
    """A role a person holds in one city; department staff also name their department."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "city", "role", "department"], name="membership_unique"),
        ]
        verbose_name = _("role membership")
        verbose_name_plural = _("role memberships")

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.city}"


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> "ApiKeyQuerySet":
        return self.filter(revoked_at__isnull=True)


def hash_key(raw: str) -> str:
    """API keys are long random tokens, so one SHA-256 is enough (no slow KDF needed, unlike passwords)."""
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    class Kind(models.TextChoices):
        DEVELOPER = "developer", _("Developer")
        DEVICE = "device", _("Device")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.DEVELOPER)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def generate(cls, *, user: User, name: str, kind: str = "developer") -> tuple["ApiKey", str]:
        raw = "sk_" + secrets.token_urlsafe(32)
        key = cls.objects.create(user=user, name=name, kind=kind, prefix=raw[:10], key_hash=hash_key(raw))
        return key, raw

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
