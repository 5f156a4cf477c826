"""Hourly and daily indices from the real Manchester and Aberdeen station files.

The oracle reads the CSV with the standard library and averages with ``statistics``, independently of
smartip's readers and averaging; band tables come from the transcription in test_aqi_breakpoints.py.
"""

import csv
import statistics
from datetime import datetime

import numpy as np
import pytest

from smartip.sensing import aqi, csvio
from tests.conftest import shared_path
from tests.sensing.test_aqi_breakpoints import DAQI, EEA

MAN3 = "manchester_MAN3_piccadilly_hourly_2020-02_2020-03.csv"
ERROL = "aberdeen_council_errol-place_hourly_2017-10_2019-06.csv"


def _stdlib_columns(
    name: str, needles: dict[str, str], fmt: str, delimiter: str = ","
) -> tuple[list[datetime], dict[str, list[float | None]]]:
    path = shared_path("data", "environment", name)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=delimiter))
    header = rows[0]
    cols = {key: next(i for i, h in enumerate(header) if needle in h) for key, needle in needles.items()}
    stamps = [datetime.strptime(r[0], fmt) for r in rows[1:]]
    values: dict[str, list[float | None]] = {}
    for key, i in cols.items():
        values[key] = [
            float(r[i]) if r[i].strip() not in ("", "undefined", "null") else None for r in rows[1:]
        ]
    return stamps, values


def _man3() -> tuple[list[datetime], dict[str, list[float | None]]]:
    return _stdlib_columns(MAN3, {"no2": "NO₂", "pm10": "PM₁₀", "so2": "SO₂"}, "%d-%m-%Y %H:%M")


def _daqi_index(pollutant: str, conc: float) -> int:
    rounded = int(conc + 0.5) if conc >= 0 else 0
    lows = [int(row.split("-")[0].rstrip("+")) for row in DAQI[pollutant].split()]
    return max(n for n, lo in enumerate(lows, start=1) if rounded >= lo)


def _mean_if_complete(window: list[float | None], need: int) -> float | None:
    valid = [v for v in window if v is not None]
    return statistics.fmean(valid) if len(valid) >= need else None


@pytest.fixture(scope="module")
def man3_series() -> csvio.StationSeries:
    return csvio.read_station_csv(shared_path("data", "environment", MAN3))


def test_man3_is_one_row_per_hour(man3_series: csvio.StationSeries) -> None:
    stamps, _ = _man3()
    assert man3_series.timestamps.size == len(stamps) == 1440
    assert (np.diff(man3_series.timestamps).astype(int) == 3600).all()


def test_hand_checked_first_hour(man3_series: csvio.StationSeries) -> None:
    conc = {k: man3_series.values[k] for k in ("no2", "pm10", "so2")}
    # 2020-02-01 00:00: NO2 32.50629 µg/m³ lies in EEA 2024 "Moderate" [25, 60); PM10 6.9 and SO2 1.3 are Good.
    eea = aqi.hourly_indices("eaqi", man3_series.timestamps, conc).result
    assert (eea.band_name[0], eea.dominant[0]) == ("Moderate", "no2")
    # US: 32.50629 µg/m³ × 24.45 / 46.0055 = 17.28 ppb → 17 → 50/53 × 17 = 16.04 → 16. PM10 NowCast needs 2 of 3 h.
    us = aqi.hourly_indices("usaqi", man3_series.timestamps, conc).result
    assert us.value[0] == 16 and np.isnan(us.sub["pm10"].value[0])
    # DAQI: NO2 rounds to 33 → index 1; PM10 has no 24-h mean yet (needs 18 hours).
    daqi = aqi.hourly_indices("daqi", man3_series.timestamps, conc).result
    assert daqi.value[0] == 1 and np.isnan(daqi.sub["pm10"].value[0])


