"""Phone batches: sent with a device key, idempotent per `batch_id` (a retry never stores anything twice), and
optionally part of a recording session (`session_id`): every batch of one session extends the same trace, which
is processed again, so a journey sent in several batches stays one trace and its trips are not cut at batch
edges.

A session belongs to its owner: the same `session_id` sent by someone else is their own session and never
touches this one. A session whose trace the owner deleted is closed: its batches are refused (409) rather than
starting the trace again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from smartip.accounts.models import ApiKey, User
from smartip.cities.models import City
from smartip.core.errors import Conflict, Forbidden, Invalid, gettext_noop
from smartip.mobility.fixes import Fixes
from smartip.mobility.models import Trace, TraceBatch, TraceSession
from smartip.mobility.services.upload import append_fixes, upload_trace


@dataclass(frozen=True)
class BatchResult:
    trace: Trace
    created: bool


def _device_owner(raw_key: str | None) -> tuple[User, ApiKey]:
    from smartip.accounts.auth import user_for_key
    from smartip.accounts.models import hash_key

    owner = user_for_key(raw_key)
    key = ApiKey.objects.filter(key_hash=hash_key(raw_key.strip())).first() if raw_key else None
    if owner is None or key is None or key.kind != "device":
        raise Forbidden("send the phone's device key in X-API-Key", field="X-API-Key")
    return owner, key


def _identifier(payload: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not (0 < len(value) <= 100):
        raise Invalid(f"{name}: a string of 1 to 100 characters is required", field=name)
    return value


def upload_batch(*, raw_key: str | None, payload: Any, process: bool = True) -> BatchResult:
    """A phone batch: `{"batch_id", "city", "consent", "purpose", "fixes": [...], "session_id"?}`.

    Idempotent per owner and `batch_id`: a retry returns the trace stored the first time (`created=False`).
    Without `session_id` each batch is a trace of its own (as before sessions existed).
    """
    from smartip.cities.services import get_city
    from smartip.mobility.readers.batch import read_batch

    owner, key = _device_owner(raw_key)
    if not isinstance(payload, dict):
        raise Invalid("batch must be a JSON object", field="body")
    batch_id = _identifier(payload, "batch_id", required=True)
    session_id = _identifier(payload, "session_id", required=False)
    previous = _previous(owner, batch_id)
    if previous is not None:
        return previous
    if not isinstance(payload.get("city"), str):
        raise Invalid("city: the city's slug is required", field="city")
    city = get_city(payload["city"])
    fixes = read_batch(payload)
    consent = payload.get("consent") is True
    purpose = str(payload.get("purpose") or "")
    for attempt in range(2):
        try:
            with transaction.atomic():
                if session_id is None:
                    trace = upload_trace(
                        owner=owner,
                        city=city,
                        fixes=fixes,
                        source_format="batch",
                        consent=consent,
                        purpose=purpose,
                        name=f"phone batch {batch_id}",
                        process=process,
                    )
                else:
                    trace = _session_trace(
                        owner=owner,
                        key=key,
                        session_id=session_id,
                        city=city,
                        fixes=fixes,
                        consent=consent,
                        purpose=purpose,
                        process=process,
                    )
                TraceBatch.objects.create(owner=owner, device_key=key, batch_id=batch_id, trace=trace)
            return BatchResult(trace, True)
        except IntegrityError:
            previous = _previous(owner, batch_id)  # a concurrent retry of this batch won the race
            if previous is not None:
                return previous
            if attempt:  # pragma: no cover - two races in a row
                raise
            # the session was started meanwhile by a concurrent batch: append to it on the second attempt
    raise AssertionError("unreachable")  # pragma: no cover


def _previous(owner: User, batch_id: str) -> BatchResult | None:
    previous = TraceBatch.objects.filter(owner=owner, batch_id=batch_id).select_related("trace").first()
    return None if previous is None else BatchResult(previous.trace, False)


def _session_trace(
    *,
    owner: User,
    key: ApiKey,
    session_id: str,
    city: City,
    fixes: Fixes,
    consent: bool,
    purpose: str,
    process: bool,
) -> Trace:
    """The session's trace with this batch's fixes in it: a new trace for a new session, else appended to
    (under the trace's row lock, so concurrent batches of one session never lose each other's fixes)."""
    session = TraceSession.objects.select_for_update().filter(owner=owner, session_id=session_id).first()
    if session is None:
        trace = upload_trace(
            owner=owner,
            city=city,
            fixes=fixes,
            source_format="batch",
            consent=consent,
            purpose=purpose,
            name=f"phone session {session_id}"[:200],
            process=process,
        )
        TraceSession.objects.create(
            owner=owner, session_id=session_id, device_key=key, trace=trace, trim_seed=secrets.randbits(62)
        )
        return trace
    trace = (
        Trace.objects.select_for_update()
        .select_related("city")
        .filter(pk=session.trace_id, owner=owner)
        .first()
        if session.trace_id is not None
        else None
    )
    if trace is None:
        raise Conflict(
            gettext_noop("session %(session)s is closed: its trace was deleted; start a new session_id"),
            field="session_id",
            session=session_id,
        )
    append_fixes(trace=trace, city=city, fixes=fixes, consent=consent, purpose=purpose, process=process)
    return trace
