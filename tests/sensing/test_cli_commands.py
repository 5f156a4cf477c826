import json

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import shared_path


def test_aqi_json_on_manchester_station(capsys):
    path = shared_path("data", "environment", "manchester_MAN3_piccadilly_hourly_2020-02_2020-03.csv")
    call_command("sensing", "aqi", str(path), "--scheme", "daqi", "--json")
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) > 24 * 20
    assert {r["band_name"] for r in rows if r["index"] is not None} <= {
        "Low",
        "Moderate",
        "High",
        "Very High",
    }
    assert all(1 <= r["index"] <= 10 for r in rows if r["index"] is not None)


def test_aqi_table_output_and_bad_file(tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_text("timestamp,pm25\n2024-01-01T00:00:00Z,not-a-number\n")
    with pytest.raises(CommandError, match="line 2"):
        call_command("sensing", "aqi", str(path), "--scheme", "eaqi")
    with pytest.raises(CommandError, match="(?i)no such file"):
        call_command("sensing", "aqi", str(tmp_path / "missing.csv"), "--scheme", "eaqi")
