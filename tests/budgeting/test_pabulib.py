"""pabulib reader/writer: valid and malformed files, round trips, and pabutools as the oracle."""

import csv
import io
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartip.budgeting.pabulib import (
    PabulibError,
    PabulibFile,
    build_pb,
    dumps,
    load_election,
    loads,
    read_pb,
    to_election,
    write_pb,
)
from smartip.core.errors import Invalid
from tests.conftest import shared_path

MALFORMED = Path(__file__).parent / "malformed"

VALID = """META
key;value
description;Local PB in Testowo
country;Poland
unit;Testowo
instance;2024
num_projects;3
num_votes;4
budget;100000
vote_type;approval
rule;greedy
date_begin;01.09.2024
date_end;30.09.2024
min_length;1
max_length;2
PROJECTS
project_id;cost;votes;name;category
1;40000;3;Park benches;environment
2;50000;2;"Library; reading room";culture
10;30000;1;Bike racks;None
VOTES
voter_id;age;sex;vote
v1;34;F;1,2
v2;51;;1
v3;29;F;2,10
v4;63;M;1
"""

# Each malformed file → (line, field) its error must name. Checked by reading the file's text by eye.
EXPECTED = {
    "binary_garbage.pb": (1, "META"),
    "budget_not_a_number.pb": (9, "budget"),
    "budget_zero.pb": (9, "budget"),
    "choose1_two_projects.pb": (25, "vote"),
    "cost_exponent.pb": (18, "cost"),
    "cost_missing.pb": (20, "cost"),
    "cost_nan.pb": (18, "cost"),
    "cost_negative.pb": (18, "cost"),
    "cost_not_a_number.pb": (20, "cost"),
    "cost_thousands_and_comma_decimal.pb": (20, "cost"),
    "cost_thousands_separator.pb": (20, "cost"),
    "cp1250_text.pb": (18, "name"),
    "cumulative_above_max_sum_points.pb": (23, "points"),
    "cumulative_points_length.pb": (25, "points"),
    "cumulative_points_missing.pb": (26, "points"),
    "cumulative_points_negative.pb": (23, "points"),
    "cumulative_points_not_a_number.pb": (24, "points"),
    "cumulative_points_not_integer.pb": (24, "points"),
    "cumulative_without_points_column.pb": (22, "points"),
    "data_before_meta.pb": (1, "META"),
    "duplicate_project_id.pb": (20, "project_id"),
    "duplicate_voter_id.pb": (25, "voter_id"),
    "duplicated_meta_key.pb": (16, "budget"),
    "duplicated_section.pb": (27, "PROJECTS"),
    "empty_file.pb": (1, "META"),
    "empty_project_id.pb": (20, "project_id"),
    "empty_voter_id.pb": (25, "voter_id"),
    "max_length_below_min_length.pb": (15, "max_length"),
    "meta_empty_key.pb": (16, "META"),
    "meta_row_three_cells.pb": (3, "description"),
    "meta_without_header.pb": (2, "META"),
    "missing_budget.pb": (15, "budget"),
    "missing_votes_section.pb": (21, "VOTES"),
    "num_projects_mismatch.pb": (7, "num_projects"),
    "num_votes_mismatch.pb": (8, "num_votes"),
    "obligatory_meta_empty.pb": (4, "country"),
    "ordinal_repeated_project.pb": (25, "vote"),
    "ordinal_shorter_than_min_length.pb": (24, "vote"),
    "project_id_with_comma.pb": (20, "project_id"),
    "project_name_unquoted_semicolon.pb": (19, "PROJECTS"),
    "project_row_too_short.pb": (20, "name"),
    "projects_duplicated_column.pb": (17, "name"),
    "projects_header_without_cost.pb": (17, "cost"),
    "projects_header_without_project_id.pb": (17, "project_id"),
    "projects_without_header.pb": (17, "project_id"),
    "quoted_cell_spanning_lines.pb": (19, "name"),
    "sections_out_of_order.pb": (16, "PROJECTS"),
    "unclosed_quote.pb": (19, "name"),
    "unknown_vote_type.pb": (10, "vote_type"),
    "vote_empty.pb": (24, "vote"),
    "vote_longer_than_max_length.pb": (25, "vote"),
    "vote_spaces_in_list.pb": (23, "vote"),
    "vote_trailing_comma.pb": (23, "vote"),
    "vote_unknown_project.pb": (25, "vote"),
    "votes_header_without_vote.pb": (22, "vote"),
    "votes_header_without_voter_id.pb": (22, "voter_id"),
    "budget_negative.pb": (9, "budget"),
    "cumulative_above_max_points.pb": (24, "points"),
    "meta_count_not_a_number.pb": (8, "num_votes"),
    "meta_row_one_cell.pb": (4, "country"),
    "projects_section_empty.pb": (18, "PROJECTS"),
    "scoring_points_not_a_number.pb": (24, "points"),
    "votes_without_header.pb": (22, "VOTES"),
    "unclosed_quote_on_last_line.pb": (26, "vote"),
    "carriage_return_inside_cell.pb": (24, "sex"),
}


