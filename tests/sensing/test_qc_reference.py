"""The compiled QC checks against plain-Python references, on random series with gaps, ties and many series.

Each reference is written the slow, obvious way (a loop per reading, ``statistics.median`` on a list) so that
the compiled kernel in qc_rolling.py (sorted window, min-max MAD, fused checks) has to agree with the rule as
written, bit for bit, including NaN gaps, ±inf, repeated values, short series and series boundaries.
"""

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartip.core.errors import Invalid
from smartip.sensing import qc, qc_lanes, qc_rolling

# Few distinct values, so windows are full of ties and MADs of 0; NaN gaps; now and then ±inf and -0.0.
_VALUE = st.one_of(
    st.sampled_from([0.0, -0.0, 0.1, 0.2, 0.3, 1.0, 1.5, 2.0, 7.25, 12.34, 999.9, 1000.0, 1e300]),
    st.floats(min_value=-5, max_value=1100, allow_nan=False).map(lambda x: round(x, 2)),
    st.just(math.nan),
    st.sampled_from([math.inf, -math.inf]),
)


@st.composite
def _series(draw: st.DrawFn, max_size: int = 90, max_cuts: int = 12) -> tuple[list[float], list[int]]:
    """Readings of one or more series back to back, and where each series starts (from
    qc.LANES_MIN_SERIES series on, qc runs the spike check in SIMD lanes: both paths get drawn)."""
    values = draw(st.lists(_VALUE, max_size=max_size))
    cuts = draw(st.lists(st.integers(min_value=1, max_value=max(len(values) - 1, 1)), max_size=max_cuts))
    starts = sorted({0, *(c for c in cuts if c < len(values))}) if values else []
    return values, starts


def _split(values: list[float], starts: list[int]) -> list[list[float]]:
    bounds = [*starts, len(values)]
    return [values[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _spike_ref(values: list[float], window: int, k: float, min_spread: float) -> list[bool]:
    """The rule as written, one reading at a time: previous `window` finite readings, median, MAD."""
    out = []
    finite_before: list[float] = []
    for x in values:
        hit = False
        if math.isfinite(x):
            if len(finite_before) >= window:
                w = finite_before[-window:]
                m = statistics.median(w)
                mad = statistics.median([abs(v - m) for v in w])
                hit = x > m + k * mad or x < m - k * mad
                if min_spread > 0:
                    hit = hit and abs(x - m) > k * min_spread
            finite_before.append(x)
        out.append(hit)
    return out


def _stuck_ref(values: list[float], n: int) -> list[bool]:
    out = [False] * len(values)
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:  # NaN != NaN ends the run
            j += 1
        if j - i + 1 >= n and math.isfinite(values[i]):
            out[i : j + 1] = [True] * (j - i + 1)
        i = j + 1
    return out


def _range_ref(values: list[float], lo: float, hi: float) -> list[int]:
    return [(0 if math.isfinite(x) else 1) | (2 if (x < lo or x > hi) else 0) for x in values]


def _flatline_ref(ts: list[float], values: list[float], duration_s: float) -> list[bool]:
    out = [False] * len(values)
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        if ts[j] - ts[i] >= duration_s and math.isfinite(values[i]):
            out[i : j + 1] = [True] * (j - i + 1)
        i = j + 1
    return out


def _per_series(ref, values: list[float], starts: list[int], *args: object) -> list:  # type: ignore[no-untyped-def]
    return [flag for part in _split(values, starts) for flag in ref(part, *args)]


@settings(max_examples=300, deadline=None)
@given(
    _series(),
    st.integers(min_value=1, max_value=20),
    st.sampled_from([3.0, 0.0, 0.5, 2.5]),
    st.sampled_from([0.0, 0.0, 0.3, 1.0]),
)
def test_spike_equals_reference(
    data: tuple[list[float], list[int]], window: int, k: float, min_spread: float
) -> None:
    values, starts = data
    got = qc.spike_flags(values, window, k, min_spread=min_spread, series_starts=starts)
    expected = _per_series(_spike_ref, values, starts, window, k, min_spread)
    assert [bool(f & qc.SPIKE) for f in got] == expected
    assert not (got & ~qc.SPIKE).any()


@settings(max_examples=200, deadline=None)
@given(
    _series(max_size=150, max_cuts=25),
    st.integers(min_value=1, max_value=20),
    st.sampled_from([3.0, 0.5]),
    st.sampled_from([0.0, 0.3]),
    st.sampled_from([1, 2, 3, 8]),
)
def test_both_spike_kernels_equal_reference(
    data: tuple[list[float], list[int]], window: int, k: float, min_spread: float, lanes: int
) -> None:
    """The one-series loop and the SIMD-lanes kernel, called directly (any number of series and lanes)."""
    values, starts = data
    x = np.asarray(values, dtype=np.float64)
    at = np.asarray(starts, dtype=np.int64)
    expected = _per_series(_spike_ref, values, starts, window, k, min_spread)
    in_lanes = np.zeros(x.size, dtype=np.uint16)
    qc_lanes.spike_flags(x, at, in_lanes, window, k, min_spread, lanes)
    assert [bool(f) for f in in_lanes] == expected
    one_by_one = np.zeros(x.size, dtype=np.uint16)
    qc_rolling.series_flags(x, at, one_by_one, 0.0, 0.0, False, 0, window, k, min_spread)
    assert [bool(f) for f in one_by_one] == expected


@settings(max_examples=200, deadline=None)
@given(_series(), st.integers(min_value=1, max_value=8))
def test_stuck_equals_reference(data: tuple[list[float], list[int]], n: int) -> None:
    values, starts = data
    got = qc.stuck_flags(values, n, series_starts=starts)
    assert [bool(f & qc.STUCK) for f in got] == _per_series(_stuck_ref, values, starts, n)
    assert not (got & ~qc.STUCK).any()


@settings(max_examples=100, deadline=None)
@given(st.lists(_VALUE, max_size=60))
def test_range_equals_reference(values: list[float]) -> None:
    lo, hi = qc.range_limits("pm", "SDS011")
    assert list(qc.range_flags_for("pm", values, "SDS011")) == _range_ref(values, lo, hi)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_VALUE, _VALUE, _VALUE, _VALUE), max_size=60))
