"""Civic report pages. Each view parses a form, calls one service and renders; htmx requests (HX-Request)
get the page's `_partial.html`, everything else the whole page, and every form also works as a plain POST.
Domain errors become form errors on the named field, with the error's 4xx status.
"""

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartip.accounts.permissions import is_city_staff
from smartip.cities.models import City
from smartip.core import geo
from smartip.core.errors import DomainError, Invalid
from smartip.reports import permissions as perms
from smartip.reports import services
from smartip.reports.forms import (
    DuplicateForm,
    FilterForm,
    FlagForm,
    ModerateForm,
    QueueFilterForm,
    ReassignForm,
    ReopenForm,
    ReportForm,
    StatusForm,
    UpdateForm,
    attribute_field_name,
)
from smartip.reports.models import Category, Report, ReportFlag, ReportUpdate, Status

PAGE_SIZE = 20
FEED_LIMIT = 2000
# service error fields → page form fields
FIELD_ALIASES = {
    "service_code": "category",
    "long": "lon",
    "name": "contact_name",
    "phone": "contact_phone",
    "email": "contact_email",
    "reason": "close_reason",
}


# --- helpers ----------------------------------------------------------------------------------------------


def _city(request: HttpRequest) -> City:
    city = getattr(request, "city", None)
    if city is None:
        raise Http404(_("No city is set up yet."))
    return city


def _is_htmx(request: HttpRequest) -> bool:
    """An htmx swap wants the partial; a history restore (back button after a cache miss) wants the page."""
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


def _render(
    request: HttpRequest, page: str, partial: str, ctx: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(request, partial if _is_htmx(request) else page, ctx, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _form_error(form: forms.Form, exc: DomainError, category: Category | None = None) -> int:
    """Attach a service error to the field it names (or to the form), and return its HTTP status."""
    field = FIELD_ALIASES.get(exc.field or "", exc.field or "")
    if field.startswith("attribute[") and category is not None:
        field = attribute_field_name(category, field[len("attribute[") : -1])
    form.add_error(field if field in form.fields else None, exc.message)
    return exc.status


def _categories(city: City) -> list[Category]:
    categories = list(Category.objects.filter(city=city, is_active=True))
    if not categories and not Category.objects.filter(city=city).exists():
        categories = [c for c in services.ensure_categories(city) if c.is_active]
    return categories


def _day_bounds(day: date | None, end: bool) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


def _search_filters(form: FilterForm) -> dict[str, Any]:
    """The service filters a valid filter form asks for (neighbourhood is applied by the caller)."""
    data = form.cleaned_data
    out: dict[str, Any] = {
        "start": _day_bounds(data.get("start"), False),
        "end": _day_bounds(data.get("end"), True),
        "q": data.get("q") or None,
    }
    if data.get("status") == "open_all":
        out["state"] = "open"
    elif data.get("status"):
        out["status"] = data["status"]
    if data.get("category"):
        out["service_code"] = form.categories[data["category"]].service_code
    return out


def _filtered(form: FilterForm, search: Callable[..., QuerySet[Report]]) -> QuerySet[Report]:
    """Run the search with the form's filters; a bad filter becomes a form error and an empty result."""
    if form.is_bound and not form.is_valid():
        return Report.objects.none()
    try:
        qs = search(**(_search_filters(form) if form.is_bound else {}))
    except DomainError as exc:
        _form_error(form, exc)
        return Report.objects.none()
    hood = form.cleaned_data.get("neighbourhood") if form.is_bound else None
    return qs.filter(neighbourhood_id=hood) if hood else qs


def _page(request: HttpRequest, qs: QuerySet[Report]) -> Page:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    return urlencode([(k, v) for k, vs in request.GET.lists() if k != "page" for v in vs])


def _filtering(request: HttpRequest, form: forms.Form) -> bool:
    """Whether any filter is set (the filter box then starts open)."""
    return bool(form.errors) or any(request.GET.get(name) for name in form.fields if name != "sort")


def _neighbourhoods(city: City) -> list[Any]:
    return list(city.neighbourhoods.only("pk", "name"))


# --- list, map feed, mine, queue --------------------------------------------------------------------------


def report_list(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    form = FilterForm(request.GET or None, categories=_categories(city), neighbourhoods=_neighbourhoods(city))
    qs = _filtered(form, lambda **f: services.search_reports(city=city, **f))
    query = _query_without_page(request)
    ctx = {
        "form": form,
        "page": _page(request, qs),
        "query": query,
        "filtering": _filtering(request, form),
        "feed_url": reverse("reports:feed") + (f"?{query}" if query else ""),
    }
    return _render(
        request, "reports/list.html", "reports/_list.html", ctx, status=400 if form.errors else 200
    )


def report_feed(request: HttpRequest) -> JsonResponse:
    """GeoJSON of the filtered reports for the map (at most FEED_LIMIT, newest first)."""
    city = _city(request)
    form = FilterForm(request.GET or None, categories=_categories(city), neighbourhoods=_neighbourhoods(city))
    qs = _filtered(form, lambda **f: services.search_reports(city=city, **f))
    rows = qs.values_list("pk", "lat", "lon", "status", "category__name")[:FEED_LIMIT]
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "id": pk,
                "url": reverse("reports:detail", args=[pk]),
                "status": status,
                "category": name,
            },
        }
        for pk, lat, lon, status, name in rows
    ]
    return JsonResponse(
        {"type": "FeatureCollection", "features": features}, status=400 if form.errors else 200
    )


