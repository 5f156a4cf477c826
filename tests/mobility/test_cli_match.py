"""`smartip mobility match`: a trace file and an .osm.pbf in, GeoJSON with OSM way ids out (real Valhalla on a
synthetic street grid); bad input exits non-zero with what was wrong, and prints nothing on stdout."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from smartip.mobility.fixes import from_columns
from smartip.mobility.matching.synthetic import ROW_WAY_BASE, write_street_grid
from smartip.mobility.readers.gpx import write_gpx
from tests.mobility.test_matching import ORIGIN, along

SMARTIP = Path(sys.executable).parent / "smartip"


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_street_grid(tmp_path_factory.mktemp("grid") / "grid.osm.pbf", rows=6, cols=6, **ORIGIN)


@pytest.fixture
def ride(tmp_path: Path) -> Path:
    """A GPX ride along grid row 3 from column 0 to 5 (750 m at 8 m/s, a fix a second)."""
    lat, lon, t = along([(3, 0), (3, 5)], speed_mps=8.0, interval_s=1.0)
    path = tmp_path / "ride.gpx"
    path.write_text(write_gpx(from_columns(t + 1_717_228_800.0, lat, lon)))
    return path


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_match_prints_geojson_with_the_way_ids_ridden(capsys, network, ride, extra):
    call_command("mobility", "match", str(ride), "--network", str(network), "--mode", "bicycle", *extra)
    collection = json.loads(capsys.readouterr().out)  # stdout is only the GeoJSON
    assert collection["type"] == "FeatureCollection"
    (feature,) = collection["features"]
    assert feature["geometry"]["type"] == "LineString" and len(feature["geometry"]["coordinates"]) >= 2
    props = feature["properties"]
    assert props["way_ids"] == [ROW_WAY_BASE + 4]  # row 3 of the grid
    assert props["mode"] == "bicycle" and props["costing"] == "bicycle"
    assert props["length_m"] == pytest.approx(750, abs=10)
    assert [s["way_id"] for s in props["segments"]] == props["way_ids"]


def smartip(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SMARTIP_HOME": str(home)}
    return subprocess.run(
        [str(SMARTIP), "mobility", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["match", "{tmp}/missing.gpx", "--network", "{net}"], 1, "missing.gpx: no such file"),
        (["match", "{ride}", "--network", "{tmp}/nowhere.osm.pbf"], 1, "nowhere.osm.pbf does not exist"),
        (["match", "{ride}", "--network", "{net}", "--mode", "train"], 2, "rail matching needs rail lines"),
        (["match", "{ride}", "--network", "{net}", "--mode", "hovercraft"], 2, "unknown mode 'hovercraft'"),
        (["match", "{ride}"], 2, "--network"),
    ],
)
def test_bad_match_input_exits_non_zero_saying_what_was_wrong(tmp_path, network, ride, args, code, message):
    filled = [a.format(tmp=tmp_path, net=network, ride=ride) for a in args]
    done = smartip(*filled, home=tmp_path / "home")
    assert done.returncode == code, done.stderr
    assert message in done.stderr and done.stdout == ""


def test_match_help_says_train_is_not_supported(tmp_path):
    done = smartip("match", "--help", home=tmp_path / "home")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "{walk,bicycle,bus,tram,car}" in text and "train is not supported" in text
