"""JSON API for civic reports (/api/reports): the same services and permission rules as the pages."""

import json
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile

from smartip.accounts.auth import OPTIONAL, REQUIRED
from smartip.accounts.models import User
from smartip.cities.models import City
from smartip.cities.services import get_city
from smartip.core.errors import Forbidden, Invalid, NotFound
from smartip.reports import permissions, services
from smartip.reports.models import Category, Report
from smartip.reports.schemas import (
    AuditOut,
    CategoryOut,
    DuplicateIn,
    FlagIn,
    ModerateIn,
    ReassignIn,
    ReopenIn,
    ReportDetailOut,
    ReportIn,
    ReportOut,
    ReportPage,
    StatusIn,
    UpdateIn,
    UpdateOut,
    category_out,
    report_out,
    update_out,
)

router = Router(tags=["reports"])
# Writes run in their own savepoint: Ninja turns a domain error into a response, so the request-level
# transaction (ATOMIC_REQUESTS) would otherwise commit whatever was written before the error.
MAX_PAGE_SIZE = 100


class ListFilters(Schema):
    city: str | None = None
    status: str | None = None
    state: str | None = None
    service_code: str | None = None
    department: str | None = None
    q: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    page: int = 1
    page_size: int = 20


def _user(request: HttpRequest) -> User | None:
    user = getattr(request, "auth", None)
    if isinstance(user, User):
        return user
    return request.user if request.user.is_authenticated else None  # type: ignore[return-value]


def _category(city: City, service_code: str) -> Category:
    category = (
        Category.objects.filter(city=city, service_code=service_code).select_related("department").first()
    )
    if category is None:
        raise Invalid(f"unknown service_code {service_code!r} in {city}", field="service_code")
    return category


def _report(request: HttpRequest, report_id: int) -> Report:
    report = Report.objects.with_related().filter(pk=report_id).first()
    if report is None or not permissions.can_view(_user(request), report):
        raise NotFound(f"no report {report_id}", field="report_id")
    return report


def _page(qs: Any, filters: ListFilters) -> dict[str, Any]:
    if filters.page < 1 or not (1 <= filters.page_size <= MAX_PAGE_SIZE):
        raise Invalid(f"page must be >= 1 and page_size 1..{MAX_PAGE_SIZE}", field="page_size")
    start = (filters.page - 1) * filters.page_size
    rows = qs.prefetch_related("photos")[start : start + filters.page_size]
    return {
        "count": qs.count(),
        "page": filters.page,
        "page_size": filters.page_size,
        "results": [report_out(r) for r in rows],
    }


def _search_args(filters: ListFilters) -> dict[str, Any]:
    return dict(
        status=filters.status,
        state=filters.state,
        service_code=filters.service_code,
        start=filters.start,
        end=filters.end,
        lat=filters.lat,
        lon=filters.lon,
        radius_m=filters.radius_m,
        department=filters.department,
        q=filters.q,
    )


def _detail(request: HttpRequest, report: Report) -> dict[str, Any]:
    user = _user(request)
    internal = permissions.can_view_internal(user, report)
    out = report_out(report)
    hide_author = report.is_anonymous and report.reporter_id is not None
    timeline = []
    for update in services.timeline(report, internal=internal):
        item = update_out(update)
        if hide_author and update.author_id == report.reporter_id:
            item["author"] = ""
        timeline.append(item)
    can = {
        "support": permissions.can_support(user, report) and report.is_open,
        "flag": permissions.can_flag(user, report),
        "change_status": permissions.can_change_status(user, report),
        "comment": permissions.can_comment_public(user, report),
        "note": permissions.can_add_note(user, report),
        "reassign": permissions.can_reassign(user, report),
        "reopen": permissions.can_reopen(user, report) and not report.is_open,
        "mark_duplicate": permissions.can_mark_duplicate(user, report) and report.is_open,
        "moderate": permissions.can_moderate(user, report),
        "view_internal": internal,
    }
    return {
        **out,
        "attributes": report.attributes,
        "media_url": report.media_url,
        "timeline": timeline,
        "can": can,
    }


@router.get("/categories", response=list[CategoryOut])
def categories(request: HttpRequest, city: str) -> list[dict[str, Any]]:
    qs = Category.objects.filter(city=get_city(city), is_active=True).select_related("department")
    return [category_out(c) for c in qs]


@router.get("/", response=ReportPage, auth=OPTIONAL)
def list_reports(request: HttpRequest, filters: Query[ListFilters]) -> dict[str, Any]:
    """Public search: visible reports, newest first, paginated."""
    city = get_city(filters.city) if filters.city else None
    return _page(services.search_reports(city=city, **_search_args(filters)), filters)


@router.get("/queue", response=ReportPage, auth=REQUIRED)
def queue(request: HttpRequest, filters: Query[ListFilters], flagged: bool = False) -> dict[str, Any]:
    """The staff queue: the caller's departments (all for moderators), filterable; `flagged` = pending review."""
    if not filters.city:
        raise Invalid("city is required", field="city")
    qs = services.staff_queue(
        user=_user(request),
        city=get_city(filters.city),  # type: ignore[arg-type]
        flagged=flagged,
        **_search_args(filters),
    )
    return _page(qs, filters)


@router.get("/duplicates", response=list[ReportOut])
def duplicates(
    request: HttpRequest, city: str, service_code: str, lat: float, lon: float
) -> list[dict[str, Any]]:
    """Possible duplicates to offer while reporting: open, same category, near, recent."""
    category = _category(get_city(city), service_code)
    found = services.find_duplicates(category=category, lat=lat, lon=lon)
    return [report_out(r) for r in found]


