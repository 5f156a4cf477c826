"""Mobility services on a real database: consent, privacy zones before storage, processing, export, delete."""

import io
import json
import random
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from smartip.core.errors import Invalid, NotFound
from smartip.mobility import services
from smartip.mobility.fixes import haversine_m
from smartip.mobility.models import MatchedSegment, StayPoint, Trace, Trip, Tripleg
from smartip.mobility.pipeline.run import process
from smartip.mobility.readers import read_trace
from tests.mobility.jobs import committed
from tests.mobility.test_models import commute

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fake_engine(settings):
    settings.MAPMATCH_ENGINE = "fake"


def upload(owner, city, fixes, **extra):
    """Upload, then commit: the processing job runs (immediate backend)."""
    args = {"source_format": "gpx", "consent": True, "purpose": "research"} | extra
    with committed():
        trace = services.upload_trace(owner=owner, city=city, fixes=fixes, **args)
    trace.refresh_from_db()
    return trace


def test_upload_requires_consent_and_a_purpose(manchester, users):
    lat, lon = manchester.center
    with pytest.raises(Invalid) as err:
        upload(users["citizen"], manchester, commute(lat, lon), consent=False)
    assert err.value.field == "consent"
    with pytest.raises(Invalid) as err:
        upload(users["citizen"], manchester, commute(lat, lon), purpose="  ")
    assert err.value.field == "purpose"
    assert Trace.objects.count() == 0


def test_fixes_in_privacy_zones_never_reach_the_database(manchester, users):
    lat, lon = manchester.center
    owner = users["citizen"]
    services.create_zone(owner=owner, label="home", lat=lat, lon=lon, radius_m=300)
    fixes = commute(lat, lon, distance_m=3000)
    trace = upload(owner, manchester, fixes)
    stored = Trace.objects.get(pk=trace.pk).fixes  # read the blob back from the DB
    near_home = haversine_m(stored.lat, stored.lon, np.float64(lat), np.float64(lon))
    assert near_home.min() > 300
    expected_drop = int((haversine_m(fixes.lat, fixes.lon, np.float64(lat), np.float64(lon)) <= 300).sum())
    assert expected_drop > 100
    assert trace.n_dropped_in_zones == expected_drop and len(stored) == len(fixes) - expected_drop
    # derived rows come from the stored fixes only
    for sp in StayPoint.objects.filter(trace=trace):
        assert haversine_m(sp.lat, sp.lon, lat, lon) > 300


def test_another_users_zone_does_not_apply(manchester, users):
    lat, lon = manchester.center
    services.create_zone(owner=users["analyst"], label="home", lat=lat, lon=lon, radius_m=300)
    fixes = commute(lat, lon)
    assert upload(users["citizen"], manchester, fixes).n_fixes == len(fixes)


def test_a_trace_entirely_in_a_zone_is_refused(manchester, users):
    lat, lon = manchester.center
    services.create_zone(owner=users["citizen"], label="home", lat=lat, lon=lon, radius_m=5000)
    with pytest.raises(Invalid):
        upload(users["citizen"], manchester, commute(lat, lon))
    assert Trace.objects.count() == 0


def test_out_of_city_fixes_are_refused_with_the_first_index(manchester, users):
    with pytest.raises(Invalid) as err:
        upload(
            users["citizen"],
            manchester,
            commute(manchester.max_lat - 0.001, manchester.center[1], bearing_deg=0),
        )
    assert err.value.field.startswith("fixes[")
    assert Trace.objects.count() == 0


def test_processing_derives_trip_legs_and_matched_segments(manchester, users):
    lat, lon = manchester.center
    trace = upload(users["citizen"], manchester, commute(lat, lon, distance_m=3000, speed_mps=4.0))
    trips = list(Trip.objects.filter(trace=trace))
    assert len(trips) == 1
    trip = trips[0]
    expected = process(trace.fixes)  # the pure pipeline on the stored fixes is the oracle
    assert trip.modes == [str(m) for m in expected.tripleg_modes] and trip.main_mode == trip.modes[0]
    assert trip.started_at.timestamp() == pytest.approx(float(expected.trips.started_at_s[0]))
    assert trip.distance_m > 2900  # at least the straight line
    assert haversine_m(trip.origin_lat, trip.origin_lon, lat, lon) < 150
    legs = list(Tripleg.objects.filter(trip=trip))
    assert len(legs) == 1
    segments = MatchedSegment.objects.filter(tripleg=legs[0])
    assert segments.count() > 10
    for seed in range(8):  # trimmed ends, over several random trim lengths
        services.process_trace(trace=trace, rng=random.Random(seed))
        _check_trimmed_ends(trace)
    assert trace.processed_at is not None and trace.matched_with == "StraightLineMatcher"


