"""`smartip mobility load-network` and `import`, and one end-to-end run on real Valhalla over a real extract."""

import json
import random

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from smartip.cities.models import City
from smartip.mobility import services
from smartip.mobility.fixes import from_columns
from smartip.mobility.models import MatchedSegment, StreetNetwork, StreetSegment, Trace, Trip
from tests.conftest import shared_path

pytestmark = pytest.mark.django_db


def make_city(slug, min_lat, min_lon, max_lat, max_lon):
    return City.objects.create(
        slug=slug,
        name=slug.title(),
        country="XX",
        timezone="UTC",
        languages=["en"],
        jurisdiction_id=slug,
        min_lat=min_lat,
        min_lon=min_lon,
        max_lat=max_lat,
        max_lon=max_lon,
    )


@pytest.fixture
def home(settings, tmp_path):
    settings.HOME = tmp_path
    return tmp_path


@pytest.mark.django_db(transaction=True)  # each file commits, and its processing job runs after the commit
def test_import_geolife_folders_one_user_per_subfolder(capsys, settings):
    settings.MAPMATCH_ENGINE = "fake"
    folder = shared_path("data", "mobility", "trackintel", "tests", "data", "geolife_modes")
    make_city("beijing", 39.4, 115.4, 41.1, 117.6)
    call_command("mobility", "import", str(folder), "--city", "beijing", "--json")
    out = capsys.readouterr()
    report = json.loads(out.out)
    files = sorted(folder.rglob("*.plt"))
    assert report["users"] == 3
    assert report["traces"] + len(report["skipped"]) == len(files) and report["traces"] > 0
    assert Trace.objects.count() == report["traces"]
    assert sum(Trace.objects.values_list("n_fixes", flat=True)) == report["fixes"]
    assert Trip.objects.count() == report["trips"] > 0 and report["queued"] == 0  # immediate backend
    owners = set(Trace.objects.values_list("owner__username", flat=True))
    assert owners <= {"beijing-import-010", "beijing-import-020", "beijing-import-178"}
    for item in report["skipped"]:  # a skipped file left nothing behind
        assert not Trace.objects.filter(name__endswith=item["file"].split("/")[-1]).exists()
    assert "traces" in out.err  # the progress bar


def test_import_skips_out_of_city_and_broken_files(tmp_path, manchester, capsys, settings):
    settings.MAPMATCH_ENGINE = "fake"
    from smartip.mobility.readers.gpx import write_gpx

    lat, lon = manchester.center
    t = 1_717_228_800 + np.arange(200) * 5.0
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "ok.gpx").write_text(
        write_gpx(from_columns(t, lat + np.arange(200) * 1e-4, np.full(200, lon)))
    )
    (tmp_path / "alice" / "broken.gpx").write_text("<gpx><trk>")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "far.gpx").write_text(
        write_gpx(from_columns(t, np.full(200, 10.0), np.full(200, 10.0)))
    )
    call_command("mobility", "import", str(tmp_path), "--city", "manchester")
    out = capsys.readouterr()
    assert "1 traces" in out.out and "2 files skipped" in out.out
    assert "broken.gpx" in out.err and "far.gpx" in out.err
    assert list(Trace.objects.values_list("name", flat=True)) == ["alice/ok.gpx"]


def test_import_of_a_missing_folder_or_city_is_a_clear_error(tmp_path, manchester):
    with pytest.raises(CommandError, match="no such file"):
        call_command("mobility", "import", str(tmp_path / "nope"), "--city", "manchester")
    with pytest.raises(CommandError, match="no city"):
        call_command("mobility", "import", str(tmp_path), "--city", "atlantis")


def test_load_network_fills_the_segment_table_from_a_synthetic_grid(home, manchester, capsys):
    from smartip.mobility.matching.synthetic import write_street_grid

    lat, lon = manchester.center
    pbf = write_street_grid(home / "grid.osm.pbf", origin_lat=lat, origin_lon=lon, rows=4, cols=5)
    call_command("mobility", "load-network", "manchester", str(pbf), "--json")
    report = json.loads(capsys.readouterr().out)
    network = StreetNetwork.objects.get()
    assert report["segments"] == network.n_segments == StreetSegment.objects.count() == 4 + 5
    assert set(StreetSegment.objects.values_list("osm_way_id", flat=True)) == {1001, 1002, 1003, 1004} | {
        2001,
        2002,
        2003,
        2004,
        2005,
    }
    row = StreetSegment.objects.get(osm_way_id=1001)
    assert row.geometry["type"] == "LineString" and len(row.geometry["coordinates"]) == 5
    assert row.length_m == pytest.approx(4 * 150, rel=0.01)


def test_load_network_refuses_a_file_that_is_not_an_extract(home, manchester):
    bad = home / "x.osm.pbf"
    bad.write_bytes(b"not a pbf")
    with pytest.raises(CommandError):
        call_command("mobility", "load-network", "manchester", str(bad))
    assert not StreetNetwork.objects.exists() and not StreetSegment.objects.exists()


def test_end_to_end_on_real_valhalla_over_the_monaco_extract(home, settings, users):
    """Load the real Monaco extract, upload five people's simulated drives along Valhalla routes, and find the
    matched OSM ways in the segment table and in the published per-segment counts."""
    from smartip.mobility.matching.evaluation import route_between, simulate_trace
    from smartip.mobility.matching.network import build_tiles

    settings.MAPMATCH_ENGINE = "valhalla"
    pbf = shared_path("data", "mobility", "valhalla", "monaco.osm.pbf")
    monaco = make_city("monaco", 43.72, 7.40, 43.76, 7.45)
    call_command("mobility", "load-network", "monaco", str(pbf))
    config = json.loads(build_tiles(pbf, home / "valhalla").read_text())  # the cached build, reused
    route = route_between(config, (7.4128, 43.7314), (7.4269, 43.7450), "auto")
    assert len(route.coords) > 10
    from tests.factories import make_user

    start_s = 1_717_228_800.0
    for i in range(5):
        lat, lon, t = simulate_trace(route, 2.0, 5.0, np.random.default_rng(i))
        dwell = np.arange(1, 301) * 5.0  # 25 min at each end so the pipeline sees a trip between two stays
        fixes = from_columns(
            np.concatenate([start_s - dwell[::-1], start_s + t, start_s + t[-1] + dwell]),
            np.concatenate([np.full(300, lat[0]), lat, np.full(300, lat[-1])]),
            np.concatenate([np.full(300, lon[0]), lon, np.full(300, lon[-1])]),
        )
        owner = make_user(f"driver{i}")
        trace = services.upload_trace(
            owner=owner,
            city=monaco,
            fixes=fixes,
            source_format="gpx",
            consent=True,
            purpose="t",
            process=False,
        )
        services.process_trace(trace=trace, rng=random.Random(i))
        assert trace.matched_with == "ValhallaMatcher"
    matched = MatchedSegment.objects.all()
    assert matched.count() > 5
    linked = matched.exclude(segment=None).count()
    assert linked / matched.count() > 0.95  # matched way ids are streets of the loaded table
    way_ids = set(matched.values_list("osm_way_id", flat=True))
    assert way_ids <= set(StreetSegment.objects.values_list("osm_way_id", flat=True))
    cells = services.compute_aggregates(city=monaco, kind="segments")
    assert cells and {c["way_id"] for c in cells} <= way_ids and all(c["n_people"] == 5 for c in cells)
    speeds = services.compute_aggregates(city=monaco, kind="speeds")
    assert speeds and all(0 < c["median_speed_mps"] < 40 for c in speeds)
