"""Civic report workflows (keyword-only service functions). Each validates all input before writing anything,
checks the permission rule of its action, records an audit entry and notifies when a public update is made.
The caller (page, API, Open311 view) owns the transaction.
"""

import re
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import models, transaction
from django.utils import timezone

from smartip.accounts.models import User
from smartip.accounts.permissions import is_city_staff
from smartip.cities.models import City, Department
from smartip.core import geo
from smartip.core.errors import Conflict, Forbidden, Invalid, gettext_noop
from smartip.core.uploads import photo_files, prepare_uploads
from smartip.reports import notify, permissions
from smartip.reports.attributes import validate_attributes
from smartip.reports.models import (
    AuditEntry,
    Category,
    CloseReason,
    Report,
    ReportFlag,
    ReportPhoto,
    ReportUpdate,
    Status,
)
from smartip.reports.photos import PreparedPhoto
from smartip.reports.selectors import check_point, find_duplicates, search_reports, staff_queue, timeline

__all__ = [
    "ensure_categories",
    "create_report",
    "find_duplicates",
    "support",
    "change_status",
    "add_update",
    "reassign",
    "reopen",
    "mark_duplicate",
    "flag",
    "moderate",
    "search_reports",
    "staff_queue",
    "timeline",
    "clean_text",
]

MAX_TEXT = 4000
_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!?]|&#?\w+;")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORWARD = [Status.OPEN, Status.ACKNOWLEDGED, Status.IN_PROGRESS]


def clean_text(text: str, *, field: str, required: bool = True, max_chars: int = MAX_TEXT) -> str:
    """Plain text only: HTML (tags or entities) and control characters are refused, not silently stripped."""
    text = (text or "").strip()
    if required and not text:
        raise Invalid(gettext_noop("%(field_name)s must not be empty"), field=field, field_name=field)
    if len(text) > max_chars:
        raise Invalid(
            gettext_noop("%(field_name)s is %(length)s characters; at most %(maximum)s"),
            field=field,
            field_name=field,
            length=len(text),
            maximum=max_chars,
        )
    found = _HTML.search(text)
    if found:
        raise Invalid(
            gettext_noop("%(field_name)s: HTML is not allowed (found %(found)s); write plain text"),
            field=field,
            field_name=field,
            found=repr(found.group(0)),
        )
    if _CONTROL.search(text):
        raise Invalid(
            gettext_noop("%(field_name)s: control characters are not allowed"), field=field, field_name=field
        )
    return text


def _audit(report: Report, actor: User | None, action: str, **changes: Any) -> None:
    AuditEntry.objects.create(report=report, actor=actor, action=action, changes=changes)


def _touch(report: Report, *fields: str) -> None:
    report.updated_at = timezone.now()
    report.save(update_fields=[*fields, "updated_at"])


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise Forbidden(message)


def ensure_categories(city: City) -> list[Category]:
    """Create or update the city's categories from its profile; departments are matched by slug."""
    departments = {d.slug: d for d in city.departments.all()}
    out = []
    for item in city.profile.categories:
        dept = departments.get(item["department"])
        if dept is None:
            raise Invalid(
                f"category {item['service_code']!r}: no department {item['department']!r} in {city}",
                field="department",
            )
        category, _ = Category.objects.update_or_create(
            city=city,
            service_code=item["service_code"],
            defaults=dict(
                name=item["name"],
                group=item.get("group", ""),
                keywords=item.get("keywords", ""),
                description=item.get("description", ""),
                department=dept,
                duplicate_radius_m=item.get("radius_m", city.profile.duplicate_radius_m),
                attributes=item.get("attributes", []),
                is_active=item.get("is_active", True),
            ),
        )
        out.append(category)
    return out


def _prepare_uploads(photos: Sequence[Any]) -> list[PreparedPhoto]:
    return prepare_uploads(
        photos,
        max_count=settings.REPORT_MAX_PHOTOS,
        max_bytes=settings.REPORT_PHOTO_MAX_BYTES,
        too_many=gettext_noop("at most %(maximum)s photos per report (%(sent)s sent)"),
    )


def _check_contact(contact_email: str, media_url: str) -> None:
    try:
        if contact_email:
            validate_email(contact_email)
    except ValidationError:
        raise Invalid(
            gettext_noop("%(email)s is not an email address"), field="email", email=repr(contact_email)
        ) from None
    try:
        if media_url:
            URLValidator(schemes=["http", "https"])(media_url)
    except ValidationError:
        raise Invalid(gettext_noop("media_url must be an http(s) URL"), field="media_url") from None


