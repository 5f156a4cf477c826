"""Averaging with 75 % completeness, hourly means of sensor readings, NowCast, daily aggregates."""

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartip.core.errors import Invalid
from smartip.sensing import averaging, csvio
from tests.conftest import shared_path

maybe_float = st.one_of(st.none(), st.floats(min_value=0, max_value=500, allow_nan=False))


@pytest.mark.parametrize(("window", "need"), [(24, 18), (8, 6), (12, 9), (1, 1), (3, 3)])
def test_min_count_is_75_percent_rounded_up(window: int, need: int) -> None:
    assert averaging.min_count(window) == need


@settings(max_examples=80, deadline=None)
@given(st.lists(maybe_float, max_size=60), st.sampled_from([1, 3, 8, 24]))
def test_running_mean_matches_a_plain_loop(raw: list[float | None], window: int) -> None:
    values = np.array([np.nan if v is None else v for v in raw])
    got = averaging.running_mean(values, window)
    for i in range(len(raw)):
        valid = [v for v in raw[max(0, i - window + 1) : i + 1] if v is not None]
        if len(valid) >= math.ceil(0.75 * window):
            assert got[i] == pytest.approx(statistics.fmean(valid), rel=1e-9, abs=1e-9)
        else:
            assert np.isnan(got[i])


def test_hour_grid_places_gaps_and_rejects_bad_timestamps() -> None:
    ts = np.array(["2020-01-01T03", "2020-01-01T00", "2020-01-01T01"], dtype="datetime64[s]")
    start, slot, n = averaging.to_hour_grid(ts)
    assert (start, list(slot), n) == (np.datetime64("2020-01-01T00:00:00"), [3, 0, 1], 4)
    with pytest.raises(Invalid, match="row 2: timestamp .* not on the hourly grid"):
        averaging.to_hour_grid(np.array(["2020-01-01T00:00", "2020-01-01T00:30"], dtype="datetime64[s]"))
    with pytest.raises(Invalid, match="row 1: duplicate timestamp"):
        averaging.to_hour_grid(np.array(["2020-01-01T00", "2020-01-01T00"], dtype="datetime64[s]"))


def test_hourly_means_of_a_sensor_community_day_match_stdlib() -> None:
    archive = csvio.read_sensor_community_csv(
        shared_path("data", "environment", "aberdeen_sc_2017-10-10_sds011_sensor_5331.csv")
    )
    starts, means, counts = averaging.hourly_means(archive.timestamps, archive.values["pm25"])
    assert starts.size == 24 and counts.sum() == archive.timestamps.size == 585
    hours = archive.timestamps.astype("datetime64[h]")
    for h in range(24):
        in_hour = archive.values["pm25"][hours == starts[h].astype("datetime64[h]")]
        assert means[h] == pytest.approx(statistics.fmean(in_hour.tolist()))


def test_hourly_means_require_75_percent_coverage() -> None:
    # At 145 s, 45 minutes need 2700 / 145 = 18.6 → 19 readings.
    base = np.datetime64("2020-01-01T00:00:00", "s")
    step = np.timedelta64(145, "s")
    ts = np.concatenate(
        (base + np.arange(19) * step, base + np.timedelta64(3600, "s") + np.arange(18) * step)
    )
    _, means, counts = averaging.hourly_means(ts, np.ones(ts.size))
    assert list(counts) == [19, 18] and means[0] == 1.0 and np.isnan(means[1])


def _nowcast_factsheet(last12_newest_first: list[float | None]) -> float | None:
    """EPA 'PM NowCast' fact sheet, steps 1–7, with AirNow's 2-of-3-newest completeness rule."""
    if sum(v is not None for v in last12_newest_first[:3]) < 2:
        return None
    present = [(i, v) for i, v in enumerate(last12_newest_first) if v is not None]
    cmax = max(v for _, v in present)
    cmin = min(v for _, v in present)
    weight = max(1 - (cmax - cmin) / cmax, 0.5) if cmax > 0 else 1.0
    return sum(weight**i * v for i, v in present) / sum(weight**i for i, _ in present)


@settings(max_examples=80, deadline=None)
@given(st.lists(maybe_float, min_size=1, max_size=40))
def test_nowcast_matches_the_fact_sheet(raw: list[float | None]) -> None:
    got = averaging.nowcast(np.array([np.nan if v is None else v for v in raw]))
    for i in range(len(raw)):
        window = [raw[j] if j >= 0 else None for j in range(i, i - 12, -1)]
        expected = _nowcast_factsheet(window)
        if expected is None:
            assert np.isnan(got[i])
        else:
            assert got[i] == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_nowcast_known_values() -> None:
    assert averaging.nowcast(np.full(12, 20.0))[-1] == 20.0
    pulse = np.zeros(12)
    pulse[-1] = 100.0  # w* = 0 → w = 0.5: 100 / Σ 0.5^i
    assert averaging.nowcast(pulse)[-1] == pytest.approx(100 / sum(0.5**i for i in range(12)))
    gap = np.array([10.0] * 10 + [np.nan, np.nan])
    assert np.isnan(averaging.nowcast(gap)[-1])


def test_daily_mean_and_max_need_18_hours() -> None:
    start = np.datetime64("2020-01-01T00", "s")
    days, day_of = averaging.day_slots(start, 48)
    values = np.arange(48, dtype=float)
    values[24 + 17 :] = np.nan  # day 2 has 17 valid hours
    assert list(days.astype(str)) == ["2020-01-01", "2020-01-02"]
    mean = averaging.daily_mean(values, day_of, 2)
    peak = averaging.daily_max(values, day_of, 2)
    assert mean[0] == pytest.approx(11.5) and np.isnan(mean[1])
    assert peak[0] == 23 and np.isnan(peak[1])
