"""Mobility pages. Citizens: upload with consent, "My trips", a trace on a map with a table alternative,
privacy zones, export and delete (with a confirm step). Planners (analysts and administrators of the city):
the published aggregates on maps and tables. Each view parses a form, calls one service and renders; service
errors become form errors on the named field with the error's 4xx status. Every form is a plain HTML form
(no script needed); htmx requests (HX-Request) get the partial template."""

from typing import Any
from urllib.parse import urlencode

import numpy as np
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from smartip.cities.models import City
from smartip.core.errors import DomainError, NotFound
from smartip.mobility import services
from smartip.mobility.fixes import haversine_m
from smartip.mobility.forms import SegmentFilterForm, UploadForm, ZoneForm
from smartip.mobility.models import PrivacyZone, Trace


def _city(request: HttpRequest) -> City:
    city = getattr(request, "city", None)
    if city is None:
        raise Http404(_("No city is set up yet."))
    return city


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


def _render(
    request: HttpRequest, page: str, ctx: dict[str, Any], partial: str | None = None, status: int = 200
) -> HttpResponse:
    city = getattr(request, "city", None)
    ctx["show_mobility_planner"] = bool(city and services.can_see_aggregates(request.user, city))
    template = partial if partial and _is_htmx(request) else page
    response = render(request, template, ctx, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _form_error(form: Form, exc: DomainError) -> int:
    """Attach a service error to the field it names (or to the whole form) and return its HTTP status."""
    field = (exc.field or "").split("[")[0]
    form.add_error(field if field in form.fields else None, exc.message)
    return exc.status


def _own(call: Any, **kwargs: Any) -> Any:
    """Run a service on the user's own object; someone else's (or a missing) one is a 404 page."""
    try:
        return call(**kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from None


# --- what the pages show (built from service results only) -------------------------------------------------

MODE_LABELS = {
    "walk": gettext_lazy("walking"),
    "bicycle": gettext_lazy("cycling"),
    "bus/tram": gettext_lazy("bus or tram"),
    "bus": gettext_lazy("bus or tram"),
    "car": gettext_lazy("car"),
    "train": gettext_lazy("train"),
}
#: page name -> aggregate kind of the service
PLANNER_VIEWS = {
    "segments": "segments",
    "od": "od-neighbourhoods",
    "od-h3": "od-h3",
    "speeds": "speeds",
    "hotspots": "hotspots",
    "mode-share": "mode-share",
}
#: views whose cells are street x mode x hour x day type, so the mode/hour/day filters apply
STREET_HOUR_VIEWS = ("segments", "speeds")
PLANNER_TITLES = {
    "segments": gettext_lazy("Street volumes by mode and time"),
    "od": gettext_lazy("Trips between neighbourhoods"),
    "od-h3": gettext_lazy("Trips between H3 cells"),
    "speeds": gettext_lazy("Median speed per street"),
    "hotspots": gettext_lazy("Delay hotspots"),
    "mode-share": gettext_lazy("Mode share per neighbourhood"),
}
MAX_MAP_POINTS = 1500
MAX_ROWS = 500


def _mode(mode: str) -> str:
    return str(MODE_LABELS.get(mode, mode or _("unknown")))


def _figures(distance_m: float, duration_s: float) -> dict[str, Any]:
    return {
        "distance_km": distance_m / 1000,
        "duration_min": duration_s / 60,
        "speed_kmh": distance_m / duration_s * 3.6 if duration_s > 0 else None,
    }


def _line(lat: np.ndarray, lon: np.ndarray, **properties: Any) -> dict[str, Any]:
    step = max(1, len(lat) // MAX_MAP_POINTS)
    coords = [[round(float(x), 6), round(float(y), 6)] for y, x in zip(lat[::step], lon[::step], strict=True)]
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": properties,
    }


def trace_context(trace: Trace) -> dict[str, Any]:
    """The trace page: figures per trip and per leg, and GeoJSON of the whole trace and of each leg."""
    fixes = trace.fixes
    length_m = float(haversine_m(fixes.lat[:-1], fixes.lon[:-1], fixes.lat[1:], fixes.lon[1:]).sum())
    features = [_line(fixes.lat, fixes.lon, kind="trace")]
    trips = []
    for trip in trace.trips.prefetch_related("triplegs"):
        legs = []
        for leg in trip.triplegs.all():
            start, end = leg.started_at.timestamp(), leg.finished_at.timestamp()
            inside = (fixes.t_s >= start) & (fixes.t_s <= end)
            if inside.sum() >= 2:
                features.append(_line(fixes.lat[inside], fixes.lon[inside], kind="leg", mode=leg.mode))
            duration_s = (leg.finished_at - leg.started_at).total_seconds()
            legs.append({"leg": leg, "mode": _mode(leg.mode), **_figures(leg.distance_m, duration_s)})
        duration_s = (trip.finished_at - trip.started_at).total_seconds()
        modes = ", ".join(dict.fromkeys(_mode(m) for m in trip.modes))
        trips.append({"trip": trip, "legs": legs, "modes": modes, **_figures(trip.distance_m, duration_s)})
    duration_s = (trace.finished_at - trace.started_at).total_seconds() if trace.started_at else 0.0
    return {
        "trace": trace,
        "trips": trips,
        "totals": _figures(length_m, duration_s),
        "geojson": {"type": "FeatureCollection", "features": features},
    }


def count_classes(counts: list[int], n: int = 4) -> list[int]:
    """Upper bounds of up to `n` colour classes (quantiles of the counts, distinct, ascending)."""
    if not counts:
        return []
    bounds = np.quantile(np.asarray(counts, dtype=float), np.linspace(0, 1, n + 1)[1:])
    return sorted({int(np.ceil(b)) for b in bounds})


def _class_of(count: int, bounds: list[int]) -> int:
    return next((i for i, b in enumerate(bounds) if count <= b), len(bounds) - 1)


def _legend(bounds: list[int], low: int) -> list[dict[str, Any]]:
    out, start = [], low
    for i, b in enumerate(bounds):
        out.append({"cls": i, "low": start, "high": b})
        start = b + 1
    return out


def _speed_classes(cells: list[dict[str, Any]], ctx: dict[str, Any]) -> None:
    """Colour classes of the median speeds in km/h, the slowest streets darkest; slowest listed first."""
    for c in cells:
        c["speed_kmh"] = c["median_speed_mps"] * 3.6
    speeds = [round(c["speed_kmh"]) for c in cells]
    bounds = count_classes(speeds)
    top = len(bounds) - 1
    for c, kmh in zip(cells, speeds, strict=True):
        c["cls"] = top - _class_of(kmh, bounds)
    cells.sort(key=lambda c: (c["speed_kmh"], c["way_id"]))
    ctx["legend"] = [{**item, "cls": top - item["cls"]} for item in _legend(bounds, min(speeds, default=0))]


def planner_context(
    *, city: City, view: str, cells: list[dict[str, Any]], filters: SegmentFilterForm
) -> dict:
    """Page context for one planner view; every figure is a published cell from `services.aggregates_for`."""
    kind = PLANNER_VIEWS[view]
    ctx: dict[str, Any] = {
        "city": city,
        "view": view,
        "kind": kind,
        "title": PLANNER_TITLES[view],
        "views": list(PLANNER_TITLES.items()),
        "min_people": services.min_people(),
        "filters": filters,
        "n_published": len(cells),
    }
    hoods = dict(city.neighbourhoods.values_list("code", "name"))
    ctx["street_filters"] = view in STREET_HOUR_VIEWS
    if view in STREET_HOUR_VIEWS:
        cells = [c for c in cells if filters.keep(c)]
        for c in cells:
            c["mode_label"] = _mode(c["mode"])
    if view == "segments":
        bounds = count_classes([c["count"] for c in cells])
        low = min((c["count"] for c in cells), default=0)
        for c in cells:
            c["cls"] = _class_of(c["count"], bounds)
        cells.sort(key=lambda c: -c["count"])
        ctx["legend"] = _legend(bounds, low)
    elif view == "speeds":
        _speed_classes(cells, ctx)
    elif view == "od-h3":
        for c in cells:
            c["origin_at"], c["destination_at"] = (
                services.h3_centre(c["origin"]),
                services.h3_centre(c["destination"]),
            )
        cells.sort(key=lambda c: (-c["count"], c["origin"], c["destination"]))
    elif view == "hotspots":
        for c in cells:
            c["delay_min"] = c["median_delay_s"] / 60
            c["free_kmh"] = c["free_flow_speed_mps"] * 3.6
            c["speed_kmh"] = c["median_speed_mps"] * 3.6
    elif view == "od":
        origins = sorted({c["origin"] for c in cells})
        destinations = sorted({c["destination"] for c in cells})
        by_pair = {(c["origin"], c["destination"]): c for c in cells}
        ctx["destinations"] = [hoods.get(d, d) for d in destinations]
        ctx["matrix"] = [(hoods.get(o, o), [by_pair.get((o, d)) for d in destinations]) for o in origins]
    elif view == "mode-share":
        by_hood: dict[str, list[dict[str, Any]]] = {}
        for c in cells:
            by_hood.setdefault(c["neighbourhood"], []).append(
                {"mode": _mode(c["mode"]), "percent": c["share"] * 100}
            )
        ctx["shares"] = [(hoods.get(code, code), rows) for code, rows in sorted(by_hood.items())]
    ctx["cells"] = cells[:MAX_ROWS]
    ctx["n_cells"] = len(cells)
    if view != "mode-share" and cells:  # the busiest drawn last, on top
        ctx["geojson"] = services.aggregates_geojson(city=city, kind=kind, cells=ctx["cells"][::-1])
    return ctx


# --- citizens -----------------------------------------------------------------------------------------------


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    traces = services.my_traces(owner=request.user).annotate(n_trips=Count("trips"))
    return _render(request, "mobility/mine.html", {"traces": traces}, partial="mobility/_traces.html")


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request, "mobility/upload.html", {"form": UploadForm()})
    from smartip.mobility.readers import format_for

    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, "mobility/upload.html", {"form": form}, status=400)
    data = form.cleaned_data
    try:
        with transaction.atomic():
            fmt = format_for(data["file"].name)
            trace = services.upload_trace(
                owner=request.user,
                city=_city(request),
                fixes=services.read_upload(data["file"].read(), fmt),
                source_format=fmt,
                consent=bool(data["consent"]),
                purpose=data["purpose"],
                name=data["name"] or data["file"].name,
            )
    except DomainError as exc:
        return _render(request, "mobility/upload.html", {"form": form}, status=_form_error(form, exc))
    messages.success(request, _("Trace stored: %(n)d points.") % {"n": trace.n_fixes})
    return redirect("mobility:trace", pk=trace.pk)