def test_pm_order_and_humidity_equal_reference(rows: list[tuple[float, float, float, float]]) -> None:
    pm1, pm25, pm10, rh = (np.array([r[i] for r in rows], dtype=float) for i in range(4))
    order = qc.pm_order_flags(pm1, pm25, pm10)
    expected = [16 if (a > b + 1.0 or b > c + 1.0) else 0 for a, b, c, _ in rows]
    assert list(order) == expected
    humid = qc.humidity_flags(rh)
    assert list(humid) == [(32 if h >= 80.0 else 0) | (64 if h >= 99.9 else 0) for *_, h in rows]


def _flag_pm_ref(pm25: list[float], pm10: list[float], rh: list[float], ts: list[float]) -> list[list[int]]:
    """flag_pm_series of one series, composed from the plain references."""
    lo, hi = qc.range_limits("pm", "SDS011")
    common = [
        (16 if b > c + 1.0 else 0) | (32 if h >= 80.0 else 0) | (64 if h >= 99.9 else 0)
        for b, c, h in zip(pm25, pm10, rh, strict=True)
    ]
    out = []
    for values in (pm25, pm10):
        rng = _range_ref(values, lo, hi)
        stuck = _stuck_ref(values, qc.STUCK_RUN)
        spike = _spike_ref(values, qc.SPIKE_WINDOW, qc.SPIKE_K, 0.0)
        flat = [128 if f else 0 for f in _flatline_ref(ts, values, qc.FLATLINE_S)]
        out.append(
            [
                c | r | (4 if s else 0) | (8 if p else 0) | f
                for c, r, s, p, f in zip(common, rng, stuck, spike, flat, strict=True)
            ]
        )
    return out


@settings(max_examples=60, deadline=None)
@given(_series(max_size=120), st.data())
def test_flag_pm_series_of_many_series_equals_one_call_per_series(
    data: tuple[list[float], list[int]], draw: st.DataObject
) -> None:
    pm25, starts = data
    n = len(pm25)
    pm10 = draw.draw(st.lists(_VALUE, min_size=n, max_size=n))
    rh = draw.draw(st.lists(st.sampled_from([50.0, 80.0, 99.9, 100.0, math.nan]), min_size=n, max_size=n))
    ts = [900.0 * i for i in range(n)]
    got = qc.flag_pm_series(
        pm25, pm10=pm10, rh_percent=rh, timestamps_s=ts, sensor_model="SDS011", series_starts=starts
    )
    bounds = [*starts, n]
    for a, b in zip(bounds, bounds[1:], strict=False):
        want25, want10 = _flag_pm_ref(pm25[a:b], pm10[a:b], rh[a:b], ts[a:b])
        assert list(got.pm25[a:b]) == want25
        assert got.pm10 is not None and list(got.pm10[a:b]) == want10
        one = qc.flag_pm_series(
            pm25[a:b], pm10=pm10[a:b], rh_percent=rh[a:b], timestamps_s=ts[a:b], sensor_model="SDS011"
        )
        assert np.array_equal(one.pm25, got.pm25[a:b])


def test_spike_on_a_long_random_series_equals_reference() -> None:
    """Long enough for the window to wrap many times, with the benchmark's kind of data (2 decimals)."""
    rng = np.random.default_rng(7)
    values = np.round(np.exp(rng.normal(2.0, 0.6, 3000)), 2)
    values[rng.choice(3000, 40, replace=False)] = np.nan
    values[100:112] = values[100]
    for window, k in ((15, 3.0), (16, 3.0), (5, 1.0)):
        got = qc.spike_flags(values, window, k, series_starts=[0, 1000, 1001, 2500])
        expected = _per_series(_spike_ref, list(values), [0, 1000, 1001, 2500], window, k, 0.0)
        assert [bool(f) for f in got] == expected


def test_many_long_series_in_lanes_equal_reference() -> None:
    """Enough series for the lanes path, of unequal lengths (lanes idle at their end), blocks wrapping."""
    rng = np.random.default_rng(11)
    values = np.round(np.exp(rng.normal(2.0, 0.6, 12_000)), 1)
    values[rng.choice(values.size, 300, replace=False)] = np.nan
    starts = np.sort(rng.choice(np.arange(1, values.size), 29, replace=False))
    starts = np.concatenate(([0], starts))
    assert starts.size >= qc.LANES_MIN_SERIES
    for window in (15, 4):
        got = qc.spike_flags(values, window, series_starts=starts)
        expected = _per_series(_spike_ref, list(values), list(starts), window, 3.0, 0.0)
        assert [bool(f) for f in got] == expected


def test_series_starts_are_checked() -> None:
    for bad in ([1, 3], [0, 3, 3], [0, 10], []):
        with pytest.raises(Invalid):
            qc.spike_flags([1.0] * 10, series_starts=bad)
    with pytest.raises(Invalid):
        qc.flag_pm_series([1.0, 2.0], pm10=[1.0, 2.0, 3.0])
    assert qc.spike_flags([]).size == 0 and qc.stuck_flags([], series_starts=[]).size == 0
