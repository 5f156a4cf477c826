"""JSON API shapes for civic reports (Ninja/Pydantic), and the functions that fill them from models."""

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from smartip.reports.models import Category, Report, ReportUpdate


class CategoryOut(Schema):
    service_code: str
    name: str
    group: str
    keywords: str
    description: str
    department: str
    duplicate_radius_m: int
    attributes: list[dict[str, Any]]


class PhotoOut(Schema):
    url: str
    thumbnail_url: str
    width: int
    height: int


class ReportOut(Schema):
    id: int
    city: str
    service_code: str
    category: str
    department: str
    status: str
    status_label: str
    close_reason: str
    description: str
    lat: float
    lon: float
    address: str
    neighbourhood: str | None
    reporter_name: str
    support_count: int
    duplicate_of: int | None
    is_hidden: bool
    created_at: datetime
    updated_at: datetime
    photos: list[PhotoOut]


class UpdateOut(Schema):
    id: int
    kind: str
    text: str
    is_public: bool
    old_status: str
    new_status: str
    author: str
    created_at: datetime


class ReportDetailOut(ReportOut):
    attributes: dict[str, Any]
    media_url: str
    timeline: list[UpdateOut]
    can: dict[str, bool] = Field(
        description="What the caller may do with this report (drives the page's buttons)."
    )


class ReportPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[ReportOut]


class ReportIn(Schema):
    city: str
    service_code: str
    lat: float
    lon: float
    description: str = Field(max_length=4000)
    is_anonymous: bool = False
    address: str = ""
    attributes: str = Field("", description='JSON object of attribute answers, e.g. {"size": "small"}')
    contact_email: str = ""


class StatusIn(Schema):
    status: str
    reason: str = ""
    text: str = ""


class UpdateIn(Schema):
    text: str
    public: bool = True


class ReassignIn(Schema):
    department: str = Field(description="Department slug in the report's city")


class ReopenIn(Schema):
    text: str = ""


class DuplicateIn(Schema):
    original: int


class FlagIn(Schema):
    reason: str = ""


class ModerateIn(Schema):
    hide: bool | None = None
    description: str | None = None


class AuditOut(Schema):
    action: str
    actor: str
    changes: dict[str, Any]
    created_at: datetime


def category_out(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.service_code,
        "name": category.name,
        "group": category.group,
        "keywords": category.keywords,
        "description": category.description,
        "department": category.department.slug,
        "duplicate_radius_m": category.duplicate_radius_m,
        "attributes": category.attributes,
    }


def report_out(report: Report) -> dict[str, Any]:
    """Expects `with_related()` and prefetched photos for lists (no per-row queries)."""
    return {
        "id": report.pk,
        "city": report.city.slug,
        "service_code": report.category.service_code,
        "category": report.category.name,
        "department": report.department.slug,
        "status": report.status,
        "status_label": str(report.get_status_display()),
        "close_reason": report.close_reason,
        "description": report.description,
        "lat": report.lat,
        "lon": report.lon,
        "address": report.address,
        "neighbourhood": report.neighbourhood.name if report.neighbourhood else None,
        "reporter_name": report.public_reporter_name,
        "support_count": report.support_count,
        "duplicate_of": report.duplicate_of_id,
        "is_hidden": report.is_hidden,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
        "photos": [
            {"url": p.image.url, "thumbnail_url": p.thumbnail.url, "width": p.width, "height": p.height}
            for p in report.photos.all()
        ],
    }


def update_out(update: ReportUpdate) -> dict[str, Any]:
    return {
        "id": update.pk,
        "kind": update.kind,
        "text": update.text,
        "is_public": update.is_public,
        "old_status": update.old_status,
        "new_status": update.new_status,
        "author": update.author.public_name if update.author else "",
        "created_at": update.created_at,
    }
