"""The in-memory form of a pabulib `.pb` file and the error its reader raises (pure, no Django).

A `PabulibFile` keeps every cell of the file (stripped; empty and `None` cells as missing) in file order,
so that `read_pb(dumps(pb)) == pb` holds for every file the reader accepts.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from smartip.core.errors import Invalid

SECTIONS = ("META", "PROJECTS", "VOTES")

OBLIGATORY_META = (
    "description",
    "country",
    "unit",
    "instance",
    "num_projects",
    "num_votes",
    "budget",
    "vote_type",
    "rule",
    "date_begin",
    "date_end",
)

MISSING_CELLS = frozenset(
    ["", *("".join(c.upper() if mask >> i & 1 else c for i, c in enumerate("none")) for mask in range(16))]
)  # a cell that means "no value": empty, or `none` in any letter case (Warsaw files write `None`)

VOTE_TYPES = ("approval", "choose-1", "ordinal", "cumulative", "scoring")

KNOWN_RULES = (
    "greedy",
    "greedy-no-skip",
    "greedy-threshold",
    "greedy-exclusive",
    "greedy-custom",
    "equalshares",
    "equalshares-comparison",
    "equalshares/add1",
    "equalshares/add1-comparison",
    "unknown",
)


class PabulibError(Invalid):
    """A `.pb` file (or plain data meant to become one) breaks the format.

    The message always reads "line N, field 'F': reason" (prefixed by the file name when known);
    `line` and `field` are also attributes.
    """

    def __init__(self, line: int, field: str, reason: str, *, source: str | None = None) -> None:
        where = f"line {line}, field '{field}': {reason}"
        super().__init__(f"{source}: {where}" if source else where, field=field)
        self.line = line
        self.reason = reason
        self.source = source


@dataclass
class PabulibFile:
    """One pabulib file, cell for cell.

    - `meta`: META key → value, file order.
    - `projects`: one dict per PROJECTS row, column → value; a missing cell (empty or `None`) is left out.
    - `votes`: compact form, one tuple per VOTES row aligned with `vote_columns`; `None` = missing cell.
    - `newline` / `final_newline`: the file's line ending (of its first line) and whether it ends with one,
      and `missing_cell`: how it writes a missing PROJECTS/VOTES cell ("" or the first word-spelling seen,
      e.g. `None`), so that writing gives the same layout back.
    - `warnings`: tolerated oddities found while reading ("line N, field 'F': ..."). Neither `warnings` nor
      `missing_cell` takes part in equality.
    """

    meta: dict[str, str]
    project_columns: tuple[str, ...]
    projects: list[dict[str, str]]
    vote_columns: tuple[str, ...]
    votes: list[tuple[str | None, ...]]
    newline: str = "\n"
    final_newline: bool = True
    missing_cell: str = field(default="", compare=False)  # a spelling only: the cells are missing either way
    warnings: list[str] = field(default_factory=list, compare=False, repr=False)

    @property
    def vote_type(self) -> str:
        return self.meta.get("vote_type", "")

    @property
    def project_ids(self) -> list[str]:
        return [row["project_id"] for row in self.projects]

    def vote_column(self, name: str) -> list[str | None]:
        """All values of one VOTES column (None where missing); KeyError if there is no such column."""
        index = self.vote_columns.index(name) if name in self.vote_columns else -1
        if index < 0:
            raise KeyError(name)
        return [row[index] for row in self.votes]

    def vote_dicts(self) -> Iterator[dict[str, str]]:
        """The VOTES rows as dicts (missing cells left out), built one at a time."""
        columns = self.vote_columns
        for row in self.votes:
            yield {name: value for name, value in zip(columns, row, strict=True) if value is not None}
