"""Shared page helpers: htmx-or-page rendering, service errors as form errors, money, the process
from the URL, phases with dates."""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from smartip.budgeting import services
from smartip.budgeting.models import (
    PHASE_ORDER,
    BudgetArea,
    Phase,
    Process,
)
from smartip.cities.models import City, Neighbourhood
from smartip.core.errors import DomainError

COMPARED_RULES = ("greedy", "mes-add1-greedy", "phragmen")
PUBLIC_RESULTS = (Phase.RESULTS, Phase.DELIVERY)
SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


def _render(
    request: HttpRequest, page: str, ctx: dict[str, Any], status: int = 200, partial: str | None = None
) -> HttpResponse:
    """The whole page, or (for htmx) `budgeting/_<page>.html`."""
    name = partial or page.replace("budgeting/", "budgeting/_")
    htmx = _is_htmx(request)
    response = render(request, name if htmx else page, {**ctx, "is_htmx": htmx}, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _form_error(form: forms.Form, exc: DomainError) -> int:
    """Attach a service error to the field it names (or to the whole form) and return its HTTP status."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)
    return exc.status


def money(amount: Decimal | float | int | None, currency: str) -> str:
    """`€1,250` in the active language's number format (cents only when there are any)."""
    if amount is None:
        return ""
    value = Decimal(str(amount))
    places = 0 if value == value.to_integral_value() else 2
    number = formats.number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def _get_process(request: HttpRequest, city: str, slug: str) -> Process:
    try:
        process = services.get_process(city, slug)
    except DomainError:
        raise Http404(_("No such budgeting process.")) from None
    if process.phase == Phase.DRAFT and not services.can_manage(request.user, process):
        raise Http404(_("No such budgeting process."))
    return process


def _require_manager(request: HttpRequest, process: Process) -> None:
    if not services.can_manage(request.user, process):
        raise PermissionDenied(_("Only this city's process managers may do this."))


def _process_url(process: Process, name: str = "detail") -> str:
    return reverse(f"budgeting:{name}", args=[process.city.slug, process.slug])


def _phases(process: Process) -> list[dict[str, Any]]:
    dates = {
        Phase.PROPOSALS: process.proposals_open,
        Phase.REVIEW: process.review_open,
        Phase.VOTING: process.voting_open,
        Phase.RESULTS: process.results_on,
    }
    current = PHASE_ORDER.index(process.phase)
    return [
        {
            "value": value,
            "label": Phase(value).label,
            "date": dates.get(Phase(value)),
            "until": process.voting_close if value == Phase.VOTING else None,
            "current": i == current,
            "past": i < current,
        }
        for i, value in enumerate(PHASE_ORDER)
        if value != Phase.DRAFT
    ]


def city_districts(city: City) -> list[Neighbourhood]:
    """The districts a process or a budget can be limited to."""
    return list(Neighbourhood.objects.filter(city=city).only("pk", "name", "city_id"))


def _areas(process: Process) -> list[BudgetArea]:
    return list(process.areas.all())


def _area_from(request: HttpRequest, areas: list[BudgetArea]) -> BudgetArea:
    wanted = request.POST.get("area") or request.GET.get("area")
    for area in areas:
        if str(area.pk) == wanted:
            return area
    if not areas:
        raise Http404(_("This process has no budget yet."))
    return areas[0]
