from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from smartip.cities.models import City


class CityTimezoneMiddleware:
    """Pages show dates in the chosen city's time zone (?city=slug, remembered in the session)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        slug = request.GET.get("city") or request.session.get("city")
        city = City.objects.filter(slug=slug).first() if slug else None
        if city is None:  # no choice yet: a city speaking the visitor's language, else the first
            cities = list(City.objects.active())
            lang = getattr(request, "LANGUAGE_CODE", "")
            city = next((c for c in cities if c.default_language == lang), cities[0] if cities else None)
        chosen = request.GET.get("city")
        if (
            city
            and chosen == city.slug
            and hasattr(request, "session")
            and request.session.get("city") != chosen
        ):
            request.session["city"] = city.slug  # only on a change: no session write on every request
        request.city = city  # type: ignore[attr-defined]
        if city:
            timezone.activate(city.tz)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