def _check_trimmed_ends(trace):
    """Kept segments reach beyond 200 m of both trip ends; flagged ones start (or end) within 500 m of one."""
    trip = Trip.objects.get(trace=trace)
    segments = MatchedSegment.objects.filter(tripleg__trip=trip)
    assert segments.filter(in_trip_end=True).exists() and segments.filter(in_trip_end=False).exists()
    fixes = trace.fixes
    a = int(np.argmin(np.abs(fixes.t_s - trip.started_at.timestamp())))  # the trip's own first and last fix
    b = int(np.argmin(np.abs(fixes.t_s - trip.finished_at.timestamp())))
    for s in segments:
        t0 = s.entered_at.timestamp()
        during = (fixes.t_s >= t0 - 0.01) & (fixes.t_s <= t0 + s.duration_s + 0.01)
        from_start = haversine_m(fixes.lat[during], fixes.lon[during], fixes.lat[a], fixes.lon[a])
        from_end = haversine_m(fixes.lat[during], fixes.lon[during], fixes.lat[b], fixes.lon[b])
        if s.in_trip_end:
            assert from_start[0] <= 500 or from_end[-1] <= 500
        else:
            assert ((from_start > 200) & (from_end > 200)).any()


def test_reprocessing_replaces_derived_rows(manchester, users):
    lat, lon = manchester.center
    trace = upload(users["citizen"], manchester, commute(lat, lon))
    before = Trip.objects.filter(trace=trace).count()
    assert before > 0
    services.process_trace(trace=trace)
    assert Trip.objects.filter(trace=trace).count() == before


def test_no_network_and_the_real_engine_stores_trips_without_segments(manchester, users, settings):
    settings.MAPMATCH_ENGINE = "valhalla"
    lat, lon = manchester.center
    trace = upload(users["citizen"], manchester, commute(lat, lon))
    assert Trip.objects.filter(trace=trace).count() == 1
    assert MatchedSegment.objects.filter(tripleg__trip__trace=trace).count() == 0
    assert trace.matched_with == ""


def test_export_round_trips_through_the_readers(manchester, users):
    lat, lon = manchester.center
    fixes = commute(lat, lon)
    trace = upload(users["citizen"], manchester, fixes, process=False)
    gpx, media = services.export_trace(owner=users["citizen"], trace_id=trace.pk, fmt="gpx")
    assert media == "application/gpx+xml"
    ET.fromstring(gpx)
    back = read_trace(io.BytesIO(gpx.encode()), "gpx")
    assert len(back) == len(fixes) and np.allclose(back.lat, fixes.lat, atol=1e-6)
    text, _ = services.export_trace(owner=users["citizen"], trace_id=trace.pk, fmt="geojson")
    back = read_trace(io.BytesIO(text.encode()), "geojson")
    assert len(back) == len(fixes) and np.allclose(back.t_s, fixes.t_s, atol=1e-3)
    json.loads(text)


def test_only_the_owner_reaches_a_trace(manchester, users):
    lat, lon = manchester.center
    trace = upload(users["citizen"], manchester, commute(lat, lon))
    for other in ("analyst", "admin"):
        with pytest.raises(NotFound):
            services.export_trace(owner=users[other], trace_id=trace.pk, fmt="gpx")
        with pytest.raises(NotFound):
            services.delete_trace(owner=users[other], trace_id=trace.pk)
    assert list(services.my_traces(owner=users["analyst"])) == []
    assert [t.pk for t in services.my_traces(owner=users["citizen"])] == [trace.pk]
    services.delete_trace(owner=users["citizen"], trace_id=trace.pk)
    assert not Trace.objects.exists() and not Trip.objects.exists() and not MatchedSegment.objects.exists()


def test_read_upload_refuses_oversize_files(settings):
    settings.MOBILITY_MAX_UPLOAD_BYTES = 100
    with pytest.raises(Invalid) as err:
        services.read_upload(b"x" * 101, "gpx")
    assert err.value.field == "file"


@pytest.mark.parametrize(
    ("lat", "lon", "radius_m", "field"), [(91, 0, 100, "lat"), (0, 181, 100, "lon"), (0, 0, 10, "radius_m")]
)
def test_zone_checks(users, lat, lon, radius_m, field):
    with pytest.raises(Invalid) as err:
        services.create_zone(owner=users["citizen"], label="x", lat=lat, lon=lon, radius_m=radius_m)
    assert err.value.field == field
