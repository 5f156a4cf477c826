"""JSON API for citizen mobility (/api/mobility): phone batches, file uploads, the owner's traces and privacy
zones, and the planner aggregates (analysts and administrators of the city only)."""

import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router, Status, UploadedFile

from smartip.accounts.auth import REQUIRED
from smartip.cities.services import get_city
from smartip.core.errors import Invalid
from smartip.mobility import services
from smartip.mobility.schemas import (
    BatchOut,
    TraceDetailOut,
    TraceOut,
    TraceUploadIn,
    ZoneIn,
    ZoneOut,
    ZonePatch,
    trace_out,
    trip_out,
    zone_out,
)

router = Router(tags=["mobility"])

_BATCH_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "example": {
                    "batch_id": "2024-06-01T08:00:00Z-1",
                    "session_id": "ride-2024-06-01T08:00:00Z",
                    "city": "manchester",
                    "consent": True,
                    "purpose": "improve cycling routes",
                    "fixes": [{"t": 1717228800, "lat": 53.48, "lon": -2.24, "accuracy": 8}],
                }
            }
        },
    },
    "parameters": [
        {"in": "header", "name": "X-API-Key", "required": True, "schema": {"type": "string"}},
    ],
}


@router.post("/batches", response={201: BatchOut, 200: BatchOut}, openapi_extra=_BATCH_DOC)
def post_batch(request: HttpRequest) -> Status:
    """A phone batch sent with the phone's device key; a retry with the same batch_id answers 200 and stores
    nothing again. Optional `session_id`: the batches of one recording session (same person) extend one trace,
    without fixes at times it already has, and the trace is processed again; a session whose trace was deleted
    answers 409 (field session_id). Without it, each batch is a trace of its own."""
    try:
        payload = json.loads(request.body or b"null")
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raise Invalid(f"body: more than {limit} bytes; send smaller batches", field="body") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"body: not JSON ({exc})", field="body") from None
    result = services.upload_batch(raw_key=request.headers.get("X-API-Key"), payload=payload)
    body = {"trace": trace_out(result.trace), "duplicate": not result.created}
    return Status(201 if result.created else 200, body)


@router.post("/traces", response={201: TraceOut}, auth=REQUIRED)
def upload_trace(request: HttpRequest, payload: Form[TraceUploadIn], file: File[UploadedFile]) -> Status:
    """Upload a GPX, GeoJSON, CSV or GeoLife PLT file (multipart); fixes inside your privacy zones are dropped
    before anything is stored. Trips are derived by a background job: follow `status` on the trace."""
    from smartip.mobility.readers import format_for

    city = get_city(payload.city)
    fmt = payload.format or format_for(file.name or "")
    fixes = services.read_upload(file.read(), fmt)
    trace = services.upload_trace(
        owner=request.auth,  # type: ignore[attr-defined]
        city=city,
        fixes=fixes,
        source_format=fmt,
        consent=payload.consent,
        purpose=payload.purpose,
        name=payload.name or (file.name or ""),
    )
    return Status(201, trace_out(trace))


@router.get("/traces", response=list[TraceOut], auth=REQUIRED)
def list_traces(request: HttpRequest) -> list[dict[str, Any]]:
    return [trace_out(t) for t in services.my_traces(owner=request.auth)]  # type: ignore[attr-defined]


@router.get("/traces/{trace_id}", response=TraceDetailOut, auth=REQUIRED)
def get_trace(request: HttpRequest, trace_id: int) -> dict[str, Any]:
    trace = services.get_own_trace(owner=request.auth, trace_id=trace_id)  # type: ignore[attr-defined]
    return {**trace_out(trace), "trips": [trip_out(t) for t in trace.trips.all()]}


@router.post("/traces/{trace_id}/process", response={202: TraceOut}, auth=REQUIRED)
def process_trace(request: HttpRequest, trace_id: int) -> Status:
    """Queue a failed, never processed or stuck (queued or running for an hour) trace for processing again;
    409 otherwise."""
    trace = services.retry_processing(owner=request.auth, trace_id=trace_id)  # type: ignore[attr-defined]
    return Status(202, trace_out(trace))


@router.get("/traces/{trace_id}/export", auth=REQUIRED)
def export_trace(request: HttpRequest, trace_id: int, format: str = "gpx") -> HttpResponse:
    content, media_type = services.export_trace(
        owner=request.auth,  # type: ignore[attr-defined]
        trace_id=trace_id,
        fmt=format,
    )
    response = HttpResponse(content, content_type=media_type)
    response["Content-Disposition"] = f'attachment; filename="trace-{trace_id}.{format}"'
    return response


@router.delete("/traces/{trace_id}", response={204: None}, auth=REQUIRED)
def delete_trace(request: HttpRequest, trace_id: int) -> Status:
    """Delete the trace and everything derived from it (stay points, trips, matched segments)."""
    services.delete_trace(owner=request.auth, trace_id=trace_id)  # type: ignore[attr-defined]
    return Status(204, None)


@router.get("/zones", response=list[ZoneOut], auth=REQUIRED)
def list_zones(request: HttpRequest) -> list[dict[str, Any]]:
    from smartip.mobility.models import PrivacyZone

    return [zone_out(z) for z in PrivacyZone.objects.filter(owner=request.auth)]  # type: ignore[attr-defined]


@router.post("/zones", response={201: ZoneOut}, auth=REQUIRED)
def create_zone(request: HttpRequest, body: ZoneIn) -> Status:
    zone = services.create_zone(owner=request.auth, **body.dict())  # type: ignore[attr-defined]
    return Status(201, zone_out(zone))


@router.patch("/zones/{zone_id}", response=ZoneOut, auth=REQUIRED)
def update_zone(request: HttpRequest, zone_id: int, body: ZonePatch) -> dict[str, Any]:
    zone = services.update_zone(owner=request.auth, zone_id=zone_id, **body.dict())  # type: ignore[attr-defined]
    return zone_out(zone)


@router.delete("/zones/{zone_id}", response={204: None}, auth=REQUIRED)
def delete_zone(request: HttpRequest, zone_id: int) -> Status:
    services.delete_zone(owner=request.auth, zone_id=zone_id)  # type: ignore[attr-defined]
    return Status(204, None)


@router.get("/aggregates/{city}/{kind}", auth=REQUIRED)
def aggregates(
    request: HttpRequest,
    city: str,
    kind: str,
    since: datetime | None = None,
    until: datetime | None = None,
    format: str = "json",
) -> Any:
    """Published cells (at least MOBILITY_MIN_PEOPLE distinct people each) of `kind`: segments, speeds,
    hotspots, od-neighbourhoods, od-h3 or mode-share; `format` json, csv or geojson."""
    c = get_city(city)
    cells = services.aggregates_for(user=request.auth, city=c, kind=kind, since=since, until=until)  # type: ignore[attr-defined]
    if format == "json":
        return {"city": c.slug, "kind": kind, "min_people": services.min_people(), "cells": cells}
    if format == "csv":
        response = HttpResponse(services.aggregates_csv(kind, cells), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{c.slug}-{kind}.csv"'
        return response
    if format == "geojson":
        body = services.aggregates_geojson(city=c, kind=kind, cells=cells)
        return HttpResponse(json.dumps(body), content_type="application/geo+json")
    raise Invalid(f"format {format!r}: use json, csv or geojson", field="format")
