"""Who writes through SensorThings: an API key (``X-API-Key``, or HTTP Basic with the key as password, which is
what ``frost-sta-client``'s ``AuthHandler`` sends) or a logged-in session. Reading is public.

A Thing (one of our sensors) may be written by its own key, a device key linked to it, its owner (any of the
owner's keys or session) or an administrator of its city — one rule, :func:`can_write_thing`.
"""

import base64
import binascii
from dataclasses import dataclass

from django.http import HttpRequest

from smartip.accounts.models import ApiKey, User, hash_key
from smartip.accounts.permissions import has_role
from smartip.core.errors import Forbidden, Unauthorized
from smartip.sensing.models import Sensor


@dataclass(frozen=True)
class Actor:
    user: User
    key: ApiKey | None = None
    raw_key: str | None = None


def raw_key_of(request: HttpRequest) -> str | None:
    """The key from ``X-API-Key`` or from ``Authorization: Basic`` (any user name, the key as password)."""
    raw = request.headers.get("X-API-Key")
    if raw:
        return raw.strip()
    auth = request.headers.get("Authorization", "")
    if auth[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("Authorization: not valid Basic credentials", field="Authorization") from None
        return decoded.partition(":")[2].strip() or None
    return None


def actor_of(request: HttpRequest) -> Actor | None:
    """The writer, or None when the request carries no credentials; a wrong key is refused (401)."""
    raw = raw_key_of(request)
    if raw:
        key = ApiKey.objects.active().select_related("user").filter(key_hash=hash_key(raw)).first()
        if key is not None and key.user.is_active:
            return Actor(key.user, key, raw)
        sensor = Sensor.objects.select_related("owner").filter(key_hash=hash_key(raw)).first()
        if sensor is not None and sensor.owner is not None:
            return Actor(sensor.owner, None, raw)
        raise Unauthorized("the API key is wrong or revoked", field="X-API-Key")
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Actor(user)
    return None


def can_write_thing(actor: Actor, sensor: Sensor) -> bool:
    if sensor.accepts_key(actor.raw_key, key=actor.key):
        return True
    if actor.raw_key and (actor.key is None or actor.key.kind == ApiKey.Kind.DEVICE):
        return False  # a sensor's own key or a device key writes only what accepts_key allows
    return sensor.owner_id == actor.user.pk or has_role(actor.user, sensor.city, "admin")


def require_thing(actor: Actor, sensor: Sensor, where: str) -> None:
    """May ``actor`` write to ``sensor``? A deactivated sensor takes no writes (as in the ingest)."""
    if not sensor.is_active:
        raise Forbidden(f"{where}: Thing {sensor.pk} is deactivated", field=where)
    if not can_write_thing(actor, sensor):
        raise Forbidden(f"{where}: you may not write to Thing {sensor.pk}", field=where)