def create_report(
    *,
    city: City,
    category: Category,
    lat: float,
    lon: float,
    description: str,
    reporter: User | None = None,
    photos: Sequence[Any] = (),
    is_anonymous: bool = False,
    attributes: dict[str, Any] | None = None,
    address: str = "",
    contact_email: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    device_id: str = "",
    assisted_by: User | None = None,
    media_url: str = "",
) -> Report:
    """Validate everything, then store the report, its photos (metadata stripped) and an audit entry."""
    if category.city_id != city.pk or not category.is_active:
        raise Invalid(
            gettext_noop("%(code)s is not an active service in %(city)s"),
            field="service_code",
            code=repr(category.service_code),
            city=city,
        )
    check_point(lat, lon, city=city)
    description = clean_text(description, field="description")
    answers = validate_attributes(category.attributes, attributes)
    address = clean_text(address, field="address", required=False, max_chars=300)
    contact_name = clean_text(contact_name, field="name", required=False, max_chars=200)
    contact_phone = clean_text(contact_phone, field="phone", required=False, max_chars=40)
    device_id = clean_text(device_id, field="device_id", required=False, max_chars=200)
    _check_contact(contact_email, media_url)
    if assisted_by is not None and not is_city_staff(assisted_by, city):
        raise Forbidden(gettext_noop("only this city's staff may enter a report on someone's behalf"))
    prepared = _prepare_uploads(photos)

    report = Report.objects.create(
        city=city,
        category=category,
        department=category.department,
        neighbourhood=city.neighbourhood_at(lat, lon),
        reporter=reporter,
        contact_email=contact_email,
        contact_name=contact_name,
        contact_phone=contact_phone,
        device_id=device_id,
        is_anonymous=is_anonymous,
        assisted_by=assisted_by,
        description=description,
        attributes=answers,
        lat=lat,
        lon=lon,
        h3_cell=geo.h3_cell(lat, lon),
        address=address,
        media_url=media_url,
    )
    for photo in prepared:
        ReportPhoto.objects.create(report=report, **photo_files(photo))
    _audit(
        report,
        assisted_by or reporter,
        "created",
        status=report.status,
        category=category.service_code,
        photos=len(prepared),
        assisted=assisted_by is not None,
    )
    return report


def _public_update(
    report: Report,
    *,
    by: User | None,
    kind: str,
    text: str = "",
    old_status: str = "",
    new_status: str = "",
    public: bool = True,
) -> ReportUpdate:
    update = ReportUpdate.objects.create(
        report=report,
        author=by,
        kind=kind,
        is_public=public,
        text=text,
        old_status=old_status,
        new_status=new_status,
    )
    if public:  # sent once the change is committed: a rolled-back update never reaches anyone
        recipients = notify.recipients_for(report, update)
        transaction.on_commit(lambda: notify.notify_update(report, update, recipients))
    return update


def support(*, report: Report, user: User) -> Report:
    """ "Me too": idempotent; the count is kept on the report for lists."""
    _require(permissions.can_support(user, report), gettext_noop("you cannot support this report"))
    if not report.is_open:
        raise Conflict(gettext_noop("this report is no longer open"), field="status")
    if not report.supporters.filter(pk=user.pk).exists():
        report.supporters.add(user)
        report.support_count = report.supporters.count()
        _touch(report, "support_count")
        _audit(report, user, "supported", support_count=report.support_count)
    return report


def _check_transition(report: Report, status: str, reason: str) -> None:
    if status not in Status.values:
        raise Invalid(
            gettext_noop("unknown status %(status)s; one of %(choices)s"),
            field="status",
            status=repr(status),
            choices=Status.values,
        )
    if status == report.status:
        raise Conflict(
            gettext_noop("the report is already %(status)s"),
            field="status",
            status=report.get_status_display(),
        )
    if not report.is_open:
        raise Conflict(gettext_noop("a fixed or closed report can only be reopened"), field="status")
    if status in _FORWARD and _FORWARD.index(status) < _FORWARD.index(report.status):
        raise Conflict(
            gettext_noop("cannot go back from %(current)s to %(status)s"),
            field="status",
            current=report.status,
            status=status,
        )
    if status == Status.CLOSED and reason not in CloseReason.values:
        raise Invalid(
            gettext_noop("closing needs a reason, one of %(choices)s"),
            field="reason",
            choices=CloseReason.values,
        )
    if status != Status.CLOSED and reason:
        raise Invalid(gettext_noop("a reason is only given when closing"), field="reason")


def change_status(*, report: Report, by: User, status: str, reason: str = "", text: str = "") -> Report:
    """Move forward along open → acknowledged → in progress → fixed | closed (with a reason)."""
    _require(
        permissions.can_change_status(by, report),
        gettext_noop("only the report's department or a moderator may do this"),
    )
    _check_transition(report, status, reason)
    text = clean_text(text, field="text", required=False)
    old = report.status
    report.status, report.close_reason = status, reason
    if text:
        report.status_notes = text
    _touch(report, "status", "close_reason", "status_notes")
    _audit(report, by, "status", status=[old, status], reason=reason)
    _public_update(report, by=by, kind=ReportUpdate.Kind.STATUS, text=text, old_status=old, new_status=status)
    return report


def add_update(*, report: Report, by: User, text: str, public: bool = True) -> ReportUpdate:
    """A public update (notifies reporter and supporters) or an internal note (never shown publicly)."""
    allowed = permissions.can_comment_public(by, report) if public else permissions.can_add_note(by, report)
    _require(
        allowed,
        gettext_noop("you may not add an update here")
        if public
        else gettext_noop("only the department may add notes"),
    )
    text = clean_text(text, field="text")
    kind = ReportUpdate.Kind.COMMENT if public else ReportUpdate.Kind.NOTE
    update = _public_update(report, by=by, kind=kind, text=text, public=public)
    _touch(report)
    _audit(report, by, "comment" if public else "note", update=update.pk)
    return update