@login_required
def my_reports(request: HttpRequest) -> HttpResponse:
    user = request.user
    own = Report.objects.filter(reporter=user).with_related()  # type: ignore[misc]
    supported = user.supported_reports.visible().with_related()[:50]  # type: ignore[union-attr]
    return render(request, "reports/mine.html", {"page": _page(request, own), "supported": supported})


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    if not perms.can_see_queue(request.user, city):
        raise PermissionDenied(_("Only this city's staff see the report queue."))
    form = QueueFilterForm(
        request.GET or None,
        categories=_categories(city),
        neighbourhoods=_neighbourhoods(city),
        departments=list(city.departments.all()),
    )

    def search(**filters: Any) -> QuerySet[Report]:
        data = form.cleaned_data if form.is_bound else {}
        if data.get("department"):
            filters["department"] = next(d for d in city.departments.all() if d.pk == data["department"])
        qs = services.staff_queue(user=request.user, city=city, flagged=bool(data.get("flagged")), **filters)
        if data.get("flagged"):
            # staff_queue(flagged=True) filters flags__resolved_at__isnull=True, which the LEFT JOIN also
            # matches for reports with no flag at all; require an open flag explicitly.
            open_flags = ReportFlag.objects.filter(report=OuterRef("pk"), resolved_at__isnull=True)
            qs = qs.filter(Exists(open_flags))
        if data.get("older_than_days"):
            qs = qs.filter(created_at__lte=form.created_before())
        return qs.order_by(data.get("sort") or "-created_at", "-id")

    qs = _filtered(form, search)
    query = _query_without_page(request)
    ctx = {"form": form, "page": _page(request, qs), "query": query, "filtering": _filtering(request, form)}
    return _render(
        request, "reports/queue.html", "reports/_queue.html", ctx, status=400 if form.errors else 200
    )


# --- new report and duplicates ----------------------------------------------------------------------------


def _duplicates(category: Category | None, lat: Any, lon: Any) -> list[tuple[Report, int]] | None:
    """Open reports of the category near the point, with their distance in metres (None: nothing to check)."""
    try:
        lat_f, lon_f = (float(str(v).strip().replace(",", ".")) for v in (lat, lon))  # decimal comma too
    except (TypeError, ValueError):
        return None
    if category is None:
        return None
    try:
        found = services.find_duplicates(category=category, lat=lat_f, lon=lon_f)
    except DomainError:
        return None
    return [(r, round(geo.haversine_m(lat_f, lon_f, r.lat, r.lon))) for r in found]


def duplicates(request: HttpRequest) -> HttpResponse:
    """The htmx partial offered while reporting: open reports of this category within its radius."""
    city = _city(request)
    try:
        category = Category.objects.get(city=city, pk=int(request.GET.get("category", "")), is_active=True)
    except (ValueError, Category.DoesNotExist):
        category = None
    found = _duplicates(category, request.GET.get("lat"), request.GET.get("lon"))
    return render(
        request,
        "reports/_duplicates.html",
        {"duplicates": found, "checked": found is not None, "oob": _is_htmx(request)},
    )


def _posted_initial(request: HttpRequest, form: ReportForm) -> dict[str, Any]:
    return {
        name: (
            request.POST.getlist(name)
            if isinstance(field, forms.MultipleChoiceField)
            else request.POST.get(name)
        )
        for name, field in form.fields.items()
        if name in request.POST
    }