def test_hand_checked_pm10_peak(man3_series: csvio.StationSeries) -> None:
    # 2020-03-27 16:00: the 24 hourly PM10 values 15:00 (26th) … 16:00 average 42.59 → 43 → DAQI 3 ("Low").
    conc = {k: man3_series.values[k] for k in ("no2", "pm10", "so2")}
    r = aqi.hourly_indices("daqi", man3_series.timestamps, conc)
    i = int(np.flatnonzero(man3_series.timestamps == np.datetime64("2020-03-27T16:00"))[0])
    assert r.averaged_ugm3["pm10"][i] == pytest.approx(42.5948, abs=1e-4)
    assert (r.result.value[i], r.result.band_name[i], r.result.dominant[i]) == (3, "Low", "pm10")


def test_daqi_hourly_matches_stdlib_oracle(man3_series: csvio.StationSeries) -> None:
    stamps, cols = _man3()
    conc = {k: man3_series.values[k] for k in ("no2", "pm10", "so2")}
    r = aqi.hourly_indices("daqi", man3_series.timestamps, conc).result
    for i in range(23, len(stamps), 37):
        subs = []
        pm = _mean_if_complete(cols["pm10"][i - 23 : i + 1], 18)
        if pm is not None:
            subs.append(_daqi_index("pm10", pm))
        for p in ("no2", "so2"):
            if cols[p][i] is not None:
                subs.append(_daqi_index(p, cols[p][i]))  # type: ignore[arg-type]
        assert r.value[i] == max(subs), stamps[i]


def test_eaqi_2021_uses_24h_pm_and_2024_hourly(man3_series: csvio.StationSeries) -> None:
    stamps, cols = _man3()
    pm10 = man3_series.values["pm10"]
    r24 = aqi.hourly_indices("eaqi", man3_series.timestamps, {"pm10": pm10}, "2024").result
    r21 = aqi.hourly_indices("eaqi", man3_series.timestamps, {"pm10": pm10}, "2021").result
    edges24 = [float(x) for x in EEA["2024"]["pm10"].split()]
    edges21 = [float(x) for x in EEA["2021"]["pm10"].split()]
    for i in range(23, len(stamps), 41):
        if cols["pm10"][i] is not None:
            assert r24.band[i] == sum(cols["pm10"][i] >= e for e in edges24)  # type: ignore[operator]
        mean = _mean_if_complete(cols["pm10"][i - 23 : i + 1], 18)
        if mean is not None:
            assert r21.band[i] == sum(mean >= e for e in edges21)


def test_daqi_daily_matches_stdlib_oracle(man3_series: csvio.StationSeries) -> None:
    stamps, cols = _man3()
    conc = {k: man3_series.values[k] for k in ("no2", "pm10", "so2")}
    daily = aqi.daily_indices("daqi", man3_series.timestamps, conc)
    assert daily.timestamps.size == 60
    for d, day in enumerate(daily.timestamps.astype("datetime64[D]").astype(object)):
        idx = [i for i, s in enumerate(stamps) if s.date() == day]
        subs = []
        pm = _mean_if_complete([cols["pm10"][i] for i in idx], 18)
        if pm is not None:
            subs.append(_daqi_index("pm10", pm))
        for p in ("no2", "so2"):
            valid = [cols[p][i] for i in idx if cols[p][i] is not None]
            if len(valid) >= 18:
                subs.append(_daqi_index(p, max(valid)))  # type: ignore[type-var]
        assert daily.result.value[d] == max(subs), day


def test_us_ozone_8h_from_aberdeen_errol_place() -> None:
    stamps, cols = _stdlib_columns(ERROL, {"o3": "Ozone"}, "%Y-%m-%d %H:%M:%S", delimiter=";")
    series = csvio.read_station_csv(shared_path("data", "environment", ERROL))
    r = aqi.hourly_indices("usaqi", series.timestamps, {"o3": series.values["o3"]})
    for i in range(7, 2000, 53):
        mean = _mean_if_complete(cols["o3"][i - 7 : i + 1], 6)
        if mean is None:
            assert np.isnan(r.averaged_ugm3["o3"][i])
            continue
        ppm = mean * 24.45 / 47.9982 / 1000
        truncated = int(ppm * 1000 + 1e-6) / 1000
        # All Aberdeen values are far below 0.055 ppm: the "Good" row 0.000–0.054 → 0–50.
        assert truncated <= 0.054
        assert r.result.value[i] == int(50 / 0.054 * truncated + 0.5)
