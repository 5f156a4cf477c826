"""Mobility pages: "My trips" (upload with consent, export, delete, privacy zones) and the planner view of the
published aggregates. Each view parses a form, calls one service and renders; service errors become form errors
on the named field with the error's 4xx status. Every form is a plain POST (no script needed)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from smartip.cities.models import City
from smartip.core.errors import DomainError, NotFound
from smartip.mobility import services
from smartip.mobility.models import PrivacyZone

KIND_LABELS = {
    "segments": gettext_lazy("Trips per street, mode and hour"),
    "speeds": gettext_lazy("Median speed per street"),
    "hotspots": gettext_lazy("Delay hotspots"),
    "od-neighbourhoods": gettext_lazy("Trips between neighbourhoods"),
    "od-h3": gettext_lazy("Trips between H3 cells"),
    "mode-share": gettext_lazy("Mode share per neighbourhood"),
}


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Trace file (GPX, GeoJSON, CSV or PLT)"))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)
    purpose = forms.CharField(
        label=gettext_lazy("What may the city use it for?"),
        initial=gettext_lazy(
            "Improving streets and public transport (only published in groups of 5+ people)"
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    consent = forms.BooleanField(
        label=gettext_lazy("I agree that this trace is stored and processed for this purpose"), required=False
    )


class ZoneForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Label"), max_length=120, initial=gettext_lazy("Home"))
    lat = forms.FloatField(label=gettext_lazy("Latitude"))
    lon = forms.FloatField(label=gettext_lazy("Longitude"))
    radius_m = forms.FloatField(label=gettext_lazy("Radius (m)"), initial=300)


def _city(request: HttpRequest) -> City:
    city = getattr(request, "city", None)
    if city is None:
        raise Http404(_("No city is set up yet."))
    return city


def _form_error(form: forms.Form, exc: DomainError) -> int:
    field = exc.field or ""
    form.add_error(field if field in form.fields else None, exc.message)
    return exc.status


def _own(call: Any, **kwargs: Any) -> Any:
    """Run a service on the user's own object; someone else's (or a missing) one is a 404 page."""
    try:
        return call(**kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _mine(request: HttpRequest, upload: UploadForm, zone: ZoneForm, status: int = 200) -> HttpResponse:
    ctx = {
        "traces": services.my_traces(owner=request.user),  # type: ignore[arg-type]
        "zones": PrivacyZone.objects.filter(owner=request.user),  # type: ignore[misc]
        "upload_form": upload,
        "zone_form": zone,
    }
    return render(request, "mobility/mine.html", ctx, status=status)


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    return _mine(request, UploadForm(), ZoneForm())


@login_required
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    from smartip.mobility.readers import format_for

    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _mine(request, form, ZoneForm(), status=400)
    data = form.cleaned_data
    try:
        fixes = services.read_upload(data["file"].read(), format_for(data["file"].name))
        trace = services.upload_trace(
            owner=request.user,  # type: ignore[arg-type]
            city=_city(request),
            fixes=fixes,
            source_format=format_for(data["file"].name),
            consent=bool(data["consent"]),
            purpose=data["purpose"],
            name=data["name"] or data["file"].name,
        )
    except DomainError as exc:
        return _mine(request, form, ZoneForm(), status=_form_error(form, exc))
    messages.success(request, _("Trace stored: %(n)d points.") % {"n": trace.n_fixes})
    return redirect("mobility:trace", pk=trace.pk)


@login_required
def trace(request: HttpRequest, pk: int) -> HttpResponse:
    t = _own(services.get_own_trace, owner=request.user, trace_id=pk)
    return render(request, "mobility/trace.html", {"trace": t, "trips": t.trips.prefetch_related("triplegs")})


@login_required
def export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in ("gpx", "geojson"):
        raise Http404(_("Export as gpx or geojson."))
    content, media_type = _own(services.export_trace, owner=request.user, trace_id=pk, fmt=fmt)
    response = HttpResponse(content, content_type=media_type)
    response["Content-Disposition"] = f'attachment; filename="trace-{pk}.{fmt}"'
    return response


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    _own(services.delete_trace, owner=request.user, trace_id=pk)
    messages.success(request, _("The trace and everything derived from it are deleted."))
    return redirect("mobility:mine")


@login_required
@require_POST
def zone_add(request: HttpRequest) -> HttpResponse:
    form = ZoneForm(request.POST)
    if not form.is_valid():
        return _mine(request, UploadForm(), form, status=400)
    try:
        services.create_zone(owner=request.user, **form.cleaned_data)  # type: ignore[arg-type]
    except DomainError as exc:
        return _mine(request, UploadForm(), form, status=_form_error(form, exc))
    messages.success(request, _("Privacy zone added: points inside it are dropped before storage."))
    return redirect("mobility:mine")


@login_required
@require_POST
def zone_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _own(services.delete_zone, owner=request.user, zone_id=pk)
    return redirect("mobility:mine")


@login_required
def planner(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    if not services.can_see_aggregates(request.user, city):  # type: ignore[arg-type]
        raise PermissionDenied(_("Mobility aggregates are for the city's analysts and administrators."))
    kind = request.GET.get("kind", "segments")
    if kind not in services.AGGREGATE_KINDS:
        kind = "segments"
    cells = services.aggregates_for(user=request.user, city=city, kind=kind)  # type: ignore[arg-type]
    ctx: dict[str, Any] = {
        "city": city,
        "kind": kind,
        "kinds": [(k, KIND_LABELS[k]) for k in services.AGGREGATE_KINDS],
        "columns": services.AGGREGATE_COLUMNS[kind],
        "rows": [[c.get(col, "") for col in services.AGGREGATE_COLUMNS[kind]] for c in cells[:500]],
        "n_cells": len(cells),
        "min_people": services.min_people(),
    }
    return render(request, "mobility/planner.html", ctx)
