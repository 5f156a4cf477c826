"""Turn a `PabulibFile` into the counting rules' plain `Election` (CSR sparse ballots)."""

import numpy as np

from smartip.budgeting.pabulib_model import PabulibError, PabulibFile
from smartip.budgeting.pabulib_numbers import NumberProblem, parse_amount, parse_score
from smartip.budgeting.rules.election import BallotKind, Election

_BALLOT_KINDS: dict[str, BallotKind] = {
    "approval": "approval",
    "choose-1": "choose-1",
    "cumulative": "cumulative",
    "scoring": "scoring",
    "ordinal": "ordinal",
}


def layout_lines(pb: PabulibFile) -> tuple[int, int]:
    """Line numbers, in the layout `write_pb` produces, of the first PROJECTS row and the first VOTES row."""
    first_project = len(pb.meta) + 5
    return first_project, first_project + len(pb.projects) + 2


def _amounts(texts: list[str], first_line: int, field: str) -> np.ndarray:
    values: list[int | float] = []
    for offset, text in enumerate(texts):
        try:
            values.append(parse_amount(text)[0])
        except NumberProblem as problem:
            raise PabulibError(first_line + offset, field, str(problem)) from None
    if all(isinstance(value, int) for value in values) and max(values, default=0) < 2**63:
        return np.array(values, dtype=np.int64)
    return np.array(values, dtype=np.float64)


def _column(pb: PabulibFile, name: str, first_vote: int) -> int:
    if name not in pb.vote_columns:
        raise PabulibError(first_vote - 1, name, f"VOTES has no '{name}' column")
    return pb.vote_columns.index(name)


def _ballots(
    pb: PabulibFile, kind: BallotKind, index: dict[str, int], first_vote: int
) -> tuple[list[int], list[int], list[float] | None]:
    """Per-voter entry counts, the entries (project indices) and, for point ballots, their scores."""
    vote_at = _column(pb, "vote", first_vote)
    points_at = _column(pb, "points", first_vote) if kind in ("cumulative", "scoring") else None
    dedupe = kind in ("approval", "choose-1")
    lengths: list[int] = []
    entries: list[int] = []
    scores: list[float] | None = [] if points_at is not None else None
    for voter, row in enumerate(pb.votes):
        vote = row[vote_at]
        try:
            chosen = [index[item] for item in vote.split(",")] if vote else []
        except KeyError as missing:
            raise PabulibError(first_vote + voter, "vote", f"unknown project {missing.args[0]!r}") from None
        if dedupe and len(set(chosen)) != len(chosen):
            chosen = list(dict.fromkeys(chosen))
        if scores is not None and points_at is not None:
            scores.extend(_points(row[points_at], len(chosen), first_vote + voter))
        lengths.append(len(chosen))
        entries.extend(chosen)
    return lengths, entries, scores


def _points(cell: str | None, n_entries: int, line: int) -> list[float]:
    try:
        values = [float(parse_score(text)) for text in cell.split(",")] if cell else []
    except NumberProblem as problem:
        raise PabulibError(line, "points", str(problem)) from None
    if len(values) != n_entries:
        raise PabulibError(line, "points", f"{len(values)} points for {n_entries} projects in the vote")
    return values


def to_election(pb: PabulibFile) -> Election:
    """The plain election of a pabulib file (line numbers in errors follow the `write_pb` layout).

    Costs are int64 when every cost is integral, else float64; the budget likewise (int or float).
    Entry scores: approval / choose-1 → 1 per distinct approved project (duplicates collapse, first
    occurrence order kept); cumulative / scoring → the points; ordinal → 1 per entry, in rank order.
    """
    kind = _BALLOT_KINDS.get(pb.vote_type)
    meta_keys = list(pb.meta)
    if kind is None:
        line = 3 + meta_keys.index("vote_type") if "vote_type" in pb.meta else 1
        raise PabulibError(line, "vote_type", f"{pb.vote_type!r} is not a known vote type")
    first_project, first_vote = layout_lines(pb)
    project_ids = tuple(row["project_id"] for row in pb.projects)
    costs = _amounts([row.get("cost", "") for row in pb.projects], first_project, "cost")
    budget_line = 3 + meta_keys.index("budget") if "budget" in pb.meta else 1
    budget = _amounts([pb.meta.get("budget", "")], budget_line, "budget")[0].item()
    index = {project_id: position for position, project_id in enumerate(project_ids)}
    lengths, entries, scores = _ballots(pb, kind, index, first_vote)
    voter_ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=voter_ptr[1:])
    return Election(
        project_ids=project_ids,
        costs=costs,
        budget=budget,
        ballot_kind=kind,
        voter_ptr=voter_ptr,
        entry_project=np.array(entries, dtype=np.int32),
        entry_score=np.ones(len(entries)) if scores is None else np.array(scores, dtype=np.float64),
        meta=dict(pb.meta),
    )
