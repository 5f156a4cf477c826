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


def to_election(pb: PabulibFile) -> Election:
    """The plain election of a (valid) pabulib file.

    Costs are int64 when every cost is integral, else float64; the budget likewise (int or float).
    Entry scores: approval / choose-1 → 1 per distinct approved project (duplicates collapse, first
    occurrence order kept); cumulative / scoring → the points; ordinal → 1 per entry, in rank order.
    """
    kind = _BALLOT_KINDS.get(pb.vote_type)
    first_project, first_vote = layout_lines(pb)
    if kind is None:
        raise PabulibError(1, "vote_type", f"{pb.vote_type!r} is not a known vote type")
    project_ids = tuple(row["project_id"] for row in pb.projects)
    costs = _amounts([row.get("cost", "") for row in pb.projects], first_project, "cost")
    budget_array = _amounts([pb.meta.get("budget", "")], 1, "budget")
    index = {project_id: position for position, project_id in enumerate(project_ids)}
    columns = pb.vote_columns
    vote_at = columns.index("vote")
    points_at = columns.index("points") if kind in ("cumulative", "scoring") else None
    ptr = np.zeros(len(pb.votes) + 1, dtype=np.int64)
    entries: list[int] = []
    scores: list[float] = []
    for voter, row in enumerate(pb.votes):
        vote = row[vote_at]
        items = vote.split(",") if vote else []
        try:
            chosen = [index[item] for item in items]
        except KeyError as missing:
            raise PabulibError(first_vote + voter, "vote", f"unknown project {missing.args[0]!r}") from None
        if points_at is None:
            if kind != "ordinal" and len(set(chosen)) != len(chosen):
                chosen = list(dict.fromkeys(chosen))
            scores.extend([1.0] * len(chosen))
        else:
            points = row[points_at]
            try:
                values = [float(parse_score(cell)) for cell in points.split(",")] if points else []
            except NumberProblem as problem:
                raise PabulibError(first_vote + voter, "points", str(problem)) from None
            if len(values) != len(chosen):
                raise PabulibError(first_vote + voter, "points", "points and vote differ in length")
            scores.extend(values)
        entries.extend(chosen)
        ptr[voter + 1] = len(entries)
    budget = budget_array[0].item()
    return Election(
        project_ids=project_ids,
        costs=costs,
        budget=budget,
        ballot_kind=kind,
        voter_ptr=ptr,
        entry_project=np.array(entries, dtype=np.int32),
        entry_score=np.array(scores, dtype=np.float64),
        meta=dict(pb.meta),
    )
