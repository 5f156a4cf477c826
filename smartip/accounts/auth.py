"""API authentication: a session (with CSRF, as Ninja does) or an `X-API-Key` header / `api_key` parameter."""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyHeader, SessionAuth

from smartip.accounts.models import ApiKey, User, hash_key


def user_for_key(raw: str | None) -> User | None:
    if not raw:
        return None
    key = ApiKey.objects.active().select_related("user").filter(key_hash=hash_key(raw.strip())).first()
    if key is None or not key.user.is_active:
        return None
    if key.last_used_at is None or (timezone.now() - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key.user


class KeyAuth(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = user_for_key(key)
        if user is not None:
            request.user = user
        return user


class OptionalAuth(KeyAuth):
    """For public endpoints that behave differently for a known user: never refuses."""

    def __call__(self, request: HttpRequest) -> Any:
        user = super().__call__(request)
        if user:
            return user
        return request.user if request.user.is_authenticated else AnonymousMarker


class _Anonymous:
    pass


AnonymousMarker = _Anonymous()

REQUIRED = [KeyAuth(), SessionAuth()]
OPTIONAL = [OptionalAuth()]
