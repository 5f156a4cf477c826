"""Open311 GeoReport v2 endpoints (/open311/v2): thin views that parse, call a service, render (render.py).

Choices where the spec leaves room (see docs in tests/reports/test_open311_conformance.py):
- one endpoint serves every city; `jurisdiction_id` is the city's jurisdiction id or slug. When it is absent
  (or empty), POST picks the city containing lat/long, services need it (or a lat/long) unless a single city is
  served, and GET requests searches every city;
- every service is `realtime`: POST answers with `service_request_id` (200); each request also gets a token,
  readable at tokens/{token};
- a description over 4,000 characters, or containing HTML, is refused (400), never truncated;
- `address_string` alone is refused (400): this server does not geocode, send lat and long;
- extensions: `page`/`page_size`, `lat`/`long`/`radius` (metres, default 1000) and `extensions=true`
  (`attributes`, public `notes`; internal notes never) on GET requests, and photo upload
  as multipart `media` (up to REPORT_MAX_PHOTOS files) on POST.
"""

import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from smartip.accounts.auth import user_for_key
from smartip.cities.models import City
from smartip.core.errors import DomainError, Forbidden, Invalid, NotFound
from smartip.reports import services
from smartip.reports.attributes import open311_definition
from smartip.reports.models import OPEN_STATES, Category, CloseReason, ReportPhoto, ReportUpdate, ServiceToken
from smartip.reports.open311 import params
from smartip.reports.open311.render import CONTENT_TYPES, SPEC, errors_body, render

