import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SMARTIP_SHARED", REPO_ROOT.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared/; tests that need it skip (loudly) only when the folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (expected ../shared beside the checkout)")
    return path


@pytest.fixture
def cities(db):
    from smartip.cities.services import load_cities

    return {c.slug: c for c in load_cities()}


@pytest.fixture
def manchester(cities):
    return cities["manchester"]


@pytest.fixture
def users(manchester):
    from tests.factories import role_users

    return role_users(manchester)


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.HOME = tmp_path / "home"  # tiles, networks: never inside the checkout
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.NOTIFIER = "email"
    # tests log users in by the hundred: a fast hasher (never in production settings)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def as_user(manchester):
    """as_user(user or None) -> a new test client, logged in (or not), with Manchester as the current city."""
    from django.test import Client

    def login(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        session = client.session
        session["city"] = manchester.slug
        session.save()
        return client

    return login
