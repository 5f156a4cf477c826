"""Mobility storage: derived rows hang off the trace (delete cascades), batches are unique per owner."""

import numpy as np
import pytest
from django.db import IntegrityError, transaction

from smartip.mobility.fixes import Fixes, from_columns
from smartip.mobility.models import MatchedSegment, StayPoint, Trace, TraceBatch, Trip, Tripleg

pytestmark = pytest.mark.django_db

T0 = 1_717_228_800.0  # 2024-06-01 08:00 UTC, a Saturday


def commute(
    lat0: float,
    lon0: float,
    *,
    bearing_deg: float = 45.0,
    distance_m: float = 3000.0,
    speed_mps: float = 4.0,
    start_s: float = T0,
    dwell_s: float = 1500.0,
    step_s: float = 5.0,
    seed: int = 0,
) -> Fixes:
    """Stay at (lat0, lon0), travel a straight line at `speed_mps`, stay again: one trip for the pipeline."""
    rng = np.random.default_rng(seed)
    m_per_deg = 111_195.0
    n_dwell = int(dwell_s / step_s)
    n_move = int(distance_m / speed_mps / step_s)
    along = np.concatenate(
        [np.zeros(n_dwell), np.linspace(0, distance_m, n_move), np.full(n_dwell, distance_m)]
    )
    b = np.radians(bearing_deg)
    north, east = along * np.cos(b), along * np.sin(b)
    noise = rng.normal(0, 3.0, (2, len(along)))
    lat = lat0 + (north + noise[0]) / m_per_deg
    lon = lon0 + (east + noise[1]) / (m_per_deg * np.cos(np.radians(lat0)))
    t = start_s + step_s * np.arange(len(along))
    return from_columns(t, lat, lon, np.full(len(t), 5.0))


def test_fixes_blob_round_trips(manchester, users):
    from smartip.mobility.services import upload_trace

    lat, lon = manchester.center
    fixes = commute(lat, lon)
    trace = upload_trace(
        owner=users["citizen"],
        city=manchester,
        fixes=fixes,
        source_format="gpx",
        consent=True,
        purpose="research",
        process=False,
    )
    stored = Trace.objects.get(pk=trace.pk).fixes
    assert len(stored) == len(fixes)
    assert np.allclose(stored.lat, fixes.lat, atol=1e-7) and np.allclose(stored.t_s, fixes.t_s, atol=1e-3)
    assert len(bytes(Trace.objects.get(pk=trace.pk).fixes_blob)) < 8 * len(fixes)


def test_deleting_a_trace_deletes_every_derived_row(manchester, users, settings):
    from smartip.mobility.services import upload_trace
    from tests.mobility.jobs import committed

    settings.MAPMATCH_ENGINE = "fake"
    lat, lon = manchester.center
    with committed():  # the processing job runs after the commit
        trace = upload_trace(
            owner=users["citizen"],
            city=manchester,
            fixes=commute(lat, lon),
            source_format="gpx",
            consent=True,
            purpose="research",
        )
    counts = [m.objects.filter(**f).count() for m, f in _derived(trace)]
    assert all(c > 0 for c in counts), counts
    trace.delete()
    assert [m.objects.filter(**f).count() for m, f in _derived(trace)] == [0, 0, 0, 0]
    assert not Trace.objects.filter(pk=trace.pk).exists()


def _derived(trace):
    return [
        (StayPoint, {"trace_id": trace.pk}),
        (Trip, {"trace_id": trace.pk}),
        (Tripleg, {"trip__trace_id": trace.pk}),
        (MatchedSegment, {"tripleg__trip__trace_id": trace.pk}),
    ]


def test_a_batch_id_is_unique_per_owner(manchester, users):
    from smartip.mobility.services import upload_trace

    lat, lon = manchester.center
    trace = upload_trace(
        owner=users["citizen"],
        city=manchester,
        fixes=commute(lat, lon),
        source_format="batch",
        consent=True,
        purpose="research",
        process=False,
    )
    TraceBatch.objects.create(owner=users["citizen"], batch_id="b1", trace=trace)
    TraceBatch.objects.create(owner=users["analyst"], batch_id="b1", trace=trace)  # another owner: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        TraceBatch.objects.create(owner=users["citizen"], batch_id="b1", trace=trace)
