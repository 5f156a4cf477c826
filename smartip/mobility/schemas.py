"""Typed API input and output of the mobility router."""

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from smartip.mobility.models import PrivacyZone, Trace, Trip


class TraceUploadIn(Schema):
    city: str
    consent: bool = Field(description="the owner agrees to store and process this trace for `purpose`")
    purpose: str = Field(max_length=2000)
    name: str = Field("", max_length=200)
    format: str | None = Field(
        None, description="gpx, geojson, csv, plt or batch; default: from the file name"
    )


class TripOut(Schema):
    id: int
    started_at: datetime
    finished_at: datetime
    origin_lat: float | None
    origin_lon: float | None
    destination_lat: float | None
    destination_lon: float | None
    modes: list[str]
    distance_m: float


class TraceOut(Schema):
    id: int
    city: str
    name: str
    source_format: str
    consent_at: datetime
    consent_purpose: str
    uploaded_at: datetime
    n_fixes: int
    n_dropped_in_zones: int
    started_at: datetime | None
    finished_at: datetime | None
    processed_at: datetime | None
    status: str = Field(
        description="processing: stored (not queued), queued, processing, done, or failed (see status_reason)"
    )
    status_reason: str = Field(description="why processing failed; empty otherwise")


class TraceDetailOut(TraceOut):
    trips: list[TripOut]


class BatchOut(Schema):
    trace: TraceOut
    duplicate: bool


class ZoneIn(Schema):
    label: str = Field(max_length=120)
    lat: float
    lon: float
    radius_m: float = 200.0


class ZonePatch(Schema):
    label: str | None = Field(None, max_length=120)
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None


class ZoneOut(Schema):
    id: int
    label: str
    lat: float
    lon: float
    radius_m: float


def trace_out(trace: Trace) -> dict[str, Any]:
    return {
        "id": trace.pk,
        "city": trace.city.slug,
        "name": trace.name,
        "source_format": trace.source_format,
        "consent_at": trace.consent_at,
        "consent_purpose": trace.consent_purpose,
        "uploaded_at": trace.uploaded_at,
        "n_fixes": trace.n_fixes,
        "n_dropped_in_zones": trace.n_dropped_in_zones,
        "started_at": trace.started_at,
        "finished_at": trace.finished_at,
        "processed_at": trace.processed_at,
        "status": trace.status,
        "status_reason": trace.status_reason,
    }


def trip_out(trip: Trip) -> dict[str, Any]:
    return {
        "id": trip.pk,
        "started_at": trip.started_at,
        "finished_at": trip.finished_at,
        "origin_lat": trip.origin_lat,
        "origin_lon": trip.origin_lon,
        "destination_lat": trip.destination_lat,
        "destination_lon": trip.destination_lon,
        "modes": trip.modes,
        "distance_m": round(trip.distance_m, 1),
    }


def zone_out(zone: PrivacyZone) -> dict[str, Any]:
    return {"id": zone.pk, "label": zone.label, "lat": zone.lat, "lon": zone.lon, "radius_m": zone.radius_m}
