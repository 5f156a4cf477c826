"""Streaming, validating reader for pabulib `.pb` files (pure, no Django).

The file is read line by line through `csv.reader` (`;`, standard quoting); the raw text is never held.
Every problem is a `PabulibError` naming the line and the field. What real pabulib files contain is
tolerated with a warning (see `pabulib_rows` for the list); everything else is an error.
"""

import csv
import io
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from smartip.budgeting.pabulib_lines import BadBytes, LineSource, OpenQuote
from smartip.budgeting.pabulib_model import MISSING_CELLS, SECTIONS, PabulibError, PabulibFile
from smartip.budgeting.pabulib_rows import MetaRules, ProjectTable, check_meta
from smartip.budgeting.pabulib_votes import VoteChecker

Source = str | Path | TextIO


class _Parser:
    """Section state machine fed one CSV row at a time."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.seen: list[str] = []
        self.section = ""
        self.header: tuple[str, ...] = ()
        self.need_header = False
        self.meta: dict[str, str] = {}
        self.meta_lines: dict[str, int] = {}
        self.rules: MetaRules | None = None
        self.projects = ProjectTable(self.error, self.warn)
        self.project_columns: tuple[str, ...] = ()
        self.votes: list[tuple[str | None, ...]] = []
        self.checker: VoteChecker | None = None
        self.warnings: list[str] = []
        self.missing_cell = ""  # "" until a missing cell spelled as a word (`None`) is seen
        self.votes_width = -1  # set once the VOTES header is read, for the fast path
        self.check_vote: Callable[[tuple[str | None, ...], int], None] = lambda values, line: None

    def error(self, line: int, field: str, reason: str) -> PabulibError:
        return PabulibError(line, field, reason, source=self.source)

    def warn(self, line: int, field: str, reason: str) -> None:
        self.warnings.append(f"line {line}, field '{field}': {reason}")

    def field_at(self, column: int) -> str:
        if self.need_header or not self.header:
            return self.section or "META"
        return self.header[column] if column < len(self.header) else self.section

    # -- rows ---------------------------------------------------------------------------------------
    def feed(self, row: list[str], line: int) -> None:
        cells = [cell.strip() for cell in row]
        if self.votes_width == len(cells) and cells[0] and cells[0].upper() not in SECTIONS:
            # fast path: a vote row
            values = tuple([None if cell in MISSING_CELLS else cell for cell in cells])
            if not self.missing_cell and None in values:
                self.spot_missing_spelling(cells)
            self.check_vote(values, line)
            self.votes.append(values)
            return
        if not any(cells):
            if row:
                self.warn(line, self.section or "META", "blank row skipped")
            return
        title = cells[0].upper()
        if title in SECTIONS and not any(cells[1:]):
            self.start_section(title, line)
        elif not self.section:
            raise self.error(line, "META", f"the file must start with the line 'META', found {row[0][:40]!r}")
        elif self.need_header:
            self.read_header(cells, line)
        else:
            if len(cells) != len(self.header):
                cells = self.fit_width(cells, line)
            if not self.missing_cell and self.section != "META":
                self.spot_missing_spelling(cells)
            if self.section == "VOTES":
                values = tuple([None if cell in MISSING_CELLS else cell for cell in cells])
                self.check_vote(values, line)
                self.votes.append(values)
            elif self.section == "PROJECTS":
                self.projects.add(cells, line)
            else:
                self.read_meta_row(cells, line)

    def spot_missing_spelling(self, cells: list[str]) -> None:
        """Note how the file spells a missing cell when it writes a word (`None`), so writing keeps it."""
        self.missing_cell = next((cell for cell in cells if cell and cell in MISSING_CELLS), "")

    def fit_width(self, cells: list[str], line: int) -> list[str]:
        width = len(self.header)
        if len(cells) > width and not any(cells[width:]):
            self.warn(line, self.section, f"{len(cells) - width} empty cell(s) after the last column ignored")
            return cells[:width]
        if self.section == "META" and cells[0]:
            field = cells[0]
        else:
            field = self.header[len(cells)] if len(cells) < width else self.section
        hint = " (an unquoted ';' inside a cell?)" if len(cells) > width else ""
        raise self.error(
            line, field, f"row has {len(cells)} cell(s) but the {self.section} header has {width}{hint}"
        )

    def read_meta_row(self, cells: list[str], line: int) -> None:
        key, value = cells
        if not key:
            raise self.error(line, "META", "META row has an empty key")
        if key in self.meta:
            raise self.error(line, key, f"duplicated META key (first on line {self.meta_lines[key]})")
        self.meta[key] = value
        self.meta_lines[key] = line

    # -- sections -----------------------------------------------------------------------------------
    def start_section(self, title: str, line: int) -> None:
        if title in self.seen:
            raise self.error(line, title, "duplicated section")
        expected = SECTIONS[len(self.seen)]
        if title != expected:
            raise self.error(line, expected, f"section '{title}' found where section '{expected}' must come")
        self.end_section(line)
        self.seen.append(title)
        self.section, self.need_header, self.header = title, True, ()

    def end_section(self, line: int) -> None:
        if self.need_header:
            raise self.error(line, self.section, "section has no header line")
        if self.section == "META":
            self.rules = check_meta(self.meta, self.meta_lines, line, self.error, self.warn)
        elif self.section == "PROJECTS":
            assert self.rules is not None
            self.projects.finish(self.rules, line)
            self.checker = VoteChecker(self.rules, self.projects, self.error, self.warn)

    def read_header(self, cells: list[str], line: int) -> None:
        header = tuple(cells)
        self.need_header = False
        if self.section == "META":
            if [cell.lower() for cell in cells] != ["key", "value"]:
                raise self.error(line, "META", f"META header must be 'key;value', found {';'.join(cells)!r}")
            self.header = ("key", "value")
            return
        for index, name in enumerate(header):
            if not name:
                raise self.error(line, self.section, f"column {index + 1} of the header has no name")
            if name in header[:index]:
                raise self.error(line, name, "duplicated column name in the header")
        self.header = header
        if self.section == "PROJECTS":
            self.project_columns = header
            self.projects.set_header(header, line)
        else:
            assert self.checker is not None
            self.checker.set_header(header, line)
            self.votes_width, self.check_vote = len(header), self.checker.check

    def finish(self, last_line: int) -> None:
        end = last_line + 1
        if not self.seen:
            raise self.error(1, "META", "the file is empty (no 'META' section)")
        if self.need_header:
            raise self.error(end, self.section, "the file ends before the section's header line")
        missing = [name for name in SECTIONS if name not in self.seen]
        if missing:
            raise self.error(end, missing[0], f"the file ends without a '{missing[0]}' section")
        assert self.checker is not None
        self.checker.finish(len(self.votes), end)


def _parse(lines: LineSource, source: str | None) -> PabulibFile:
    parser = _Parser(source)
    reader = csv.reader(lines, delimiter=";", quotechar='"', skipinitialspace=True, strict=True)
    try:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as problem:
                row = _lenient(lines, parser, problem)
            lines.in_record = False
            parser.feed(row, lines.number)
    except OpenQuote as problem:
        field = parser.field_at(problem.column)
        raise parser.error(problem.line, field, "quoted cell is not closed on its line") from None
    except BadBytes as problem:
        raise parser.error(problem.line, parser.field_at(problem.column), problem.detail) from None
    parser.finish(lines.number)
    return PabulibFile(
        meta=parser.meta,
        project_columns=parser.project_columns,
        projects=parser.projects.rows,
        vote_columns=parser.checker.columns if parser.checker else (),
        votes=parser.votes,
        newline=lines.newline,
        final_newline=lines.final_newline,
        missing_cell=parser.missing_cell,
        warnings=parser.warnings,
    )


def _lenient(lines: LineSource, parser: _Parser, problem: csv.Error) -> list[str]:
    """Re-read a record that strict CSV refused for text after a closing quote (`"Odkupmy" i my`), as
    csv readers and pabutools do; any other CSV problem (a bare carriage return, NUL) is an error."""
    text = lines.current
    if "expected after" not in str(problem):
        odd = next((i for i, char in enumerate(text.rstrip("\r\n")) if char in "\r\0"), 0)
        reason = f"unreadable CSV: {'control character' if odd else problem} inside a cell"
        raise parser.error(lines.number, parser.field_at(text[:odd].count(";")), reason)
    row = next(csv.reader([text], delimiter=";", quotechar='"', skipinitialspace=True))
    column = next((i for i, cell in enumerate(text.split(";")) if '"' in cell), 0)
    parser.warn(lines.number, parser.field_at(column), "text after a closing quote; quotes dropped")
    return row


def read_pb(source: Source, *, name: str | None = None) -> PabulibFile:
    """Read and validate a `.pb` file from a path or an open binary or text stream.

    A path or binary stream is decoded line by line as UTF-8 (a BOM is dropped); open a text stream with
    `newline=""` to keep its line ending for `write_pb`. Raises `PabulibError` ("line N, field 'F': reason")
    on any malformed input; tolerated oddities go to `PabulibFile.warnings`.
    """
    with ExitStack() as stack:
        if isinstance(source, str | Path):
            name = name or Path(source).name
            stream = stack.enter_context(open(source, "rb"))  # noqa: SIM115
            return _parse(LineSource(stream), name)
        return _parse(LineSource(source), name)


def loads(text: str, *, name: str | None = None) -> PabulibFile:
    """Read a `.pb` file given as a string."""
    return _parse(LineSource(io.StringIO(text, newline="")), name)
