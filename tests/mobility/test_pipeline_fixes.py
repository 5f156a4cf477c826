"""The columnar fix type: validation, compact blob round trip, distances, privacy zones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from smartip.core.errors import Invalid
from smartip.core.geo import haversine_m as scalar_haversine_m
from smartip.mobility.fixes import Fixes, concat, decode, drop_in_zones, encode, from_columns, haversine_m

point_haversine_dist = pytest.importorskip("trackintel.geogr.distances").point_haversine_dist

coords = st.tuples(
    st.floats(-89.9, 89.9),
    st.floats(-179.9, 179.9),
    st.floats(0, 5e4),
    st.one_of(st.just(math.nan), st.floats(0, 500)),
)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(coords, min_size=0, max_size=60), start=st.integers(0, 2_000_000_000))
def test_blob_round_trip(rows: list[tuple[float, float, float, float]], start: int) -> None:
    t = start + np.cumsum([r[2] for r in rows]) if rows else np.empty(0)
    t = np.round(t, 3)
    fixes = from_columns(t, [r[0] for r in rows], [r[1] for r in rows], [r[3] for r in rows])
    back = decode(encode(fixes))
    np.testing.assert_allclose(back.t_s, fixes.t_s, atol=5e-4)
    np.testing.assert_allclose(back.lat, fixes.lat, atol=5.1e-8)
    np.testing.assert_allclose(back.lon, fixes.lon, atol=5.1e-8)
    np.testing.assert_array_equal(back.accuracy_m, fixes.accuracy_m)
    assert Fixes.from_bytes(fixes.to_bytes()).t_s.shape == fixes.t_s.shape


def test_blob_is_compact_for_a_real_looking_trace() -> None:
    n = 10_000
    t = 1.7e9 + np.arange(n) * 1.0
    lat = 47.37 + np.cumsum(np.full(n, 1e-5))
    lon = 8.54 + np.cumsum(np.full(n, 1e-5))
    blob = encode(from_columns(t, np.round(lat, 6), np.round(lon, 6), np.full(n, 5.0)))
    assert len(blob) < n * 4  # vs 40 bytes a fix uncompressed


def test_corrupt_blobs_are_refused() -> None:
    blob = encode(from_columns([1.0, 2.0], [1.0, 1.0], [2.0, 2.0]))
    with pytest.raises(Invalid, match="not a SMARTiP fix blob"):
        decode(b"XXXX" + blob[4:])
    with pytest.raises(Invalid, match="corrupt fix blob"):
        decode(blob[:20] + b"\x00" * 5)
    with pytest.raises(Invalid, match="too short"):
        decode(b"SM")


def test_validation_names_the_fix() -> None:
    with pytest.raises(Invalid, match="lon 200.0 out of range .* at fix 1"):
        from_columns([1.0, 2.0], [1.0, 1.0], [2.0, 200.0])
    with pytest.raises(Invalid, match="missing or non-numeric time at fix 0"):
        from_columns([math.nan], [1.0], [2.0])
    with pytest.raises(Invalid, match="different lengths"):
        from_columns([1.0, 2.0], [1.0], [2.0, 2.0])


def test_concat_sorts_by_time() -> None:
    a = from_columns([10.0, 20.0], [1.0, 1.0], [2.0, 2.0])
    b = from_columns([5.0, 15.0], [3.0, 3.0], [4.0, 4.0])
    np.testing.assert_array_equal(concat([a, b]).t_s, [5.0, 10.0, 15.0, 20.0])


@settings(max_examples=40, deadline=None)
@given(p=hnp.arrays(np.float64, (4,), elements=st.floats(-80, 80)))
def test_haversine_matches_trackintel(p: np.ndarray) -> None:
    ours = float(haversine_m(p[0], p[1], p[2], p[3]))
    ref = point_haversine_dist(p[1], p[0], p[3], p[2], float_flag=True)
    assert ours == pytest.approx(ref, abs=1e-6) or (math.isnan(ref) and ours < 1e-3)


def test_drop_in_zones_against_scalar_distance() -> None:
    rng = np.random.default_rng(3)
    n = 2_000
    lat = 51.05 + rng.uniform(-0.02, 0.02, n)
    lon = 3.72 + rng.uniform(-0.03, 0.03, n)
    fixes = from_columns(np.arange(n, dtype=float), lat, lon)
    zones = [(51.05, 3.72, 800.0), (51.06, 3.70, 300.0)]
    kept = drop_in_zones(fixes, zones)
    expected = [
        i for i in range(n) if all(scalar_haversine_m(lat[i], lon[i], z[0], z[1]) > z[2] + 0.5 for z in zones)
    ]
    borderline = [
        i
        for i in range(n)
        if any(abs(scalar_haversine_m(lat[i], lon[i], z[0], z[1]) - z[2]) <= 0.5 for z in zones)
    ]
    got = set(np.flatnonzero(np.isin(fixes.t_s, kept.t_s)).tolist())
    assert set(expected) <= got <= set(expected) | set(borderline)
    assert len(kept) < n
    assert drop_in_zones(fixes, []) is fixes