# -- malformed corpus --------------------------------------------------------------------------------
def test_corpus_and_expectations_list_the_same_files() -> None:
    assert sorted(p.name for p in MALFORMED.glob("*.pb")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 20


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_file_is_refused_with_line_and_field(name: str) -> None:
    with pytest.raises(PabulibError) as caught:
        read_pb(MALFORMED / name)
    message = str(caught.value)
    match = re.search(r"line (\d+), field '([^']+)': \S", message)
    assert match, message
    assert (int(match[1]), match[2]) == EXPECTED[name], message
    assert (caught.value.line, caught.value.field) == EXPECTED[name]
    assert message.startswith(f"{name}: ")
    assert isinstance(caught.value, Invalid)


# -- a valid file --------------------------------------------------------------------------------------
def test_valid_file_is_read_cell_for_cell() -> None:
    pb = loads(VALID)
    assert list(pb.meta)[:3] == ["description", "country", "unit"]
    assert pb.meta["budget"] == "100000"
    assert pb.project_columns == ("project_id", "cost", "votes", "name", "category")
    assert pb.project_ids == ["1", "2", "10"]
    assert pb.projects[1]["name"] == "Library; reading room"
    assert "category" not in pb.projects[2]  # literal None = missing
    assert pb.vote_columns == ("voter_id", "age", "sex", "vote")
    assert pb.votes[1] == ("v2", "51", None, "1")
    assert list(pb.vote_dicts())[1] == {"voter_id": "v2", "age": "51", "vote": "1"}
    assert pb.vote_column("vote") == ["1,2", "1", "2,10", "1"]
    assert (pb.newline, pb.final_newline, pb.warnings) == ("\n", True, [])


def test_to_election_builds_csr_ballots() -> None:
    election = to_election(loads(VALID))
    assert election.project_ids == ("1", "2", "10")
    assert election.costs.dtype == np.int64 and election.costs.tolist() == [40000, 50000, 30000]
    assert election.budget == 100000 and isinstance(election.budget, int)
    assert election.ballot_kind == "approval"
    assert election.voter_ptr.tolist() == [0, 2, 3, 5, 6]
    assert election.entry_project.tolist() == [0, 1, 0, 1, 2, 0]
    assert election.entry_score.tolist() == [1.0] * 6
    assert election.meta["unit"] == "Testowo"


def _variant(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(
    "transform",
    [
        lambda t: t.replace("\n", "\r\n"),
        lambda t: t.rstrip("\n"),
        lambda t: "\ufeff" + t,
        lambda t: t.replace("PROJECTS\n", "\nPROJECTS\n").replace("v2;", "\n  \nv2;"),
        lambda t: re.sub(r";(?! reading)", ";  ", t).replace("\n", " \t\n"),
        lambda t: t.replace("META\n", "meta\n"),
    ],
    ids=["crlf", "no-final-newline", "bom", "blank-lines", "spaces-and-tabs", "lower-case-title"],
)
def test_layout_quirks_give_the_same_data(transform) -> None:
    plain = loads(VALID)
    quirky = loads(transform(VALID))
    for name in ("meta", "project_columns", "projects", "vote_columns", "votes"):
        assert getattr(quirky, name) == getattr(plain, name), name
    assert loads(dumps(quirky)) == quirky


def test_real_file_quirks_are_tolerated_with_warnings() -> None:
    text = _variant(VALID, "1;40000;", "1;40000.0;")
    text = _variant(text, "10;30000;", "10;2458,22;")
    text = _variant(text, "v1;34;F;1,2", "v1;34;F;1,1,2")
    text = _variant(text, "rule;greedy", "rule;greedy-by-mayor")
    text = _variant(text, "1;Bike racks", '1;"Bike" racks')
    pb = loads(text)
    election = to_election(pb)
    assert election.costs.dtype == np.float64
    assert election.costs.tolist() == [40000.0, 50000.0, 2458.22]
    assert election.entry_project.tolist()[:2] == [0, 1]  # the doubled approval counts once
    assert pb.projects[2]["name"] == "Bike racks"
    assert pb.projects[2]["cost"] == "2458,22"
    fields = {re.match(r"line \d+, field '([^']+)'", w)[1] for w in pb.warnings}
    assert fields == {"cost", "vote", "rule", "name"}
    assert loads(dumps(pb)) == pb


def test_ordinal_and_cumulative_entries() -> None:
    ordinal = _variant(VALID, "vote_type;approval", "vote_type;ordinal")
    ordinal = _variant(ordinal, "v3;29;F;2,10", "v3;29;F;10,2")
    election = to_election(loads(ordinal))
    assert election.entry_project.tolist()[3:5] == [2, 1]  # rank order, best first
    cumulative = _variant(VALID, "vote_type;approval", "vote_type;cumulative")
    cumulative = _variant(cumulative, "voter_id;age;sex;vote", "voter_id;age;sex;vote;points")
    for voter, points in (
        ("v1;34;F;1,2", "3,2"),
        ("v2;51;;1", "5"),
        ("v3;29;F;2,10", "1,4"),
        ("v4;63;M;1", "2"),
    ):
        cumulative = _variant(cumulative, voter, f"{voter};{points}")
    election = to_election(loads(cumulative))
    assert election.entry_score.tolist() == [3.0, 2.0, 5.0, 1.0, 4.0, 2.0]


def test_streams_and_paths(tmp_path: Path) -> None:
    path = tmp_path / "testowo.pb"
    path.write_text(VALID.replace("\n", "\r\n"), encoding="utf-8", newline="")
    from_path = read_pb(path)
    assert from_path.newline == "\r\n"
    with open(path, encoding="utf-8", newline="") as text_stream:
        assert read_pb(text_stream) == from_path
    assert read_pb(io.BytesIO(path.read_bytes())) == from_path
    assert load_election(str(path)).n_voters == 4
    out = io.StringIO(newline="")
    write_pb(from_path, out)
    assert from_path.missing_cell == "None"
    # byte for byte, except that every missing cell is now spelled the file's way (`None`)
    assert out.getvalue() == VALID.replace("v2;51;;1", "v2;51;None;1").replace("\n", "\r\n")


def test_build_pb_from_plain_data_and_its_errors() -> None:
    meta = dict(loads(VALID).meta)
    del meta["num_projects"], meta["num_votes"]
    projects = [
        {"project_id": "A1", "cost": 1500, "name": 'The "green" corner; phase 2'},
        {"project_id": "B2", "cost": 2500.5},
    ]
    votes = [{"voter_id": 7, "vote": ["A1", "B2"]}, {"voter_id": 8, "vote": ("B2",), "age": None}]
    pb = build_pb(meta, projects, votes)
    assert pb.meta["num_projects"] == "2" and pb.meta["num_votes"] == "2"
    assert pb.projects[0]["name"] == 'The "green" corner; phase 2'
    assert pb.vote_columns == ("voter_id", "vote", "age")
    assert to_election(pb).entry_project.tolist() == [0, 1, 1]
    assert loads(dumps(pb)) == pb
    with pytest.raises(PabulibError, match=r"line 24, field 'vote': unknown project 'C3'"):
        build_pb(meta, projects, [*votes, {"voter_id": 9, "vote": ["C3"]}])


def test_to_election_of_a_hand_made_file_names_the_line_it_would_have() -> None:
    pb = loads(VALID)
    pb.projects[2]["cost"] = "30k"
    with pytest.raises(PabulibError, match=r"^line 20, field 'cost': '30k' is not a number"):
        to_election(pb)
    with pytest.raises(PabulibError, match=r"^line 20, field 'cost': '30k' is not a number"):
        loads(dumps(pb))  # the reader agrees on the line


# -- real files -----------------------------------------------------------------------------------------
def test_real_quirks_are_read_with_warnings() -> None:
    folder = shared_path("data", "pabulib")
    grabowka = read_pb(folder / "Poland_Czestochowa_2020_Grabowka.pb")
    assert grabowka.warnings == ["line 29, field 'name': text after a closing quote; quotes dropped"]
    brodno = read_pb(folder / "Poland_Warszawa_2026_Brodno.pb")
    doubled = [w for w in brodno.warnings if "listed twice" in w]
    assert doubled and all(w.endswith("counted once") for w in doubled)
    election = to_election(brodno)
    for voter in range(election.n_voters):
        entries = election.entry_project[election.voter_ptr[voter] : election.voter_ptr[voter + 1]]
        assert len(set(entries.tolist())) == len(entries)


def _real_files() -> list[Path]:
    return sorted(shared_path("data", "pabulib").glob("*.pb"))


@pytest.mark.parametrize(
    "name",
    [
        "Poland_Warszawa_2017_Aleksandrow.pb",  # literal None cells
        "Poland_Gdansk_2020_Siedlce.pb",  # a quoted name with ';'
        "France_Toulouse_2019.pb",  # cumulative
        "Poland_Krakow_2021_Bienczyce.pb",  # ordinal with points
        "Poland_Czestochowa_2025_Bleszno.pb",  # no final newline
    ],
)
def test_build_pb_from_a_real_files_plain_data_gives_the_file_back(name: str) -> None:
    pb = read_pb(shared_path("data", "pabulib", name))
    meta = {key: value for key, value in pb.meta.items()}
    rebuilt = build_pb(
        meta,
        pb.projects,
        pb.vote_dicts(),
        project_columns=pb.project_columns,
        vote_columns=pb.vote_columns,
        newline=pb.newline,
        final_newline=pb.final_newline,
        missing_cell=pb.missing_cell,
    )
    assert rebuilt == pb


@pytest.mark.slow
def test_every_real_file_round_trips() -> None:
    files = _real_files()
    assert len(files) >= 1000
    byte_identical = 0
    for path in files:
        pb = read_pb(path)
        assert len(pb.votes) == int(pb.meta["num_votes"]), path.name
        text = dumps(pb)
        assert loads(text) == pb, path.name
        byte_identical += text.encode("utf-8") == path.read_bytes()
    # the rest mix CRLF with LF lines, mix empty and `None` cells, or quote cells that need no quotes
    assert byte_identical >= 0.95 * len(files)


def _oracle_sample() -> list[str]:
    """60 files: per ballot type the 2 largest by voters plus 13 spread over the rest (INDEX.tsv)."""
    with open(shared_path("data", "pabulib", "INDEX.tsv"), encoding="utf-8", newline="") as index:
        rows = list(csv.DictReader(index, delimiter="\t"))
    chosen: list[str] = []
    for kind in ("approval", "choose-1", "cumulative", "ordinal"):
        files = sorted((r for r in rows if r["ballot_type"] == kind), key=lambda r: -int(r["n_voters"]))
        rest = files[2:]
        chosen += [r["file"] for r in files[:2]] + [rest[i * len(rest) // 13]["file"] for i in range(13)]
    return chosen + [name for name in QUIRKY_FILES if name not in chosen]


QUIRKY_FILES = [
    "Poland_Warszawa_2026_Brodno.pb",  # a project twice in one approval vote
    "Poland_Warszawa_2017_Mlynow.pb",  # votes above max_sum_cost
    "Worldwide_Mechanical_Turk_Utilities_3.pb",  # points below min_sum_points
    "Poland_Czestochowa_2020_Grabowka.pb",  # text after a closing quote
    "Poland_Poznan_2024_10_-_Swierczewo_Wilda_Zielony_Debiec__large.pb",  # one LF line in a CRLF file
]


@pytest.mark.slow
def test_elections_match_pabutools_on_a_sample_of_real_files() -> None:
    from pabutools.election.pabulib import parse_pabulib

    folder = shared_path("data", "pabulib")
    sample = _oracle_sample()
    assert len(sample) >= 60
    for name in sample:
        election = load_election(folder / name)
        instance, profile = parse_pabulib(str(folder / name))
        ids = election.project_ids
        assert set(ids) == {p.name for p in instance} and len(ids) == len(instance), name
        oracle_costs = {p.name: float(p.cost) for p in instance}
        assert election.costs.tolist() == [oracle_costs[i] for i in ids], name
        assert float(election.budget) == float(instance.budget_limit), name
        assert election.n_voters == len(profile), name
        ptr, entries, scores = election.voter_ptr, election.entry_project, election.entry_score
        for voter, ballot in enumerate(profile):
            span = slice(ptr[voter], ptr[voter + 1])
            ours = [ids[e] for e in entries[span]]
            if election.ballot_kind in ("approval", "choose-1"):
                assert len(ours) == len(set(ours)) and set(ours) == {p.name for p in ballot}, (name, voter)
            elif election.ballot_kind == "ordinal":
                assert ours == [p.name for p in ballot], (name, voter)
            else:
                theirs = {p.name: float(score) for p, score in ballot.items()}
                assert dict(zip(ours, scores[span].tolist(), strict=True)) == theirs, (name, voter)


# -- generated files (hypothesis) -------------------------------------------------------------------
_CELL = st.text(alphabet="AbZz09 ;\"'.-/łé&", min_size=1, max_size=8).map(str.strip).filter(bool)
_ID = _CELL.filter(lambda s: s and "," not in s and s.lower() != "none")


@st.composite
def _elections(draw: st.DrawFn) -> tuple[PabulibFile, list[list[int]], list[list[float]], list[float]]:
    kind = draw(st.sampled_from(["approval", "choose-1", "ordinal", "cumulative", "scoring"]))
    ids = draw(st.lists(_ID, min_size=1, max_size=6, unique=True))
    cents = draw(st.lists(st.integers(0, 10**9), min_size=len(ids), max_size=len(ids)))
    cost_texts = [str(c // 100) if c % 3 else f"{c // 100}.{c % 100:02d}" for c in cents]
    names = draw(st.lists(st.none() | _CELL, min_size=len(ids), max_size=len(ids)))
    n_voters = draw(st.integers(0, 6))
    voter_ids = draw(st.lists(_ID, min_size=n_voters, max_size=n_voters, unique=True))
    ballots: list[list[int]] = []
    points: list[list[float]] = []
    rows: list[tuple[str | None, ...]] = []
    positions = st.integers(0, len(ids) - 1)
    for voter in voter_ids:
        size = (1, 1) if kind == "choose-1" else (1, len(ids))
        chosen = draw(st.lists(positions, min_size=size[0], max_size=size[1], unique=True))
        values = [float(draw(st.integers(-3 if kind == "scoring" else 0, 9))) for _ in chosen]
        ballots.append(chosen)
        points.append(values if kind in ("cumulative", "scoring") else [1.0] * len(chosen))
        sex = draw(st.sampled_from([None, "M", "F"]))
        row: tuple[str | None, ...] = (voter, ",".join(ids[c] for c in chosen), sex)
        if kind in ("cumulative", "scoring"):
            row += (",".join(str(int(v)) for v in values),)
        rows.append(row)
    meta = {
        "description": draw(_CELL),
        "country": "Poland",
        "unit": draw(_CELL),
        "instance": "2024",
        "num_projects": str(len(ids)),
        "num_votes": str(n_voters),
        "budget": str(draw(st.integers(1, 10**8))),
        "vote_type": kind,
        "rule": "greedy",
        "date_begin": "2024",
        "date_end": "01.10.2024",
    }
    projects = [
        {"project_id": i, "cost": c} | ({"name": n} if n else {})
        for i, c, n in zip(ids, cost_texts, names, strict=True)
    ]
    vote_columns = ("voter_id", "vote", "sex") + (("points",) if kind in ("cumulative", "scoring") else ())
    pb = PabulibFile(
        meta=meta,
        project_columns=("project_id", "cost", "name"),
        projects=projects,
        vote_columns=vote_columns,
        votes=rows,
        newline=draw(st.sampled_from(["\n", "\r\n"])),
        final_newline=draw(st.booleans()),
    )
    return pb, ballots, points, [float(t) for t in cost_texts]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_elections())
def test_generated_files_round_trip_and_convert(case) -> None:
    pb, ballots, points, costs = case
    text = dumps(pb)
    again = loads(text)
    assert again == pb
    assert dumps(again) == text
    election = to_election(again)
    assert election.costs.tolist() == costs
    assert election.voter_ptr.tolist() == np.cumsum([0] + [len(b) for b in ballots]).tolist()
    assert election.entry_project.tolist() == [p for ballot in ballots for p in ballot]
    assert election.entry_score.tolist() == [s for row in points for s in row]


@settings(max_examples=60, deadline=None)
@given(_elections(), st.data())
def test_an_unknown_project_in_any_vote_is_reported_at_its_line(case, data) -> None:
    pb, ballots, _, _ = case
    if not ballots:
        return
    voter = data.draw(st.integers(0, len(ballots) - 1))
    row = list(pb.votes[voter])
    row[1] = "no-such-project"
    pb.votes[voter] = tuple(row)
    expected_line = 2 + len(pb.meta) + 2 + len(pb.projects) + 2 + voter + 1
    with pytest.raises(PabulibError) as caught:
        loads(dumps(pb))
    assert (caught.value.line, caught.value.field) == (expected_line, "vote")
    with pytest.raises(PabulibError) as caught:
        to_election(pb)
    assert (caught.value.line, caught.value.field) == (expected_line, "vote")
