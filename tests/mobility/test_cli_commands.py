import json

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import shared_path


def test_process_geolife_plt_prints_trips_with_modes(capsys):
    folder = shared_path("data", "mobility", "trackintel", "tests", "data", "geolife_long")
    plt = sorted(folder.rglob("*.plt"))[0]
    call_command("mobility", "process", str(plt), "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["fixes"] > 100 and out["trips"]
    modes = {m for trip in out["trips"] for m in trip["modes"]}
    assert modes <= {"walk", "bicycle", "bus", "car", "train", ""}
    assert all(t["started_at"] <= t["finished_at"] for t in out["trips"])


def test_process_unknown_format_is_a_clear_error(tmp_path):
    path = tmp_path / "trace.txt"
    path.write_text("hello")
    with pytest.raises(CommandError, match="unknown trace format"):
        call_command("mobility", "process", str(path))


def test_process_prints_a_table_of_stay_points_with_span_location_and_duration(capsys):
    folder = shared_path("data", "mobility", "trackintel", "tests", "data", "geolife_long")
    plt = sorted(folder.rglob("*.plt"))[0]
    call_command("mobility", "process", str(plt), "--json")
    summary = json.loads(capsys.readouterr().out)
    staypoints = summary["staypoints"]
    assert staypoints
    call_command("mobility", "process", str(plt))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(f"{len(staypoints)} stay points, {len(summary['trips'])} trips")
    assert lines[2 + len(staypoints)] == ""  # one row per stay point, then the trip table
    assert lines[1].split() == ["stay", "point", "started", "finished", "duration", "lat", "lon", "activity"]
    for sp, line in zip(staypoints, lines[2 : 2 + len(staypoints)], strict=True):
        from datetime import datetime

        span_s = (
            datetime.fromisoformat(sp["finished_at"]) - datetime.fromisoformat(sp["started_at"])
        ).total_seconds()
        cells = line.split()
        assert cells[:3] == [str(sp["id"]), sp["started_at"], sp["finished_at"]]
        assert cells[3:5] == [str(round(span_s / 60)), "min"]  # all under an hour in this file
        assert cells[5:7] == [f"{sp['lat']:.5f}", f"{sp['lon']:.5f}"]
    assert any(line.split()[:1] == ["trip"] for line in lines)  # the trip table follows


def test_durations_read_in_hours_and_minutes():
    from smartip.mobility.management.commands.mobility import _duration

    assert [_duration(s) for s in (29, 61, 3599, 3600, 5 * 3600 + 7 * 60)] == [
        "0 min",
        "1 min",
        "1 h 00 min",
        "1 h 00 min",
        "5 h 07 min",
    ]
