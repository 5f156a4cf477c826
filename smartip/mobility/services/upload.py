"""Storing traces: consent and city checks, privacy zones applied before anything reaches the database, and
fixes appended to a stored trace (phone sessions, see `batches`). Processing is queued after the commit (see
`processing`)."""

from __future__ import annotations

import io

import numpy as np
from django.db.models import F
from django.utils import timezone

from smartip.accounts.models import User
from smartip.cities.models import City
from smartip.core.errors import Invalid, gettext_noop
from smartip.mobility.fixes import Fixes, append_new, drop_in_zones
from smartip.mobility.models import PrivacyZone, Trace
from smartip.mobility.services.common import setting, utc
from smartip.mobility.services.processing import enqueue_processing


def _check_consent(consent: bool, purpose: str) -> None:
    if consent is not True:
        raise Invalid(
            gettext_noop("consent is required to store a trace (send consent=true)"), field="consent"
        )
    if not (purpose or "").strip():
        raise Invalid(gettext_noop("say what the trace may be used for (purpose)"), field="purpose")


def _check_in_city(fixes: Fixes, city: City) -> None:
    inside = (
        (fixes.lat >= city.min_lat)
        & (fixes.lat <= city.max_lat)
        & (fixes.lon >= city.min_lon)
        & (fixes.lon <= city.max_lon)
    )
    if not inside.all():
        i = int(np.flatnonzero(~inside)[0])
        raise Invalid(
            gettext_noop(
                "fixes[%(index)s] (%(lat)s, %(lon)s) lies outside %(city)s; "
                "%(outside)s of %(total)s fixes are outside the city"
            ),
            field=f"fixes[{i}]",
            index=i,
            lat=f"{fixes.lat[i]:.5f}",
            lon=f"{fixes.lon[i]:.5f}",
            city=city.name,
            outside=int((~inside).sum()),
            total=len(fixes),
        )


def read_upload(data: bytes, fmt: str) -> Fixes:
    """Parse an uploaded file's bytes; `Invalid` for over-size files and for anything the readers refuse."""
    from smartip.mobility.readers import FORMATS, read_trace

    limit = int(setting("MOBILITY_MAX_UPLOAD_BYTES", 20_000_000))
    if len(data) > limit:
        raise Invalid(
            gettext_noop("file is %(size)s bytes, at most %(limit)s are accepted"),
            field="file",
            size=len(data),
            limit=limit,
        )
    if fmt not in FORMATS:
        raise Invalid(
            gettext_noop("unknown trace format %(format)s (one of %(choices)s)"),
            field="format",
            format=repr(fmt),
            choices=", ".join(FORMATS),
        )
    fixes = read_trace(io.BytesIO(data), fmt)
    if len(fixes) < 2:
        raise Invalid(gettext_noop("a trace needs at least two fixes"), field="file")
    return fixes


def upload_trace(
    *,
    owner: User,
    city: City,
    fixes: Fixes,
    source_format: str,
    consent: bool,
    purpose: str,
    name: str = "",
    process: bool = True,
) -> Trace:
    """Store a trace after dropping every fix inside the owner's privacy zones (those never reach the DB).

    With `process`, the trace is `queued` and its processing job is enqueued once the caller's transaction
    commits (so a worker never looks for a trace that is not there yet, and a failed job never undoes the
    upload); without, it stays `stored` until `retry_processing`.
    """
    _check_consent(consent, purpose)
    _check_in_city(fixes, city)
    zones = [z.as_tuple() for z in PrivacyZone.objects.filter(owner=owner)]
    kept = drop_in_zones(fixes, zones)
    if len(kept) == 0:
        raise Invalid(
            gettext_noop("every fix of this trace lies inside your privacy zones; nothing stored"),
            field="fixes",
        )
    trace = Trace.objects.create(
        owner=owner,
        city=city,
        name=name[:200],
        source_format=source_format,
        consent_at=timezone.now(),
        consent_purpose=purpose.strip(),
        n_fixes=len(kept),
        n_dropped_in_zones=len(fixes) - len(kept),
        fixes_blob=kept.to_bytes(),
        started_at=utc(kept.t_s[0]),
        finished_at=utc(kept.t_s[-1]),
    )
    if process:
        enqueue_processing(trace=trace)
    return trace


def append_fixes(
    *, trace: Trace, city: City, fixes: Fixes, consent: bool, purpose: str, process: bool = True
) -> int:
    """Add to a stored trace the fixes it does not have yet (same time to the millisecond: kept once), in time
    order, after dropping those inside the owner's privacy zones; the trace is processed again when any was
    added. The caller holds the trace's row lock (`select_for_update`). Returns the number of fixes added.

    Unlike a new trace, a batch wholly inside privacy zones is fine here (the phone came home): it adds nothing.
    """
    from smartip.mobility.readers._common import MAX_FIXES

    _check_consent(consent, purpose)
    if trace.city_id != city.pk:
        raise Invalid(
            gettext_noop("this session's trace is in %(city)s: send its batches with that city"),
            field="city",
            city=trace.city.slug,
        )
    _check_in_city(fixes, city)
    zones = [z.as_tuple() for z in PrivacyZone.objects.filter(owner=trace.owner_id)]
    kept = drop_in_zones(fixes, zones)
    merged, added = append_new(trace.fixes, kept)
    if len(merged) > MAX_FIXES:
        raise Invalid(
            gettext_noop("the session's trace would exceed %(limit)s fixes: start a new session_id"),
            field="session_id",
            limit=MAX_FIXES,
        )
    changes: dict[str, object] = {"n_dropped_in_zones": F("n_dropped_in_zones") + (len(fixes) - len(kept))}
    if added:
        changes |= {
            "fixes_blob": merged.to_bytes(),
            "n_fixes": len(merged),
            "started_at": utc(merged.t_s[0]),
            "finished_at": utc(merged.t_s[-1]),
        }
    Trace.objects.filter(pk=trace.pk).update(**changes)
    trace.refresh_from_db()
    if added and process:
        enqueue_processing(trace=trace)
    return added