@login_required
@require_http_methods(["GET", "POST"])
def trace(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the trace with its processing status; POST: process a failed, unprocessed or stuck trace again."""
    if request.method == "POST":
        try:
            _own(services.retry_processing, owner=request.user, trace_id=pk)
        except DomainError as exc:  # already queued, running or done: the page shows which
            messages.info(request, exc.message)
        else:
            messages.success(request, _("The trace is queued for processing again."))
        return redirect("mobility:trace", pk=pk)
    t = _own(services.get_own_trace, owner=request.user, trace_id=pk)
    return _render(request, "mobility/trace.html", trace_context(t))


@login_required
def export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in ("gpx", "geojson"):
        raise Http404(_("Export as gpx or geojson."))
    content, media_type = _own(services.export_trace, owner=request.user, trace_id=pk, fmt=fmt)
    response = HttpResponse(content, content_type=media_type)
    response["Content-Disposition"] = f'attachment; filename="trace-{pk}.{fmt}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirm step; POST: delete the trace and everything derived from it."""
    if request.method == "GET":
        t = _own(services.get_own_trace, owner=request.user, trace_id=pk)
        return _render(request, "mobility/delete.html", {"trace": t, "n_trips": t.trips.count()})
    with transaction.atomic():
        _own(services.delete_trace, owner=request.user, trace_id=pk)
    messages.success(request, _("The trace and everything derived from it are deleted."))
    return redirect("mobility:mine")


def _zones_page(request: HttpRequest, form: ZoneForm, status: int = 200) -> HttpResponse:
    ctx = {"form": form, "zones": PrivacyZone.objects.filter(owner=request.user), "city": _city(request)}
    return _render(request, "mobility/zones.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def zones(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _zones_page(request, ZoneForm())
    form = ZoneForm(request.POST)
    if not form.is_valid():
        return _zones_page(request, form, status=400)
    try:
        services.create_zone(owner=request.user, **form.cleaned_data)
    except DomainError as exc:
        return _zones_page(request, form, status=_form_error(form, exc))
    messages.success(request, _("Privacy zone added: points inside it are dropped before storage."))
    return redirect("mobility:zones")


@login_required
@require_POST
def zone_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _own(services.delete_zone, owner=request.user, zone_id=pk)
    messages.success(request, _("Privacy zone removed."))
    return redirect("mobility:zones")


# --- planners -----------------------------------------------------------------------------------------------


@login_required
def planner(request: HttpRequest, view: str = "segments") -> HttpResponse:
    city = _city(request)
    if view not in PLANNER_VIEWS:
        raise Http404(_("No such mobility view."))
    if not services.can_see_aggregates(request.user, city):
        raise PermissionDenied(_("Mobility aggregates are for the city's analysts and administrators."))
    kind = PLANNER_VIEWS[view]
    filters = SegmentFilterForm(request.GET or None)
    since, until = filters.period(city.tz)
    cells = services.aggregates_for(user=request.user, city=city, kind=kind, since=since, until=until)
    ctx = planner_context(city=city, view=view, cells=cells, filters=filters)
    period = {k: v.isoformat() for k, v in (("since", since), ("until", until)) if v is not None}
    ctx["period_query"] = urlencode(period)
    return _render(request, "mobility/planner.html", ctx, partial="mobility/_planner_results.html")