@login_required
def report_new(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    categories = _categories(city)
    assisted = is_city_staff(request.user, city)
    form = ReportForm(request.POST or None, request.FILES or None, categories=categories, assisted=assisted)
    ctx: dict[str, Any] = {"form": form, "city": city}
    if request.method == "POST" and "check" in request.POST:
        # the no-JavaScript duplicate step: show nearby reports, keep what was typed (files must be re-chosen)
        form = ReportForm(initial=_posted_initial(request, form), categories=categories, assisted=assisted)
        category = (
            form.categories.get(int(request.POST.get("category") or 0))
            if request.POST.get("category", "").isdigit()
            else None
        )
        found = _duplicates(category, request.POST.get("lat"), request.POST.get("lon"))
        ctx.update(form=form, duplicates=found, checked=found is not None)
        return render(request, "reports/new.html", ctx)
    if request.method != "POST":
        return render(request, "reports/new.html", ctx)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        on_behalf = bool(data.get("on_behalf"))
        try:
            report = services.create_report(
                city=city,
                category=data["category_obj"],
                lat=data["lat"],
                lon=data["lon"],
                description=data["description"],
                reporter=None if on_behalf else request.user,
                photos=data.get("photos") or [],
                is_anonymous=data["is_anonymous"],
                attributes=data["attributes"],
                address=data["address"],
                contact_email=data.get("contact_email", "") if on_behalf else "",
                contact_name=data.get("contact_name", "") if on_behalf else "",
                contact_phone=data.get("contact_phone", "") if on_behalf else "",
                assisted_by=request.user if on_behalf else None,
            )
        except DomainError as exc:
            status = _form_error(form, exc, data["category_obj"])
        else:
            messages.success(
                request,
                _("Thank you. Report #%(id)s has been sent to %(dept)s.")
                % {"id": report.pk, "dept": report.department.name},
            )
            return redirect("reports:detail", pk=report.pk)
    return render(request, "reports/new.html", ctx, status=status)


# --- one report and its actions ---------------------------------------------------------------------------


def _get_report(request: HttpRequest, pk: int) -> Report:
    report = Report.objects.with_related().filter(pk=pk).first()
    if report is None or not perms.can_view(request.user, report):
        raise Http404(_("No such report."))
    return report


def _answers(report: Report) -> list[tuple[str, str]]:
    """The category questions and the reporter's answers, as (question, answer text)."""
    out = []
    for attr in sorted(report.category.attributes or [], key=lambda a: a.get("order", 0)):
        value = (report.attributes or {}).get(attr.get("code"))
        if value in (None, "", []):
            continue
        names = {str(v["key"]): v.get("name", v["key"]) for v in attr.get("values", [])}
        values = value if isinstance(value, list) else [value]
        out.append(
            (attr.get("description") or attr["code"], ", ".join(names.get(str(v), str(v)) for v in values))
        )
    return out


def _timeline(report: Report, internal: bool) -> list[ReportUpdate]:
    """Updates with display labels: staff see who wrote what; the public sees "City staff" or "Reporter"."""
    updates = list(services.timeline(report, internal=internal))
    for update in updates:
        update.old_label = Status(update.old_status).label if update.old_status in Status.values else ""  # type: ignore[attr-defined]
        update.new_label = Status(update.new_status).label if update.new_status in Status.values else ""  # type: ignore[attr-defined]
        if update.author is None:
            label = ""
        elif update.author_id == report.reporter_id:
            label = _("Reporter")
        else:
            label = update.author.public_name if internal else _("City staff")
        update.author_label = label  # type: ignore[attr-defined]
    return updates


def _detail_context(request: HttpRequest, report: Report, **overrides: Any) -> dict[str, Any]:
    user = request.user
    internal = perms.can_view_internal(user, report)
    staff_open = report.is_open and perms.can_change_status(user, report)
    can = {
        "support": report.is_open and perms.can_support(user, report),
        "flag": perms.can_flag(user, report),
        "reopen": not report.is_open and perms.can_reopen(user, report),
        "status": staff_open,
        "update": perms.can_comment_public(user, report) or perms.can_add_note(user, report),
        "reassign": staff_open and perms.can_reassign(user, report),
        "duplicate": staff_open and perms.can_mark_duplicate(user, report),
        "moderate": perms.can_moderate(user, report),
        "internal": internal,
    }
    ctx: dict[str, Any] = {
        "report": report,
        "photos": list(report.photos.all()),
        "timeline": _timeline(report, internal),
        "answers": _answers(report),
        "can": can,
        "supported": user.is_authenticated and report.supporters.filter(pk=user.pk).exists(),
        "reporter_name": None
        if report.is_anonymous or report.reporter is None
        else report.reporter.public_name,
        "status_form": StatusForm(current=report.status) if can["status"] else None,
        "update_form": UpdateForm(
            allow_public=perms.can_comment_public(user, report),
            allow_internal=perms.can_add_note(user, report),
        )
        if can["update"]
        else None,
        "reassign_form": ReassignForm(city=report.city, initial={"department": report.department_id})
        if can["reassign"]
        else None,
        "duplicate_form": DuplicateForm() if can["duplicate"] else None,
        "moderate_form": ModerateForm(
            initial={"visibility": "hide" if report.is_hidden else "show", "description": report.description}
        )
        if can["moderate"]
        else None,
        "flag_form": FlagForm() if can["flag"] else None,
        "reopen_form": ReopenForm() if can["reopen"] else None,
    }
    ctx.update(overrides)
    return ctx


def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get_report(request, pk)
    return _render(request, "reports/detail.html", "reports/_detail.html", _detail_context(request, report))


Perform = Callable[[Report, dict[str, Any]], Any]


def _action(
    request: HttpRequest,
    pk: int,
    *,
    allowed: Callable[[Any, Report], bool],
    form: forms.Form,
    form_key: str,
    perform: Perform,
    done: str,
) -> HttpResponse:
    """Shared shape of every report action: permission, form, one service call, then the page or partial."""
    report = _get_report(request, pk)
    if not allowed(request.user, report):
        raise PermissionDenied(_("You may not do this on this report."))
    status = 400
    if form.is_valid():
        try:
            perform(report, form.cleaned_data)
        except DomainError as exc:
            status = _form_error(form, exc)
        else:
            report = Report.objects.with_related().get(pk=pk)
            gone = not perms.can_view(request.user, report)  # e.g. hidden after the last flag needed
            if not _is_htmx(request):
                messages.success(request, done)
                return redirect("reports:list") if gone else redirect("reports:detail", pk=pk)
            if gone:
                return render(request, "reports/_notice.html", {"notice": done})
            return render(request, "reports/_detail.html", _detail_context(request, report, notice=done))
    ctx = _detail_context(request, report, **{form_key: form}, open_panel=form_key)
    return _render(request, "reports/detail.html", "reports/_detail.html", ctx, status=status)


@login_required
@require_POST
def support(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        allowed=perms.can_support,
        form=forms.Form(request.POST),
        form_key="support_form",
        perform=lambda r, d: services.support(report=r, user=request.user),
        done=_("Thank you: you are now following this report, and the city sees one more person."),
    )


@login_required
@require_POST
def flag(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        allowed=perms.can_flag,
        form=FlagForm(request.POST),
        form_key="flag_form",
        perform=lambda r, d: services.flag(report=r, by=request.user, reason=d["reason"]),
        done=_("Thank you. A moderator will look at this report."),
    )


@login_required
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        allowed=perms.can_reopen,
        form=ReopenForm(request.POST),
        form_key="reopen_form",
        perform=lambda r, d: services.reopen(report=r, by=request.user, text=d["text"]),
        done=_("The report is open again."),
    )


