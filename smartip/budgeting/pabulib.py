"""Pabulib `.pb` import and export (pure, no Django): read, validate, write, and convert to an `Election`.

    pb = read_pb(path)                      # PabulibFile, or PabulibError("f.pb: line N, field 'F': ...")
    pb = loads(text)                        # the same from a string
    election = to_election(pb)              # plain CSR ballots for the counting rules
    election = load_election(path)          # both at once
    text = dumps(pb); write_pb(pb, out)     # loads(dumps(pb)) == pb for every file the reader accepts
    pb = build_pb(meta, projects, votes)    # export a process's ballots from plain data (validated)

Policy (details in `pabulib_rows`): every structural or semantic problem listed in the format reference is a
`PabulibError` (a `smartip.core.errors.Invalid`) naming the line and the field; what real pabulib files
contain (a project twice in one approval vote, votes outside max_sum_cost or below min_sum_points, an unknown
rule, text after a closing quote …) is accepted and listed in `pb.warnings`. All 1,165 files of the test set
are accepted and round-trip exactly.
"""

import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from smartip.budgeting.pabulib_election import to_election
from smartip.budgeting.pabulib_model import (
    KNOWN_RULES,
    OBLIGATORY_META,
    VOTE_TYPES,
    PabulibError,
    PabulibFile,
)
from smartip.budgeting.pabulib_read import loads, read_pb
from smartip.budgeting.pabulib_write import dumps, write_pb
from smartip.budgeting.rules.election import Election

__all__ = [
    "KNOWN_RULES",
    "OBLIGATORY_META",
    "VOTE_TYPES",
    "PabulibError",
    "PabulibFile",
    "build_pb",
    "dumps",
    "load_election",
    "loads",
    "read_pb",
    "to_election",
    "write_pb",
]


def load_election(source: str | Path | TextIO) -> Election:
    """Read, validate and convert a `.pb` file in one call."""
    return to_election(read_pb(source))


def build_pb(
    meta: Mapping[str, object],
    projects: Iterable[Mapping[str, object]],
    votes: Iterable[Mapping[str, object]],
    *,
    project_columns: Sequence[str] = (),
    vote_columns: Sequence[str] = (),
    newline: str = "\n",
    final_newline: bool = True,
    missing_cell: str = "",
) -> PabulibFile:
    """A validated `PabulibFile` from plain data (e.g. a process's ballots, for export).

    `meta` needs the obligatory keys except `num_projects` / `num_votes`, which are counted here.
    Each project needs `project_id` and `cost`; each vote `voter_id` and `vote`. A list/tuple value
    (a vote, its points, categories) is joined with commas; None means missing. Columns appear in first-seen
    order, with `project_id` / `voter_id` first; `project_columns` / `vote_columns` fix the order of the
    columns they name (e.g. an imported file's own order); `missing_cell` is written for missing cells
    ("" or "None"). Raises `PabulibError` with the line of the
    produced file.
    """
    project_rows = [_cells(row) for row in projects]
    vote_rows = [_cells(row) for row in votes]
    meta_cells = _cells(meta)
    meta_cells["num_projects"] = str(len(project_rows))
    meta_cells["num_votes"] = str(len(vote_rows))
    project_order = _columns(["project_id", *project_columns, "cost"], project_rows)
    vote_order = _columns(["voter_id", *vote_columns, "vote"], vote_rows)
    draft = PabulibFile(
        meta={key: value or "" for key, value in meta_cells.items()},
        project_columns=project_order,
        projects=[{k: v for k, v in row.items() if v} for row in project_rows],
        vote_columns=vote_order,
        votes=[tuple(row.get(name) or None for name in vote_order) for row in vote_rows],
        newline=newline,
        final_newline=final_newline,
        missing_cell=missing_cell,
    )
    return read_pb(io.StringIO(dumps(draft), newline=""), name="export")


def _cells(row: Mapping[str, object]) -> dict[str, str | None]:
    return {str(key): _text(value) for key, value in row.items()}


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Sequence | set | frozenset):
        return ",".join(str(item).strip() for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _columns(first: list[str], rows: list[dict[str, str | None]]) -> tuple[str, ...]:
    names = dict.fromkeys(first)
    for row in rows:
        names.update(dict.fromkeys(row))
    return tuple(names)
