"""The owner's traces: list, fetch (owner only), export as GPX or GeoJSON, delete with everything derived."""

from __future__ import annotations

from typing import Any

from smartip.accounts.models import User
from smartip.core.errors import Invalid, NotFound, gettext_noop
from smartip.mobility.models import Trace


def my_traces(*, owner: User) -> Any:
    return Trace.objects.owned_by(owner).select_related("city").defer("fixes_blob")


def get_own_trace(*, owner: User, trace_id: int) -> Trace:
    """The trace if `owner` owns it; NotFound otherwise (someone else's trace is not revealed to exist)."""
    trace = Trace.objects.owned_by(owner).select_related("city").filter(pk=trace_id).first()
    if trace is None:
        raise NotFound(gettext_noop("you have no trace %(id)s"), field="trace_id", id=trace_id)
    return trace


def export_trace(*, owner: User, trace_id: int, fmt: str) -> tuple[str, str]:
    """(content, media type) of the owner's trace as GPX or GeoJSON."""
    import json

    from smartip.mobility.readers.geojson import write_geojson
    from smartip.mobility.readers.gpx import write_gpx

    trace = get_own_trace(owner=owner, trace_id=trace_id)
    if fmt == "gpx":
        return write_gpx(trace.fixes, name=str(trace)), "application/gpx+xml"
    if fmt == "geojson":
        return json.dumps(write_geojson(trace.fixes)), "application/geo+json"
    raise Invalid(
        gettext_noop("export format %(format)s: use gpx or geojson"), field="format", format=repr(fmt)
    )


def delete_trace(*, owner: User, trace_id: int) -> int:
    """Delete a trace and everything derived from it; returns the number of rows deleted."""
    deleted, _ = get_own_trace(owner=owner, trace_id=trace_id).delete()
    return deleted