@router.post("/", response={201: ReportDetailOut}, auth=REQUIRED)
@transaction.atomic
def create(
    request: HttpRequest, payload: Form[ReportIn], photos: File[list[UploadedFile]] = None
) -> Status[dict[str, Any]]:  # type: ignore[assignment]
    """Multipart form: the fields below plus up to REPORT_MAX_PHOTOS files named `photos`."""
    city = get_city(payload.city)
    try:
        answers = json.loads(payload.attributes) if payload.attributes.strip() else {}
    except ValueError:
        raise Invalid("attributes must be a JSON object", field="attributes") from None
    if not isinstance(answers, dict):
        raise Invalid("attributes must be a JSON object", field="attributes")
    user = _user(request)
    if not permissions.can_create(user, city):
        raise Forbidden("sign in to report")
    report = services.create_report(
        city=city,
        category=_category(city, payload.service_code),
        lat=payload.lat,
        lon=payload.lon,
        description=payload.description,
        reporter=user,
        photos=photos or [],
        is_anonymous=payload.is_anonymous,
        attributes=answers,
        address=payload.address,
        contact_email=payload.contact_email,
    )
    return Status(201, _detail(request, _report(request, report.pk)))


@router.get("/{int:report_id}", response=ReportDetailOut, auth=OPTIONAL)
def detail(request: HttpRequest, report_id: int) -> dict[str, Any]:
    """One report with its public timeline (internal notes too for the city's report staff)."""
    return _detail(request, _report(request, report_id))


@router.get("/{int:report_id}/audit", response=list[AuditOut], auth=REQUIRED)
def audit(request: HttpRequest, report_id: int) -> list[dict[str, Any]]:
    report = _report(request, report_id)
    if not permissions.can_view_internal(_user(request), report):
        raise Forbidden("only this city's report staff see the audit trail")
    return [
        {
            "action": a.action,
            "actor": a.actor.username if a.actor else "",
            "changes": a.changes,
            "created_at": a.created_at,
        }
        for a in report.audit.select_related("actor")
    ]


@router.post("/{int:report_id}/support", response=ReportDetailOut, auth=REQUIRED)
@transaction.atomic
def support(request: HttpRequest, report_id: int) -> dict[str, Any]:
    report = services.support(report=_report(request, report_id), user=_user(request))  # type: ignore[arg-type]
    return _detail(request, report)


@router.post("/{int:report_id}/flag", response=ReportDetailOut, auth=REQUIRED)
@transaction.atomic
def flag(request: HttpRequest, report_id: int, payload: FlagIn) -> dict[str, Any]:
    report = services.flag(report=_report(request, report_id), by=_user(request), reason=payload.reason)  # type: ignore[arg-type]
    return _detail(request, report)


@router.post("/{int:report_id}/status", response=ReportDetailOut, auth=REQUIRED)
@transaction.atomic
def change_status(request: HttpRequest, report_id: int, payload: StatusIn) -> dict[str, Any]:
    report = services.change_status(
        report=_report(request, report_id),
        by=_user(request),  # type: ignore[arg-type]
        status=payload.status,
        reason=payload.reason,
        text=payload.text,
    )
    return _detail(request, report)


@router.post("/{int:report_id}/updates", response={201: UpdateOut}, auth=REQUIRED)
@transaction.atomic
def add_update(request: HttpRequest, report_id: int, payload: UpdateIn) -> Status[dict[str, Any]]:
    """A public update (`public: true`, notifies reporter and supporters) or an internal note."""
    update = services.add_update(
        report=_report(request, report_id),
        by=_user(request),  # type: ignore[arg-type]
        text=payload.text,
        public=payload.public,
    )
    return Status(201, update_out(update))


@router.post("/{int:report_id}/reassign", response=ReportDetailOut, auth=REQUIRED)
@transaction.atomic
def reassign(request: HttpRequest, report_id: int, payload: ReassignIn) -> dict[str, Any]:
    report = _report(request, report_id)
    department = report.city.departments.filter(slug=payload.department).first()
    if department is None:
        raise Invalid(f"no department {payload.department!r} in {report.city}", field="department")
    report = services.reassign(report=report, by=_user(request), department=department)  # type: ignore[arg-type]
    return _detail(request, report)


@router.post("/{int:report_id}/reopen", response=ReportDetailOut, auth=REQUIRED)
@transaction.atomic
def reopen(request: HttpRequest, report_id: int, payload: ReopenIn) -> dict[str, Any]:
    report = services.reopen(report=_report(request, report_id), by=_user(request), text=payload.text)  # type: ignore[arg-type]
    return _detail(request, report)


@router.post("/{int:report_id}/duplicate", response=ReportDetailOut, auth=REQUIRED)
@transaction.atomic
def mark_duplicate(request: HttpRequest, report_id: int, payload: DuplicateIn) -> dict[str, Any]:
    report = _report(request, report_id)
    original = Report.objects.filter(pk=payload.original, city=report.city).first()
    if original is None:
        raise Invalid(f"no report {payload.original} in {report.city}", field="original")
    report = services.mark_duplicate(report=report, by=_user(request), original=original)  # type: ignore[arg-type]
    return _detail(request, report)


@router.post("/{int:report_id}/moderate", response=ReportDetailOut, auth=REQUIRED)
@transaction.atomic
def moderate(request: HttpRequest, report_id: int, payload: ModerateIn) -> dict[str, Any]:
    report = services.moderate(
        report=_report(request, report_id),
        by=_user(request),  # type: ignore[arg-type]
        hide=payload.hide,
        description=payload.description,
    )
    return _detail(request, report)
