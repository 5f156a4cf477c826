"""`smartip sensing import`: the real Sensor.Community archive and station CSVs in shared/data/environment."""

import csv
import json
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from smartip.sensing.models import HourlyAggregate, Observation, Sensor
from tests.conftest import shared_path

pytestmark = pytest.mark.django_db
SC_FILES = (
    "aberdeen_sc_2017-10-10_sds011_sensor_5331.csv",
    "aberdeen_sc_2017-10-10_dht22_sensor_5332.csv",
    "aberdeen_sc_2018-03-11_sds011_sensor_8554.csv",
)
SC_COLUMNS = {"P1": "pm10", "P2": "pm25", "temperature": "temperature", "humidity": "humidity"}


@pytest.fixture
def aberdeen(db):
    from smartip.cities.services import upsert_city

    return upsert_city(
        {
            "slug": "aberdeen",
            "name": "Aberdeen",
            "country": "GB",
            "timezone": "Europe/London",
            "languages": ["en"],
            "bbox": [57.08, -2.25, 57.22, -2.04],
            "profile": {"aqi_scheme": "daqi"},
        }
    )


def cells(path: Path, columns: dict[str, str], delimiter: str = ";") -> dict[str, int]:
    """The oracle: non-blank cells per quantity, counted with the csv module."""
    out: dict[str, int] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=delimiter):
            for col, q in columns.items():
                if (row.get(col) or "").strip().lower() not in ("", "undefined", "null", "nan", "-"):
                    out[q] = out.get(q, 0) + 1
    return out


def run_import(capsys, *args: str) -> list[dict]:
    call_command("sensing", "import", *args, "--json")
    captured = capsys.readouterr()
    return json.loads(captured.out)


def test_sensor_community_archives_import_once(aberdeen, capsys):
    paths = [shared_path("data", "environment", name) for name in SC_FILES]
    rows = run_import(capsys, *map(str, paths), "--city", "aberdeen")
    assert [r["created"] for r in rows] == [True, True, True]
    for path, row in zip(paths, rows, strict=True):
        sensor = Sensor.objects.get(pk=row["sensor"])
        expected = cells(path, SC_COLUMNS)
        got = dict((q, Observation.objects.filter(sensor=sensor, quantity=q).count()) for q in expected)
        assert got == expected
        assert row["stored"] == sum(expected.values()) and row["duplicates"] == 0
        assert sensor.firmware_id == f"sc-{path.name.split('_')[-1].removesuffix('.csv')}"
    # 585 SDS011 readings at ~145 s over one day: hours with ≥ 19 readings get a mean
    sds = Sensor.objects.get(firmware_id="sc-5331")
    hours = HourlyAggregate.objects.filter(sensor=sds, quantity="pm25")
    assert hours.count() == 24
    assert all((h.mean is not None) == (h.n >= 19) for h in hours)

    again = run_import(capsys, *map(str, paths), "--city", "aberdeen")
    assert [r["stored"] for r in again] == [0, 0, 0]
    assert [r["duplicates"] for r in again] == [r["stored"] for r in rows]
    assert [r["created"] for r in again] == [False, False, False]


def test_station_csv_imports_as_a_reference_station(manchester, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # tqdm draws only on a terminal
    path = shared_path("data", "environment", "manchester_MAN3_piccadilly_hourly_2020-02_2020-03.csv")
    call_command("sensing", "import", str(path), "--city", "manchester", "--station", "MAN3 Piccadilly")
    captured = capsys.readouterr()
    assert (
        "7168/" in captured.err and "7168" in captured.out
    )  # the tqdm bar is on stderr, the table on stdout
    station = Sensor.objects.get(firmware_id="station-MAN3 Piccadilly")
    assert station.is_reference and not station.is_home_hosted and station.interval_s == 3600
    header = {
        "NO₂ level  (µg/m³)": "no2",
        "PM₁₀ level  (µg/m³)": "pm10",
        "NO level  (µg/m³)": "no",
        "SO₂ level  (µg/m³)": "so2",
        "NOx level  (µg/m³)": "nox",
        "O₃ level  (µg/m³)": "o3",
    }
    expected = cells(path, header, delimiter=",")
    got = {q: Observation.objects.filter(sensor=station, quantity=q).count() for q in expected}
    assert got == expected and "o3" not in expected  # O3 is 'undefined' throughout
    # one reading an hour is a complete hour for a station
    assert (
        HourlyAggregate.objects.filter(sensor=station, quantity="no2", mean__isnull=False).count()
        == expected["no2"]
    )


def test_station_with_small_negative_values_imports(aberdeen, capsys):
    path = shared_path(
        "data", "environment", "aberdeen_council_union-street-roadside_hourly_2017-10_2019-06.csv"
    )
    rows = run_import(capsys, str(path), "--city", "aberdeen", "--station", "Union Street", "--no-aggregate")
    expected = cells(path, {"Nitrogen Dioxide": "no2", "PM10": "pm10", "PM2.5": "pm25"})
    assert rows[0]["stored"] == sum(expected.values())
    assert Observation.objects.filter(value__lt=0).exists()  # reference zero drift is kept, not refused


def test_unsupported_files_fail_clearly(aberdeen, tmp_path):
    madavi = shared_path("data", "environment", "aberdeen_madavi_esp8266-3654427_2018-02-02.csv")
    with pytest.raises(CommandError, match="expected header"):
        call_command("sensing", "import", str(madavi), "--city", "aberdeen")
    with pytest.raises(CommandError, match="no such file"):
        call_command("sensing", "import", str(tmp_path / "missing.csv"), "--city", "aberdeen")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "sensor_id;sensor_type;location;lat;lon;timestamp;P1;P2\n1;SDS011;1;57.1;-2.1;2018-01-01T00:00:00;-4;2\n"
    )
    with pytest.raises(CommandError, match="line 2 pm10"):
        call_command("sensing", "import", str(bad), "--city", "aberdeen")
    assert Observation.objects.count() == 0
