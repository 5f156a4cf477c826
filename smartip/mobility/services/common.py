"""Small helpers shared by the mobility services: settings with defaults, timestamps, constants."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings

H3_RES = 8
#: pipeline mode labels the matcher spells differently (the classifier cannot tell a bus from a tram)
MATCH_MODE = {"bus/tram": "bus"}


def setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def min_people() -> int:
    return int(setting("MOBILITY_MIN_PEOPLE", 5))


def utc(t_s: float) -> datetime:
    """A UTC datetime from POSIX seconds (the pipeline's time unit)."""
    return datetime.fromtimestamp(float(t_s), tz=UTC)
