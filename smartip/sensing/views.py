"""Air pages: map with legend and table, sensor page (charts, QC, exports, alerts), neighbourhoods, hosting
guide, sensor registration, alerts, and the staff calibration report. Views parse, call one service or read,
and render; htmx requests (HX-Request) get the page's `_partial.html`. Everything works without JavaScript.
"""

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from smartip.accounts.permissions import has_role
from smartip.cities.models import City, Neighbourhood
from smartip.core.errors import DomainError
from smartip.sensing import alerts, bands, export, pages, services
from smartip.sensing.alert_models import AlertSubscription
from smartip.sensing.forms import AlertForm, CalibrationForm, RegisterSensorForm
from smartip.sensing.models import QUANTITIES, Sensor

EXPORT_FORMATS = ("csv", "parquet", "aqo", "noise")


def _city(request: HttpRequest) -> City:
    city = getattr(request, "city", None)
    if city is None:
        raise Http404(_("No city is set up yet."))
    return city


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


def _render(
    request: HttpRequest, page: str, partial: str | None, ctx: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(request, partial if partial and _is_htmx(request) else page, ctx, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _legend(city: City) -> tuple[bands.Band, ...]:
    return bands.bands(city.profile.aqi_scheme)


def _band_choices(city: City) -> list[tuple[int, str]]:
    return [(b.number, _(b.name)) for b in _legend(city)]


def _visible_sensor(request: HttpRequest, pk: int) -> Sensor:
    city = _city(request)
    sensor = get_object_or_404(Sensor.objects.select_related("neighbourhood", "owner"), pk=pk, city=city)
    sensor.city = city
    if not pages.can_see_sensor(request.user, sensor):
        raise Http404(_("No such sensor."))
    return sensor


# ----------------------------------------------------------------------------------------------- map


@require_GET
def air_map(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    rows, city_row = pages.map_data(city)
    ctx = {
        "city": city,
        "rows": rows,
        "city_row": city_row,
        "legend": _legend(city),
        "scheme": city.profile.aqi_scheme,
    }
    return _render(request, "sensing/map.html", "sensing/_sensor_table.html", ctx)


@require_GET
def air_feed(request: HttpRequest) -> JsonResponse:
    """The map's GeoJSON: shown positions, band and colour (names and numbers only, escaped by the client)."""
    city = _city(request)
    features = []
    for row in pages.map_rows(city):
        s = row.sensor
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [s.public_lon, s.public_lat]},
                "properties": {
                    "name": s.name,
                    "url": reverse("sensing:sensor", args=[s.pk]),
                    "index": row.latest.value if row.latest else None,
                    "band": row.band.number if row.band else None,
                    "band_name": _(row.band.name) if row.band else _("no current index"),
                    "colour": row.band.colour if row.band else bands.NO_DATA_COLOUR,
                },
            }
        )
    return JsonResponse({"type": "FeatureCollection", "features": features})


# ----------------------------------------------------------------------------------------------- sensor page


@require_GET
def sensor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sensor = _visible_sensor(request, pk)
    city = sensor.city
    now = timezone.now()
    quantities = pages.sensor_quantities(sensor)
    quantity = request.GET.get("quantity") or (
        "pm25" if "pm25" in quantities else (quantities or ["pm25"])[0]
    )
    if quantity not in QUANTITIES:
        quantity = "pm25"
    latest = pages.aggregates.sensor_indices([sensor], at=now)[sensor.pk]
    ctx = {
        "sensor": sensor,
        "latest": latest,
        "band": bands.band(city.profile.aqi_scheme, latest.band if latest else None),
        "quantities": [(q, QUANTITIES[q].name) for q in quantities],
        "quantity": quantity,
        "quantity_name": QUANTITIES[quantity].name,
        "charts": pages.sensor_charts(sensor, quantity, now=now),
        "corrected": pages.corrected_latest(sensor, quantity, now=now),
        "qc": pages.qc_summary(sensor, now=now),
        "alert_form": AlertForm(band_choices=_band_choices(city)) if request.user.is_authenticated else None,
        "export_start": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:00"),
        "export_end": now.strftime("%Y-%m-%dT%H:00"),
        "is_owner": request.user.is_authenticated and sensor.owner_id == request.user.pk,
    }
    return _render(request, "sensing/sensor.html", "sensing/_charts.html", ctx)


# ----------------------------------------------------------------------------------------------- neighbourhoods