def reassign(*, report: Report, by: User, department: Department) -> Report:
    _require(
        permissions.can_reassign(by, report),
        gettext_noop("only the report's department or a moderator may reassign"),
    )
    if department.city_id != report.city_id:
        raise Invalid(
            gettext_noop("%(department)s is not a department of %(city)s"),
            field="department",
            department=department,
            city=report.city,
        )
    if department.pk == report.department_id:
        raise Conflict(gettext_noop("the report is already with this department"), field="department")
    old = report.department
    report.department = department
    _touch(report, "department")
    _audit(report, by, "reassigned", department=[old.slug, department.slug])
    _public_update(report, by=by, kind=ReportUpdate.Kind.REASSIGN, text=f"{old.name} → {department.name}")
    return report


def reopen(*, report: Report, by: User, text: str = "") -> Report:
    """ "Fixed but not fixed": the reporter or staff reopen a fixed or closed report."""
    _require(
        permissions.can_reopen(by, report), gettext_noop("only the reporter or the department may reopen")
    )
    if report.is_open:
        raise Conflict(gettext_noop("the report is still open"), field="status")
    text = clean_text(text, field="text", required=False)
    old = report.status
    report.status, report.close_reason, report.duplicate_of = Status.OPEN, "", None
    _touch(report, "status", "close_reason", "duplicate_of")
    _audit(report, by, "reopened", status=[old, Status.OPEN])
    _public_update(
        report, by=by, kind=ReportUpdate.Kind.REOPEN, text=text, old_status=old, new_status=Status.OPEN
    )
    return report


def mark_duplicate(*, report: Report, by: User, original: Report) -> Report:
    """Close as a duplicate and move its reporter and supporters onto the original (which they then follow)."""
    _require(
        permissions.can_mark_duplicate(by, report),
        gettext_noop("only the department or a moderator may do this"),
    )
    original = original.duplicate_of or original
    if original.pk == report.pk or original.city_id != report.city_id:
        raise Invalid(gettext_noop("the original must be another report of the same city"), field="original")
    if not report.is_open:
        raise Conflict(gettext_noop("only an open report can be marked as a duplicate"), field="status")
    followers = list(report.supporters.all()) + ([report.reporter] if report.reporter else [])
    merged = [u for u in followers if u.pk != original.reporter_id]
    original.supporters.add(*merged)
    original.support_count = original.supporters.count()
    _touch(original, "support_count")
    old = report.status
    report.status, report.close_reason, report.duplicate_of = Status.CLOSED, CloseReason.DUPLICATE, original
    _touch(report, "status", "close_reason", "duplicate_of")
    _audit(report, by, "duplicate", original=original.pk, status=[old, Status.CLOSED])
    _audit(original, by, "merged", duplicate=report.pk, supporters_added=[u.pk for u in merged])
    _public_update(
        report,
        by=by,
        kind=ReportUpdate.Kind.DUPLICATE,
        text=f"#{original.pk}",
        old_status=old,
        new_status=Status.CLOSED,
    )
    return report


def _hide_threshold(city: City) -> int:
    return int(city.profile_overrides.get("report_hide_after_flags", settings.REPORT_HIDE_AFTER_FLAGS))


def flag(*, report: Report, by: User, reason: str = "") -> Report:
    """One flag per person; after N open flags the report is hidden until a moderator reviews it."""
    _require(permissions.can_flag(by, report), gettext_noop("you cannot flag this report"))
    reason = clean_text(reason, field="reason", required=False, max_chars=300)
    _, created = ReportFlag.objects.get_or_create(report=report, user=by, defaults={"reason": reason})
    if not created:
        return report
    report.flag_count = models.F("flag_count") + 1
    report.save(update_fields=["flag_count"])
    report.refresh_from_db(fields=["flag_count"])
    open_flags = report.flags.filter(resolved_at__isnull=True).count()
    _audit(report, by, "flagged", reason=reason, open_flags=open_flags)
    if open_flags >= _hide_threshold(report.city) and not report.is_hidden:
        report.is_hidden = True
        _touch(report, "is_hidden")
        _audit(report, None, "hidden_pending_review", open_flags=open_flags)
    return report


def moderate(*, report: Report, by: User, hide: bool | None = None, description: str | None = None) -> Report:
    """A moderator edits the description and/or hides or shows the report; open flags count as reviewed."""
    _require(permissions.can_moderate(by, report), gettext_noop("only a moderator may moderate reports"))
    changes: dict[str, Any] = {}
    if description is not None:
        description = clean_text(description, field="description")
        if description != report.description:
            changes["description"] = [report.description, description]
            report.description = description
    if hide is not None and hide != report.is_hidden:
        changes["is_hidden"] = [report.is_hidden, hide]
        report.is_hidden = hide
    resolved = report.flags.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
    if changes:
        _touch(report, *changes)
    _audit(report, by, "moderated", flags_resolved=resolved, **changes)
    return report
