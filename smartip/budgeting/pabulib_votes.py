"""Checks on each VOTES row against PROJECTS and the ballot limits declared in META.

See `pabulib_rows` for which problems are errors and which are warnings.
"""

from smartip.budgeting.pabulib_numbers import NumberProblem, parse_count, parse_score
from smartip.budgeting.pabulib_rows import ErrorAt, MetaRules, ProjectTable, WarnAt

_SET_TYPES = ("approval", "choose-1")
_POINTS_TYPES = ("cumulative", "scoring")


class VoteChecker:
    """Validates one VOTES row at a time (voter ids, vote lists, points, declared limits)."""

    def __init__(self, rules: MetaRules, projects: ProjectTable, error: ErrorAt, warn: WarnAt) -> None:
        self.rules, self.projects = rules, projects
        self.error, self.warn = error, warn
        self.columns: tuple[str, ...] = ()
        self.vote_at = 1
        self.points_at: int | None = None
        self.voter_lines: dict[str, int] = {}
        limits = rules.limits
        self.min_length = int(limits.get("min_length", 0))
        self.max_length = int(limits["max_length"]) if "max_length" in limits else None
        if rules.vote_type == "choose-1":
            self.max_length = min(self.max_length or 1, 1)
        self.cost_limits = (limits.get("min_sum_cost"), limits.get("max_sum_cost"))
        self.check_costs = rules.vote_type in _SET_TYPES and any(v is not None for v in self.cost_limits)

    def set_header(self, header: tuple[str, ...], line: int) -> None:
        if header[0] != "voter_id":
            raise self.error(
                line, "voter_id", f"VOTES header must start with 'voter_id', found {header[0]!r}"
            )
        if "vote" not in header:
            raise self.error(line, "vote", "VOTES header has no 'vote' column")
        if self.rules.vote_type in _POINTS_TYPES and "points" not in header:
            raise self.error(line, "points", f"{self.rules.vote_type} votes need a 'points' column")
        self.columns = header
        self.vote_at = header.index("vote")
        self.points_at = header.index("points") if "points" in header else None

    def check(self, values: tuple[str | None, ...], line: int) -> None:
        voter_id = values[0]
        if voter_id is None:
            raise self.error(line, "voter_id", "voter id is empty")
        if voter_id in self.voter_lines:
            first = self.voter_lines[voter_id]
            raise self.error(line, "voter_id", f"duplicated voter id {voter_id!r} (first on line {first})")
        self.voter_lines[voter_id] = line
        vote = values[self.vote_at]
        if vote is None:
            raise self.error(line, "vote", f"voter {voter_id!r} has an empty vote")
        items = vote.split(",")
        index = self.projects.index
        for item in items:
            if item not in index:
                raise self.error(line, "vote", self._unknown(item))
        distinct = len(set(items))
        if distinct != len(items):
            if self.rules.vote_type not in _SET_TYPES:
                raise self.error(line, "vote", f"a project is listed twice in {vote!r}")
            self.warn(line, "vote", f"a project is listed twice in {vote!r}; counted once")
        if distinct < self.min_length or (self.max_length is not None and distinct > self.max_length):
            raise self.error(line, "vote", self._length_reason(distinct))
        if self.check_costs:
            self._check_cost(items, line)
        if self.points_at is not None:
            points = values[self.points_at]
            if points is not None:
                self._check_points(points.split(","), len(items), line)
            elif self.rules.vote_type in _POINTS_TYPES:
                raise self.error(line, "points", f"{self.rules.vote_type} vote without points")

    def _unknown(self, item: str) -> str:
        if not item:
            return "empty project id in the list (a trailing or doubled comma?)"
        if item.strip() != item:
            return f"project id {item!r} has spaces around it"
        return f"unknown project {item!r} (not in PROJECTS)"

    def _length_reason(self, distinct: int) -> str:
        if self.rules.vote_type == "choose-1":
            return f"a choose-1 vote names {distinct} projects"
        return f"vote names {distinct} projects, allowed {self.min_length}..{self.max_length or 'any'}"

    def _check_cost(self, items: list[str], line: int) -> None:
        index, costs = self.projects.index, self.projects.costs
        total = sum(costs[index[item]] for item in set(items))
        low, high = self.cost_limits
        if (low is not None and total < low) or (high is not None and total > high):
            self.warn(line, "vote", f"the vote's total cost {total} is outside {low or 0}..{high or 'any'}")

    def _check_points(self, cells: list[str], n_items: int, line: int) -> None:
        if len(cells) != n_items:
            raise self.error(line, "points", f"{len(cells)} points for {n_items} projects in the vote")
        parse = parse_score if self.rules.vote_type == "scoring" else parse_count
        try:
            values = [parse(cell) for cell in cells]
        except NumberProblem as problem:
            raise self.error(line, "points", str(problem)) from None
        limits = self.rules.limits
        if "min_points" in limits and min(values) < limits["min_points"]:
            raise self.error(line, "points", f"a point value is below min_points {limits['min_points']}")
        if "max_points" in limits and max(values) > limits["max_points"]:
            raise self.error(line, "points", f"a point value is above max_points {limits['max_points']}")
        total = sum(values)
        if "max_sum_points" in limits and total > limits["max_sum_points"]:
            raise self.error(
                line, "points", f"points sum to {total}, above max_sum_points {limits['max_sum_points']}"
            )
        if "min_sum_points" in limits and total < limits["min_sum_points"]:
            self.warn(
                line, "points", f"points sum to {total}, below min_sum_points {limits['min_sum_points']}"
            )

    def finish(self, n_votes: int, end_line: int) -> None:
        if n_votes != self.rules.num_votes:
            reason = f"META says {self.rules.num_votes} but the VOTES section has {n_votes} rows"
            raise self.error(self.rules.lines["num_votes"], "num_votes", reason)
