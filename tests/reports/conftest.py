"""Fixtures for civic-report tests: categories for every city, a report builder, photos and API keys."""

import io

import pytest
from PIL import Image

from smartip.accounts.models import ApiKey, Role
from tests.factories import make_user


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Named users are made per test; a slow password hash would dominate the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def categories(cities):
    """Every city's categories from its profile, keyed by city slug then service code."""
    from smartip.reports.services import ensure_categories

    return {slug: {c.service_code: c for c in ensure_categories(city)} for slug, city in cities.items()}


@pytest.fixture
def make_report(manchester, categories, users):
    """make_report(service_code="pothole", lat=..., lon=..., **kwargs) through the real service."""
    from smartip.reports.services import create_report

    def build(
        service_code="pothole",
        *,
        city=None,
        lat=None,
        lon=None,
        description="A deep hole in the road",
        reporter="citizen",
        **kwargs,
    ):
        city = city or manchester
        centre_lat, centre_lon = city.center
        attrs = kwargs.pop("attributes", {"size": "small"} if service_code == "flytipping" else None)
        return create_report(
            city=city,
            category=categories[city.slug][service_code],
            lat=centre_lat if lat is None else lat,
            lon=centre_lon if lon is None else lon,
            description=description,
            reporter=users.get(reporter) if isinstance(reporter, str) else reporter,
            attributes=attrs,
            **kwargs,
        )

    return build


def image_bytes(fmt="JPEG", size=(64, 48), exif=None, color=(200, 30, 30)):
    buf = io.BytesIO()
    img = Image.new("RGB", size, color)
    kwargs = {"exif": exif} if exif is not None else {}
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


@pytest.fixture
def api_key():
    """api_key(user) -> raw key string."""

    def make(user):
        return ApiKey.generate(user=user, name="test app")[1]

    return make


@pytest.fixture
def other_users(manchester, cities):
    """Roles beyond tests/conftest.py's `users`: staff of another department here, and another city's staff."""
    other_dept = (
        manchester.departments.exclude(pk=manchester.departments.order_by("slug").first().pk)
        .order_by("slug")
        .first()
    )
    return {
        "other_department_staff": make_user(
            "manchester_other_dept", city=manchester, role=Role.DEPARTMENT_STAFF, department=other_dept
        ),
        "other_city_admin": make_user("ghent_admin", city=cities["ghent"], role=Role.ADMIN),
        "other_city_moderator": make_user("ghent_moderator", city=cities["ghent"], role=Role.MODERATOR),
    }