@login_required
@require_POST
def change_status(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get_report(request, pk)
    return _action(
        request,
        pk,
        allowed=perms.can_change_status,
        form=StatusForm(request.POST, current=report.status),
        form_key="status_form",
        perform=lambda r, d: services.change_status(
            report=r, by=request.user, status=d["status"], reason=d["close_reason"], text=d["text"]
        ),
        done=_("Status changed."),
    )


@login_required
@require_POST
def add_update(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get_report(request, pk)
    form = UpdateForm(
        request.POST,
        allow_public=perms.can_comment_public(request.user, report),
        allow_internal=perms.can_add_note(request.user, report),
    )
    return _action(
        request,
        pk,
        allowed=lambda u, r: bool(form.fields["visibility"].choices),
        form=form,
        form_key="update_form",
        perform=lambda r, d: services.add_update(
            report=r, by=request.user, text=d["text"], public=d["visibility"] == "public"
        ),
        done=_("Update added."),
    )


@login_required
@require_POST
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get_report(request, pk)
    return _action(
        request,
        pk,
        allowed=perms.can_reassign,
        form=ReassignForm(request.POST, city=report.city),
        form_key="reassign_form",
        perform=lambda r, d: services.reassign(report=r, by=request.user, department=d["department"]),
        done=_("Report sent to another department."),
    )


def _mark_duplicate(request: HttpRequest, report: Report, original_pk: int) -> None:
    original = Report.objects.filter(city=report.city, pk=original_pk).first()
    if original is None:
        raise Invalid(_("There is no report #%(id)s in this city.") % {"id": original_pk}, field="original")
    services.mark_duplicate(report=report, by=request.user, original=original)  # type: ignore[arg-type]


@login_required
@require_POST
def mark_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        allowed=perms.can_mark_duplicate,
        form=DuplicateForm(request.POST),
        form_key="duplicate_form",
        perform=lambda r, d: _mark_duplicate(request, r, d["original"]),
        done=_("Marked as a duplicate; its followers now follow the original."),
    )


@login_required
@require_POST
def moderate(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        allowed=perms.can_moderate,
        form=ModerateForm(request.POST),
        form_key="moderate_form",
        perform=lambda r, d: services.moderate(
            report=r, by=request.user, hide=d["visibility"] == "hide", description=d["description"]
        ),
        done=_("Moderation saved."),
    )