@require_GET
def neighbourhoods(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    ctx = {
        "city": city,
        "rows": pages.neighbourhood_rows(city),
        "legend": _legend(city),
        "alert_form": AlertForm(band_choices=_band_choices(city)) if request.user.is_authenticated else None,
    }
    return render(request, "sensing/neighbourhoods.html", ctx)


# ----------------------------------------------------------------------------------------------- alerts


@login_required
@require_POST
def subscribe_alert(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    city = _city(request)
    form = AlertForm(request.POST, band_choices=_band_choices(city))
    sensor = _visible_sensor(request, pk) if kind == "sensor" else None
    hood = get_object_or_404(Neighbourhood, pk=pk, city=city) if kind == "neighbourhood" else None
    back = reverse("sensing:sensor", args=[pk]) if sensor else reverse("sensing:neighbourhoods")
    if form.is_valid():
        try:
            with transaction.atomic():
                alerts.subscribe(
                    user=request.user,
                    city=city,
                    sensor=sensor,
                    neighbourhood=hood,
                    threshold_band=form.cleaned_data["threshold_band"],
                    recovery_h=form.cleaned_data["recovery_h"],
                )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return render(
                request, "sensing/alert_error.html", {"form": form, "back": back}, status=exc.status
            )
        from django.contrib import messages

        messages.success(request, _("Alert saved. We will email you once per episode."))
        return redirect("sensing:alerts")
    return render(request, "sensing/alert_error.html", {"form": form, "back": back}, status=400)


@login_required
def my_alerts(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    subs = list(
        AlertSubscription.objects.of(request.user)
        .for_city(city)
        .select_related("sensor", "neighbourhood")
        .order_by("-created_at")
    )
    legend = {b.number: b for b in _legend(city)}
    return render(request, "sensing/alerts.html", {"subs": [(s, legend.get(s.threshold_band)) for s in subs]})


@login_required
@require_POST
def delete_alert(request: HttpRequest, pk: int) -> HttpResponse:
    sub = get_object_or_404(AlertSubscription, pk=pk, user=request.user)
    alerts.unsubscribe(user=request.user, subscription=sub)
    return redirect("sensing:alerts")


# ----------------------------------------------------------------------------------------------- hosting


@require_GET
def host_guide(request: HttpRequest) -> HttpResponse:
    ctx = {
        "host": request.get_host(),
        "scheme_https": request.is_secure(),
        "push_path": reverse("sensing:push-custom-default"),
        "push_path_own": reverse("sensing:push"),
    }
    return render(request, "sensing/host.html", ctx)


@login_required
def register(request: HttpRequest) -> HttpResponse:
    """A citizen registers a sensor and sees its key once (the key is never stored in clear, never shown again)."""
    city = _city(request)
    if not has_role(request.user, city, "citizen", "admin", "analyst"):
        raise PermissionDenied(_("Register as a citizen of this city first."))
    form = RegisterSensorForm(
        request.POST or None, allow_reference=services.can_register_reference(request.user, city)
    )
    if request.method != "POST":
        return render(request, "sensing/register.html", {"form": form, "city": city})
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                sensor, key = services.register_sensor_as(
                    request.user,
                    city=city,
                    name=data["name"],
                    model=data["model"],
                    exposure=data["exposure"],
                    lat=data["lat"],
                    lon=data["lon"],
                    height_m=data["height_m"],
                    firmware_id=data["firmware_id"] or None,
                    is_home_hosted=data["is_home_hosted"],
                    is_reference=data["is_reference"],
                )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            status = exc.status
        else:
            response = render(
                request,
                "sensing/registered.html",
                {"sensor": sensor, "key": key, "push_path": reverse("sensing:push-custom-default")},
                status=201,
            )
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "sensing/register.html", {"form": form, "city": city}, status=status)


# ----------------------------------------------------------------------------------------------- calibration


@login_required
def calibration_report(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    if not pages.can_analyse(request.user, city):
        raise PermissionDenied(_("Calibration reports are for the city's analysts and administrators."))
    sensors = list(Sensor.objects.for_city(city).filter(is_reference=False).only("pk", "name"))
    references = list(Sensor.objects.for_city(city).filter(is_reference=True).only("pk", "name"))
    form = CalibrationForm(
        request.GET or None,
        sensors=[(s.pk, s.name) for s in sensors],
        references=[(s.pk, s.name) for s in references],
    )
    ctx: dict[str, Any] = {"form": form, "has_sensors": bool(sensors and references), "result": None}
    status = 200
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        by_pk = {s.pk: s for s in sensors + references}
        try:
            report = pages.colocation(
                sensor=by_pk[data["sensor"]],
                reference=by_pk[data["reference"]],
                pollutant=data["pollutant"],
                start=datetime.combine(data["start"], time.min, tzinfo=UTC),
                end=datetime.combine(data["end"], time.min, tzinfo=UTC),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            status = exc.status
        else:
            ctx.update(
                result=report.result,
                averaging_h=report.averaging_h,
                sensor=by_pk[data["sensor"]],
                reference=by_pk[data["reference"]],
            )
    elif form.is_bound:
        status = 400
    return _render(request, "sensing/calibration.html", "sensing/_calibration_result.html", ctx, status)


# ----------------------------------------------------------------------------------------------- export


@require_GET
def sensor_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    """?start=…&end=… (ISO 8601, UTC when naive): csv, parquet, aqo / noise (FIWARE NGSI-LD normalized)."""
    if fmt not in EXPORT_FORMATS:
        raise Http404(_("Unknown export format."))
    sensor = _visible_sensor(request, pk)
    try:
        start, end = export.parse_range(request.GET.get("start"), request.GET.get("end"))
    except DomainError as exc:
        return JsonResponse({"error": exc.as_dict()}, status=exc.status)
    stem = f"sensor-{sensor.pk}-{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}"
    if fmt == "csv":
        response: HttpResponseBase = StreamingHttpResponse(
            export.csv_lines(sensor, start, end), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    if fmt == "parquet":
        response = HttpResponse(
            export.parquet_bytes(sensor, start, end), content_type="application/vnd.apache.parquet"
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.parquet"'
        return response
    entities = (export.air_quality_observed if fmt == "aqo" else export.noise_level_observed)(
        sensor, start, end
    )
    return HttpResponse(
        json.dumps(entities, ensure_ascii=False, indent=1), content_type="application/ld+json; charset=utf-8"
    )
