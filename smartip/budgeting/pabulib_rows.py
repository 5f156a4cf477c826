"""Checks on META, PROJECTS and VOTES rows of a pabulib file.

Errors (the file is refused): everything in the format reference's malformed list that no real pabulib file
shows. Warnings (kept, reported in `PabulibFile.warnings`), because real files contain them:
- an approval/choose-1 vote naming the same project twice (28 rows in Warsaw files; deduplicated like
  pabutools does);
- an approval vote whose total cost is outside `min_sum_cost..max_sum_cost` (25 rows, Warsaw 2017);
- a cumulative vote whose points sum below `min_sum_points` (48 rows, Mechanical Turk files);
- unknown `rule`, dates not `YYYY`/`DD.MM.YYYY`, a comma used as decimal mark, a zero cost, a project costing
  more than the budget, `selected` not 0/1/2/3, blank rows, empty cells after the last column, text after a
  closing quote (`"Odkupmy" i my`, read as csv readers do).
`num_projects` / `num_votes` that differ from the rows are errors (no real file has that).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from smartip.budgeting.pabulib_model import (
    KNOWN_RULES,
    MISSING_CELLS,
    OBLIGATORY_META,
    VOTE_TYPES,
    PabulibError,
)
from smartip.budgeting.pabulib_numbers import NumberProblem, parse_amount, parse_count, parse_score

ErrorAt = Callable[[int, str, str], PabulibError]
WarnAt = Callable[[int, str, str], None]

_LENGTH_KEYS = ("min_length", "max_length")
_COST_KEYS = ("min_sum_cost", "max_sum_cost")
_POINT_KEYS = ("min_points", "max_points", "min_sum_points", "max_sum_points", "default_score")


@dataclass
class MetaRules:
    """What the vote checks need from META, parsed once."""

    vote_type: str
    budget: int | float
    num_projects: int
    num_votes: int
    lines: dict[str, int]
    limits: dict[str, int | float] = field(default_factory=dict)


def check_meta(
    meta: dict[str, str], lines: dict[str, int], end_line: int, error: ErrorAt, warn: WarnAt
) -> MetaRules:
    """Obligatory keys, vote type, budget, counts and ballot limits; `end_line` is where META ended."""
    for key in OBLIGATORY_META:
        if key not in meta:
            raise error(end_line, key, "obligatory META key is missing")
        if not meta[key]:
            raise error(lines[key], key, "obligatory META key has an empty value")
    vote_type = meta["vote_type"]
    if vote_type not in VOTE_TYPES:
        raise error(lines["vote_type"], "vote_type", f"{vote_type!r} is not one of {', '.join(VOTE_TYPES)}")
    if meta["rule"] not in KNOWN_RULES:
        warn(lines["rule"], "rule", f"unknown rule {meta['rule']!r}")
    for key in ("date_begin", "date_end"):
        if not _is_date(meta[key]):
            warn(lines[key], key, f"{meta[key]!r} is neither YYYY nor DD.MM.YYYY")

    def number(key: str, parse: Callable[[str], int | float]) -> int | float:
        try:
            return parse(meta[key])
        except NumberProblem as problem:
            raise error(lines[key], key, str(problem)) from None

    budget = number("budget", lambda text: _amount(text, lines["budget"], "budget", warn))
    if budget == 0:
        raise error(lines["budget"], "budget", "budget must be positive")
    rules = MetaRules(vote_type, budget, int(number("num_projects", parse_count)), 0, lines)
    rules.num_votes = int(number("num_votes", parse_count))
    parsers: dict[str, Callable[[str], int | float]] = {
        **dict.fromkeys(_LENGTH_KEYS, parse_count),
        **dict.fromkeys(_COST_KEYS, lambda text: parse_amount(text)[0]),
        **dict.fromkeys(_POINT_KEYS, parse_score),
    }
    for key, parse in parsers.items():
        if key in meta and meta[key]:
            rules.limits[key] = number(key, parse)
    for low, high in (
        ("min_length", "max_length"),
        ("min_sum_cost", "max_sum_cost"),
        ("min_points", "max_points"),
    ):
        if low in rules.limits and high in rules.limits and rules.limits[low] > rules.limits[high]:
            raise error(lines[high], high, f"{high} {meta[high]} is below {low} {meta[low]}")
    return rules


def _amount(text: str, line: int, name: str, warn: WarnAt) -> int | float:
    value, comma = parse_amount(text)
    if comma:
        warn(line, name, f"{text!r}: comma read as the decimal mark")
    return value


def _is_date(text: str) -> bool:
    if len(text) == 4:
        return text.isdigit()
    return len(text) == 10 and text[2] == text[5] == "." and (text[:2] + text[3:5] + text[6:]).isdigit()


class ProjectTable:
    """PROJECTS rows, their ids (→ index) and parsed costs."""

    def __init__(self, error: ErrorAt, warn: WarnAt) -> None:
        self.error, self.warn = error, warn
        self.rows: list[dict[str, str]] = []
        self.index: dict[str, int] = {}
        self.costs: list[int | float] = []
        self.lines: list[int] = []
        self.header: tuple[str, ...] = ()

    def set_header(self, header: tuple[str, ...], line: int) -> None:
        error = self.error
        if header[0] != "project_id":
            raise error(
                line, "project_id", f"PROJECTS header must start with 'project_id', found {header[0]!r}"
            )
        if "cost" not in header:
            raise error(line, "cost", "PROJECTS header has no 'cost' column")
        self.header = header

    def add(self, cells: list[str], line: int) -> None:
        error, warn = self.error, self.warn
        row = {name: cell for name, cell in zip(self.header, cells, strict=True) if cell not in MISSING_CELLS}
        project_id = row.get("project_id")
        if project_id is None:
            raise error(line, "project_id", "project id is empty")
        if "," in project_id:
            raise error(line, "project_id", f"project id {project_id!r} contains a comma")
        if project_id in self.index:
            first = self.lines[self.index[project_id]]
            raise error(line, "project_id", f"duplicated project id {project_id!r} (first on line {first})")
        if "cost" not in row:
            raise error(line, "cost", f"project {project_id!r} has no cost")
        try:
            cost = _amount(row["cost"], line, "cost", warn)
        except NumberProblem as problem:
            raise error(line, "cost", str(problem)) from None
        if cost == 0:
            warn(line, "cost", f"project {project_id!r} costs 0")
        if row.get("selected", "0") not in ("0", "1", "2", "3"):
            warn(line, "selected", f"{row['selected']!r} is not 0, 1, 2 or 3")
        self.index[project_id] = len(self.rows)
        self.rows.append(row)
        self.costs.append(cost)
        self.lines.append(line)

    def finish(self, rules: MetaRules, line: int) -> None:
        error, warn = self.error, self.warn
        if not self.rows:
            raise error(line, "PROJECTS", "the PROJECTS section has no project")
        if len(self.rows) != rules.num_projects:
            where = rules.lines["num_projects"]
            reason = f"META says {rules.num_projects} but the PROJECTS section has {len(self.rows)} rows"
            raise error(where, "num_projects", reason)
        for cost, row_line, row in zip(self.costs, self.lines, self.rows, strict=True):
            if cost > rules.budget:
                warn(row_line, "cost", f"project {row['project_id']!r} costs more than the whole budget")
