from typing import Any

from django.conf import settings
from django.http import HttpRequest

from smartip.cities.models import City
from smartip.mobility.services import can_see_aggregates
from smartip.reports.permissions import can_see_queue


def site(request: HttpRequest) -> dict[str, Any]:
    """Values every page template needs: the current city, the list of cities, map tile settings."""
    city = getattr(request, "city", None)
    user = getattr(request, "user", None)
    return {
        "current_city": city,
        "show_staff_queue": bool(city and user and user.is_authenticated and can_see_queue(user, city)),
        "show_mobility_planner": bool(
            city and user and user.is_authenticated and can_see_aggregates(user, city)
        ),
        "all_cities": City.objects.active(),
        "TILE_URL": settings.TILE_URL,
        "TILE_ATTRIBUTION": settings.TILE_ATTRIBUTION,
    }
