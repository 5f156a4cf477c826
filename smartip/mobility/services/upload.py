"""Storing traces: consent and city checks, privacy zones applied before anything reaches the database, phone
batches that are idempotent per `batch_id`. Processing is queued after the commit (see `processing`)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone

from smartip.accounts.models import ApiKey, User
from smartip.cities.models import City
from smartip.core.errors import Forbidden, Invalid, gettext_noop
from smartip.mobility.fixes import Fixes, drop_in_zones
from smartip.mobility.models import PrivacyZone, Trace, TraceBatch
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


@dataclass(frozen=True)
class BatchResult:
    trace: Trace
    created: bool


def upload_batch(*, raw_key: str | None, payload: Any, process: bool = True) -> BatchResult:
    """A phone batch sent with a device key: `{"batch_id", "city", "consent", "purpose", "fixes": [...]}`.

    Idempotent per owner and `batch_id`: a retry returns the trace stored the first time (`created=False`).
    """
    from smartip.accounts.auth import user_for_key
    from smartip.accounts.models import hash_key
    from smartip.cities.services import get_city
    from smartip.mobility.readers.batch import read_batch

    owner = user_for_key(raw_key)
    key = ApiKey.objects.filter(key_hash=hash_key(raw_key.strip())).first() if raw_key else None
    if owner is None or key is None or key.kind != "device":
        raise Forbidden("send the phone's device key in X-API-Key", field="X-API-Key")
    if not isinstance(payload, dict):
        raise Invalid("batch must be a JSON object", field="body")
    batch_id = payload.get("batch_id")
    if not isinstance(batch_id, str) or not (0 < len(batch_id) <= 100):
        raise Invalid("batch_id: a string of 1 to 100 characters is required", field="batch_id")
    previous = TraceBatch.objects.filter(owner=owner, batch_id=batch_id).select_related("trace").first()
    if previous is not None:
        return BatchResult(previous.trace, False)
    if not isinstance(payload.get("city"), str):
        raise Invalid("city: the city's slug is required", field="city")
    city = get_city(payload["city"])
    fixes = read_batch(payload)
    try:
        with transaction.atomic():
            trace = upload_trace(
                owner=owner,
                city=city,
                fixes=fixes,
                source_format="batch",
                consent=payload.get("consent") is True,
                purpose=str(payload.get("purpose") or ""),
                name=f"phone batch {batch_id}",
                process=process,
            )
            TraceBatch.objects.create(owner=owner, device_key=key, batch_id=batch_id, trace=trace)
    except IntegrityError:  # a concurrent retry won the race
        previous = TraceBatch.objects.select_related("trace").get(owner=owner, batch_id=batch_id)
        return BatchResult(previous.trace, False)
    return BatchResult(trace, True)
