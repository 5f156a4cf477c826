"""Privacy zones: circles around places an owner keeps private; fixes inside are dropped before storage."""

from __future__ import annotations

from typing import Any

from smartip.accounts.models import User
from smartip.core.errors import Invalid, NotFound, gettext_noop
from smartip.mobility.models import PrivacyZone


def _check_zone(lat: float, lon: float, radius_m: float) -> None:
    if not -90 <= lat <= 90:
        raise Invalid(gettext_noop("lat %(lat)s is not a latitude"), field="lat", lat=lat)
    if not -180 <= lon <= 180:
        raise Invalid(gettext_noop("lon %(lon)s is not a longitude"), field="lon", lon=lon)
    if not 50 <= radius_m <= 5000:
        raise Invalid(
            gettext_noop("radius_m %(radius)s: between 50 and 5000 m"), field="radius_m", radius=radius_m
        )


def create_zone(*, owner: User, label: str, lat: float, lon: float, radius_m: float) -> PrivacyZone:
    _check_zone(lat, lon, radius_m)
    return PrivacyZone.objects.create(owner=owner, label=label, lat=lat, lon=lon, radius_m=radius_m)


def get_own_zone(*, owner: User, zone_id: int) -> PrivacyZone:
    zone = PrivacyZone.objects.filter(owner=owner, pk=zone_id).first()
    if zone is None:
        raise NotFound(gettext_noop("you have no privacy zone %(id)s"), field="zone_id", id=zone_id)
    return zone


def update_zone(*, owner: User, zone_id: int, **changes: Any) -> PrivacyZone:
    zone = get_own_zone(owner=owner, zone_id=zone_id)
    for name, value in changes.items():
        if value is not None:
            setattr(zone, name, value)
    _check_zone(zone.lat, zone.lon, zone.radius_m)
    zone.save()
    return zone


def delete_zone(*, owner: User, zone_id: int) -> None:
    get_own_zone(owner=owner, zone_id=zone_id).delete()