FORMATS = ("xml", "json")
CHANGESET = "2026-11-25 00:00"
View = Callable[..., HttpResponse]


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def _response(fmt: str, root: str, value: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(render(fmt, root, value), status=status, content_type=CONTENT_TYPES[fmt])


def _error(fmt: str, status: int, description: str) -> HttpResponse:
    fmt = fmt if fmt in FORMATS else "xml"
    return HttpResponse(
        errors_body(fmt, [(status, description)]), status=status, content_type=CONTENT_TYPES[fmt]
    )


def open311(methods: tuple[str, ...] = ("GET",)) -> Callable[[View], View]:
    """Format check, method check, and every error mapped once to the spec's error list (404/403/400)."""

    def wrap(view: View) -> View:
        def handler(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            if fmt not in FORMATS:
                return _error("xml", 404, f"unknown format {fmt!r}; use .xml or .json")
            if request.method not in methods:
                return _error(fmt, 405, f"{request.method} is not allowed here; use {' or '.join(methods)}")
            try:
                return view(request, fmt, **kwargs)
            except Open311Error as exc:
                return _error(fmt, exc.status, exc.description)
            except (Forbidden, DomainError) as exc:
                status = 404 if isinstance(exc, NotFound) else 403 if exc.status in (401, 403) else 400
                where = f"{exc.field}: " if exc.field and not exc.message.startswith(exc.field) else ""
                return _error(fmt, status, where + exc.message)

        handler.__name__ = view.__name__
        handler.__doc__ = view.__doc__
        return csrf_exempt(handler)

    return wrap


def _param(request: HttpRequest, name: str) -> str | None:
    """Body first (POST), then the query string; empty counts as absent."""
    return params.present(request.POST.get(name)) or params.present(request.GET.get(name))


def _city(
    request: HttpRequest, *, point: tuple[float, float] | None = None, required: bool = True
) -> City | None:
    jurisdiction = _param(request, "jurisdiction_id")
    if jurisdiction:
        city = City.objects.active().by_jurisdiction(jurisdiction).first()
        if city is None:
            raise Open311Error(404, f"jurisdiction_id {jurisdiction!r} not found")
        return city
    cities = list(City.objects.active())
    if point is not None:
        inside = [c for c in cities if c.contains(*point)]
        if inside:
            return inside[0]
        if required:
            raise Invalid(f"({point[0]}, {point[1]}) is not inside any jurisdiction served here", field="lat")
    if len(cities) == 1:
        return cities[0]
    if required:
        ids = ", ".join(c.jurisdiction_id for c in cities)
        raise Open311Error(400, f"jurisdiction_id is required (one of: {ids})")
    return None


def _service_item(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.service_code,
        "service_name": category.name,
        "description": category.description,
        "metadata": category.has_metadata,
        "type": "realtime",
        "keywords": category.keywords,
        "group": category.group,
    }


REQUEST_COLUMNS = (
    "pk",
    "status",
    "status_notes",
    "close_reason",
    "category__name",
    "category__service_code",
    "description",
    "department__name",
    "created_at",
    "updated_at",
    "expected_at",
    "address",
    "lat",
    "lon",
    "media_url",
    "city__timezone",
)


def _request_items(request: HttpRequest, reports: Any) -> list[dict[str, Any]]:
    """Open311 requests from plain rows (values(), no model instances: lists stay fast) and one photo query.
    With `extensions=true`: `attributes` (answers with their labels) and `notes` (public updates), one more query."""
    extended = (_param(request, "extensions") or "").lower() == "true"
    columns = (*REQUEST_COLUMNS, "attributes", "category__attributes") if extended else REQUEST_COLUMNS
    rows = list(reports.values(*columns))
    if not rows:
        return []
    ids = [r["pk"] for r in rows]
    photos = ReportPhoto.objects.filter(report_id__in=ids).order_by("-id")
    first_photo = dict(photos.values_list("report_id", "image"))
    items = [_request_item(request, row, first_photo.get(row["pk"])) for row in rows]
    if extended:
        notes = _public_notes(ids)
        for item, row in zip(items, rows, strict=True):
            item["attributes"] = _answers(row)
            item["notes"] = notes.get(row["pk"], [])
    return items


def _answers(row: dict[str, Any]) -> list[dict[str, Any]]:
    labels = {d["code"]: d.get("description", d["code"]) for d in row["category__attributes"] or []}
    out = []
    for code, value in (row["attributes"] or {}).items():
        text = ",".join(value) if isinstance(value, list) else str(value)
        out.append({"label": labels.get(code, code), "name": code, "value": text, "code": code})
    return out


def _public_notes(ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    notes: dict[int, list[dict[str, Any]]] = {}
    updates = ReportUpdate.objects.filter(report_id__in=ids, is_public=True).order_by("created_at", "id")
    for report_id, created, kind, text, new_status in updates.values_list(
        "report_id", "created_at", "kind", "text", "new_status"
    ):
        description = text or (f"status: {new_status}" if new_status else kind)
        notes.setdefault(report_id, []).append(
            {"datetime": created, "description": description, "type": kind}
        )
    return notes


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _request_item(request: HttpRequest, row: dict[str, Any], photo: str | None) -> dict[str, Any]:
    tz = _zone(row["city__timezone"])
    media = request.build_absolute_uri(default_storage.url(photo)) if photo else (row["media_url"] or None)
    notes = row["status_notes"] or (
        str(CloseReason(row["close_reason"]).label) if row["close_reason"] else None
    )
    return {
        "service_request_id": str(row["pk"]),
        "status": "open" if row["status"] in OPEN_STATES else "closed",
        "status_notes": notes,
        "service_name": row["category__name"],
        "service_code": row["category__service_code"],
        "description": row["description"],
        "agency_responsible": row["department__name"],
        "service_notice": None,
        "requested_datetime": row["created_at"].astimezone(tz),
        "updated_datetime": row["updated_at"].astimezone(tz),
        "expected_datetime": row["expected_at"].astimezone(tz) if row["expected_at"] else None,
        "address": row["address"],
        "address_id": None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": media,
    }


@open311()
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """Service discovery: this one endpoint, both formats."""
    url = request.build_absolute_uri("/open311/v2/").rstrip("/")
    body = {
        "changeset": CHANGESET,
        "contact": "SMARTiP Open311 endpoint; see the city's contact page",
        "key_service": request.build_absolute_uri("/accounts/"),
        "endpoints": [
            {
                "specification": SPEC,
                "url": url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _response(fmt, "discovery", body)


def _point_param(request: HttpRequest) -> tuple[float, float] | None:
    return params.parse_location(_param(request, "lat"), _param(request, "long"))


@open311()
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    city = _city(request, point=_point_param(request))
    categories = Category.objects.filter(city=city, is_active=True)
    return _response(fmt, "services", [_service_item(c) for c in categories])


@open311()
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    city = _city(request, point=_point_param(request))
    category = Category.objects.filter(city=city, service_code=service_code, is_active=True).first()
    if category is None:
        raise Open311Error(404, f"service_code {service_code!r} not found in {city}")
    body = {"service_code": category.service_code, "attributes": open311_definition(category.attributes)}
    return _response(fmt, "service_definition", body)


@open311(methods=("GET", "POST"))
def requests_resource(request: HttpRequest, fmt: str) -> HttpResponse:
    return create_request(request, fmt) if request.method == "POST" else list_requests(request, fmt)


def list_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET requests: service_request_id overrides everything; else service_code, status, dates, lat/long/radius."""
    city = _city(request, required=False)
    page = params.parse_page(_param(request, "page"), _param(request, "page_size"))
    ids = _param(request, "service_request_id")
    if ids:
        reports = services.search_reports(city=city, ids=params.parse_ids(ids))
    else:
        start, end = params.date_window(
            _param(request, "start_date"), _param(request, "end_date"), timezone.now()
        )
        point = _point_param(request)
        radius = params.parse_float(_param(request, "radius"), "radius")
        if point is None and radius is not None:
            raise Invalid("radius needs lat and long", field="radius")
        reports = services.search_reports(
            city=city,
            state=params.comma_list(_param(request, "status")) or None,
            service_code=params.comma_list(_param(request, "service_code")) or None,
            start=start,
            end=end,
            lat=point[0] if point else None,
            lon=point[1] if point else None,
            radius_m=radius,
        )
    window = reports[page.offset : page.offset + page.size]
    return _response(fmt, "service_requests", _request_items(request, window))


def create_request(request: HttpRequest, fmt: str) -> HttpResponse:
    """POST requests: api_key (body or query), service_code, lat/long, attribute[..], description, media."""
    user = user_for_key(_param(request, "api_key"))
    if user is None:
        raise Open311Error(403, "a valid api_key is required to create a request (body or query string)")
    code = _param(request, "service_code")
    if not code:
        raise Open311Error(400, "service_code is required")
    point = _point_param(request)
    if point is None:
        detail = " (this server does not geocode address_string)" if _param(request, "address_string") else ""
        raise Open311Error(400, f"a location is required: send lat and long{detail}")
    city = _city(request, point=point)
    assert city is not None
    category = (
        Category.objects.filter(city=city, service_code=code, is_active=True)
        .select_related("department")
        .first()
    )
    if category is None:
        raise Open311Error(404, f"service_code {code!r} not found in {city}")
    name = " ".join(filter(None, [_param(request, "first_name"), _param(request, "last_name")]))
    with transaction.atomic():
        report = services.create_report(
            city=city,
            category=category,
            lat=point[0],
            lon=point[1],
            description=request.POST.get("description", "").strip() or category.name,
            reporter=user,
            photos=request.FILES.getlist("media"),
            is_anonymous=True,
            attributes=params.parse_attributes(_pairs(request)),
            address=_param(request, "address_string") or "",
            contact_email=_param(request, "email") or "",
            contact_name=name,
            contact_phone=_param(request, "phone") or "",
            device_id=_param(request, "device_id") or "",
            media_url=_param(request, "media_url") or "",
        )
        ServiceToken.objects.create(report=report)
    body = [{"service_request_id": str(report.pk), "service_notice": None, "account_id": None}]
    return _response(fmt, "service_requests", body)


def _pairs(request: HttpRequest) -> list[tuple[str, str]]:
    return [(key, value) for key, values in request.POST.lists() for value in values]


@open311()
def request_detail(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    """One request, as a one-element list (the georeport client reads `[0]`)."""
    city = _city(request, required=False)
    items = []
    if service_request_id.isdigit():
        items = _request_items(request, services.search_reports(city=city, ids=[int(service_request_id)]))
    if not items:
        raise Open311Error(404, f"service_request_id {service_request_id!r} not found")
    return _response(fmt, "service_requests", items)


@open311()
def token_detail(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    city = _city(request, required=False)
    try:
        found = ServiceToken.objects.filter(token=uuid.UUID(token)).select_related("report").first()
    except ValueError:
        found = None
    if found is None or (city is not None and found.report.city_id != city.pk) or found.report.is_hidden:
        raise Open311Error(404, f"token {token!r} not found")
    return _response(
        fmt, "service_requests", [{"service_request_id": str(found.report_id), "token": str(found.token)}]
    )
