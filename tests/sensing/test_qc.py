"""Quality-control flags: each check, the bits, and the openSenseMap outlier rule as oracle."""

import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartip.core.errors import Invalid
from smartip.sensing import csvio, qc
from tests.conftest import shared_path


def _opensensemap_outliers(values: list[float], window: int) -> list[bool]:
    """Line-by-line port of openSenseMap-API packages/api/lib/transformers/outlierTransformer.js."""
    buf: list[float] = []
    out = []
    for value in values:
        is_outlier = False
        if len(buf) == window:
            median = statistics.median(buf)
            mad = statistics.median([abs(v - median) for v in buf])
            is_outlier = value > median + 3 * mad or value < median - 3 * mad
        if len(buf) < window:
            buf.append(value)
        else:
            buf.pop(0)
            buf.append(value)
        out.append(is_outlier)
    return out


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda x: round(x, 1)), max_size=80),
    st.integers(min_value=1, max_value=20),
)
def test_spike_flags_equal_opensensemap(values: list[float], window: int) -> None:
    expected = _opensensemap_outliers(values, window)
    got = qc.spike_flags(np.asarray(values, dtype=float), window=window, chunk=7)
    assert [bool(f & qc.SPIKE) for f in got] == expected


def test_spike_skips_missing_values() -> None:
    values = np.array([5.0, 5.0, np.nan, 5.0, 80.0])
    flags = qc.spike_flags(values, window=3)
    assert list(flags) == [0, 0, 0, 0, qc.SPIKE]
    with pytest.raises(Invalid):
        qc.spike_flags(values, window=0)


def test_stuck_flags_whole_runs_of_n_or_more() -> None:
    values = np.array([1.0] * 5 + [2.0] * 6 + [np.nan] * 7 + [3.0])
    flags = qc.stuck_flags(values, n=6)
    assert list(flags[:5]) == [0] * 5
    assert list(flags[5:11]) == [qc.STUCK] * 6
    assert not flags[11:].any()  # NaN never counts as a repeated value


def test_flatline_needs_two_hours_of_identical_values() -> None:
    ts = np.arange(0, 10) * 900.0  # every 15 min
    values = np.array([4.0] * 9 + [5.0])  # 8 × 15 min = 2 h of 4.0
    assert list(qc.flatline_flags(ts, values)) == [qc.FLATLINE] * 9 + [0]
    assert not qc.flatline_flags(ts[:8], values[:8]).any()  # 1 h 45 min


def test_range_flags_by_sensor_model() -> None:
    values = np.array([-0.1, 0.0, 999.9, 1000.0, np.nan])
    flags = qc.range_flags_for("pm", values, "SDS011")
    assert list(flags) == [qc.RANGE, 0, 0, qc.RANGE, qc.MISSING]
    assert qc.range_flags_for("pm", [1000.0], "PMS5003")[0] == 0
    assert qc.range_flags_for("humidity", [100.5])[0] == qc.RANGE
    with pytest.raises(Invalid):
        qc.range_flags_for("radon", [1.0])


def test_pm_order_with_tolerance() -> None:
    pm1 = np.array([5.0, 7.0, 5.0, np.nan])
    pm25 = np.array([6.0, 5.9, 6.0, 6.0])
    pm10 = np.array([6.5, 9.0, 4.9, 1.0])
    assert list(qc.pm_order_flags(pm1, pm25, pm10)) == [0, qc.PM_ORDER, qc.PM_ORDER, qc.PM_ORDER]
    assert list(qc.pm_order_flags(None, pm25, None)) == [0, 0, 0, 0]


def test_humidity_flags() -> None:
    flags = qc.humidity_flags([50.0, 80.0, 99.9, np.nan])
    assert list(flags) == [0, qc.HIGH_RH, qc.HIGH_RH | qc.RH_PINNED, 0]


def test_flags_never_delete_and_masking_is_a_copy() -> None:
    values = np.array([1.0, 2.0, 500.0, 3.0])
    flags = np.array([0, qc.HIGH_RH, qc.SPIKE, 0], dtype=np.uint16)
    clean = qc.masked(values, flags)
    assert clean.size == values.size and np.isnan(clean[1:3]).all() and values[2] == 500.0
    assert qc.masked(values, flags, ignore=int(qc.HIGH_RH))[1] == 2.0
    assert qc.describe(int(qc.SPIKE | qc.STUCK)) == ["stuck", "spike"]


def test_flag_pm_series_on_a_real_sds011_day() -> None:
    env = shared_path("data", "environment")
    pm = csvio.read_sensor_community_csv(env / "aberdeen_sc_2017-10-10_sds011_sensor_5331.csv")
    rh = csvio.read_sensor_community_csv(env / "aberdeen_sc_2017-10-10_dht22_sensor_5332.csv")
    n = min(pm.timestamps.size, rh.timestamps.size)
    flags = qc.flag_pm_series(
        pm.values["pm25"][:n],
        pm10=pm.values["pm10"][:n],
        rh_percent=rh.values["humidity"][:n],
        timestamps_s=pm.timestamps[:n].astype(np.int64).astype(float),
        sensor_model="SDS011",
    )
    assert flags.pm25.size == flags.pm10.size == n  # type: ignore[union-attr]
    assert not (flags.pm25 & (qc.RANGE | qc.MISSING)).any()
    spikes = (flags.pm25 & qc.SPIKE) != 0
    assert 0 < spikes.sum() < n // 4  # a few outliers, not the whole series
    high_rh = rh.values["humidity"][:n] >= 80
    assert np.array_equal((flags.pm25 & qc.HIGH_RH) != 0, high_rh)


def test_spike_floor_ignores_small_changes_after_identical_readings():
    from smartip.sensing import qc

    values = [5.0] * 20 + [5.3, 5.0, 25.0, 5.0]
    bare = qc.spike_flags(values)
    floored = qc.spike_flags(values, min_spread=1.0)
    assert bare[20] and bare[22]  # MAD 0: any change is a spike under the bare rule
    assert not floored[20] and floored[22]  # only the real jump survives the floor
