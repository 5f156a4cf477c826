"""CSV readers (station files, Sensor.Community archive) and the ``smartip sensing aqi`` core."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from smartip.core.errors import Invalid
from smartip.sensing import aqi, csvio
from tests.conftest import shared_path


def _env(name: str) -> Path:
    return shared_path("data", "environment", name)


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("\ufefftimestamp", "timestamp"),
        ("NO₂ level  (µg/m³)", "no2"),
        ("PM₁₀ level  (µg/m³)", "pm10"),
        ("PM2.5", "pm25"),
        ("Nitrogen Dioxide", "no2"),
        ("Ozone", "o3"),
        ("P2", "pm25"),
        ("StationName", "stationname"),
    ],
)
def test_canonical_columns(header: str, key: str) -> None:
    assert csvio.canonical_column(header) == key


def test_manchester_file_matches_stdlib_csv() -> None:
    path = _env("manchester_MAN3_piccadilly_hourly_2020-02_2020-03.csv")
    series = csvio.read_station_csv(path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert series.timestamps.size == len(rows)
    assert str(series.timestamps[25]) == "2020-02-02T01:00:00" and rows[25]["timestamp"] == "02-02-2020 01:00"
    no2_header = next(h for h in rows[0] if h.startswith("NO₂"))
    expected = [float(r[no2_header]) if r[no2_header] not in ("", "null") else np.nan for r in rows]
    assert np.array_equal(series.values["no2"], np.array(expected), equal_nan=True)
    assert np.isnan(series.values["o3"]).all()  # the O3 column is 'undefined' throughout
    assert series.text_columns["StationName"][0] == "MAN3"


def test_aberdeen_file_keeps_negative_and_blank_values() -> None:
    series = csvio.read_station_csv(_env("aberdeen_council_union-street-roadside_hourly_2017-10_2019-06.csv"))
    i = int(np.flatnonzero(series.timestamps == np.datetime64("2017-10-10T23:00"))[0])
    assert series.values["pm25"][i] == -1.0
    assert np.isnan(series.values["pm25"]).sum() > 1000


def test_sensor_community_archive() -> None:
    archive = csvio.read_sensor_community_csv(_env("aberdeen_sc_2017-10-10_sds011_sensor_5331.csv"))
    assert (archive.sensor_id, archive.sensor_type, archive.location) == (5331, "SDS011", 3121)
    assert (archive.lat, archive.lon) == (57.138, -2.077)
    assert set(archive.values) == {"pm10", "pm25"}  # durP1/ratioP1… are empty in every row
    assert archive.timestamps.size == 585
    assert (archive.values["pm10"][0], archive.values["pm25"][0]) == (9.10, 6.23)


def test_24_00_means_midnight_of_the_next_day() -> None:
    text = "DateTime;PM2.5\n2017-10-10 23:00:00;3\n2017-10-10 24:00:00;-1\n"
    series = csvio.read_station_csv(text)
    assert str(series.timestamps[1]) == "2017-10-11T00:00:00"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timestamp,pm25\n2020-01-01 00:00,abc\n", "<text> line 2 pm25: 'abc' is not a number"),
        ("timestamp,pm25\n2020-13-45 00:00,1\n", "<text> line 2: cannot read timestamp"),
        ("when,pm25\n2020-01-01 00:00,1\n", "no timestamp column"),
        ("timestamp,pm25\n2020-01-01 00:00\n", "line 2: 1 fields"),
    ],
)
def test_errors_say_where(text: str, message: str) -> None:
    with pytest.raises(Invalid, match=message.replace("(", r"\(")):
        csvio.read_station_csv(text)


def test_missing_file() -> None:
    with pytest.raises(Invalid, match="cannot read"):
        csvio.read_station_csv(Path("/nonexistent/file.csv"))


CLI_CSV = (
    "timestamp,pm25,pm10,no2,o3,so2\n"
    "2024-06-01T00:00,4.0,10,30,50,5\n"
    "2024-06-01T01:00,4.0,10,30,50,5\n"
    "2024-06-01T02:00,4.0,10,30,130,5\n"
)


def test_aqi_rows_for_each_scheme() -> None:
    eaqi = csvio.aqi_rows(CLI_CSV, "eaqi")
    # EEA 2024 hourly: NO2 30 → Moderate [25, 60); O3 130 in the third hour → Poor [120, 160).
    assert [r.band_name for r in eaqi] == ["Moderate", "Moderate", "Poor"]
    assert [r.dominant for r in eaqi] == ["no2", "no2", "o3"]
    daqi = csvio.aqi_rows(CLI_CSV, "daqi")
    assert daqi[0].sub_indices["pm25"] is None  # no 24-h mean from 3 hours
    us = csvio.aqi_rows(CLI_CSV, "usaqi")
    # NO2 30 µg/m³ = 15.9 ppb → 15 → 14; PM2.5 NowCast from hour 2 on: 4.0 → 22.
    assert us[0].sub_indices["no2"] == aqi.index("usaqi", "no2", [30.0]).value[0] == 14
    assert us[1].sub_indices["pm25"] == 22 and us[1].index == 22
    assert json.loads(json.dumps([r.as_dict() for r in us]))[1]["band_name"] == "Good"


def test_aqi_rows_rejects_files_without_pollutants() -> None:
    with pytest.raises(Invalid, match="no pollutant column"):
        csvio.aqi_rows("timestamp,nox\n2024-01-01T00:00,3\n", "eaqi")
    with pytest.raises(Invalid) as err:
        csvio.aqi_rows(CLI_CSV, "caqi")
    assert err.value.field == "scheme"


def test_aqi_rows_on_a_real_file() -> None:
    rows = csvio.aqi_rows(_env("manchester_MAN1_oxford-road_hourly_2020-02_2020-03.csv"), "daqi")
    assert len(rows) == 1440 and {r.dominant for r in rows} <= {"pm10", "no2", ""}
    assert all(1 <= r.index <= 10 for r in rows if r.index is not None)
