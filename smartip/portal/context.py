from typing import Any

from django.conf import settings
from django.http import HttpRequest

from smartip.cities.models import City


def site(request: HttpRequest) -> dict[str, Any]:
    """Values every page template needs: the current city, the list of cities, map tile settings."""
    return {
        "current_city": getattr(request, "city", None),
        "all_cities": City.objects.active(),
        "TILE_URL": settings.TILE_URL,
        "TILE_ATTRIBUTION": settings.TILE_ATTRIBUTION,
    }
