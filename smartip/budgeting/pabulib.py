"""Pabulib `.pb` import and export (pure, no Django): read, validate, write, and convert to an `Election`.

pb = read_pb(path)            # PabulibFile; PabulibError("line N, field 'F': ...") if malformed
election = to_election(pb)    # plain CSR ballots for the counting rules
text = dumps(pb)              # read_pb(text) == pb for every file read_pb accepts
pb = build_pb(meta, projects, votes)   # export a process's ballots from plain data (validated)
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
) -> PabulibFile:
    """A validated `PabulibFile` from plain data (e.g. a process's ballots, for export).

    `meta` needs the obligatory keys except `num_projects` / `num_votes`, which are counted here.
    Each project needs `project_id` and `cost`; each vote `voter_id` and `vote`. A list/tuple value
    (a vote, its points, categories) is joined with commas; None means missing. Columns appear in first-seen
    order, with `project_id` / `voter_id` first; `project_columns` / `vote_columns` fix the order of the
    columns they name (e.g. an imported file's own order). Raises `PabulibError` with the line of the
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
