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
