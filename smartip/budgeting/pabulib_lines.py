"""Line source for the pabulib reader: decodes line by line (exact line numbers for bad bytes), strips a
BOM, notes the newline style, and refuses records that span lines (a quote left open)."""

from collections.abc import Iterable, Iterator


class OpenQuote(Exception):
    """A record continues past its line: a quoted cell was not closed on its line."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__(line, column)
        self.line = line
        self.column = column


class BadBytes(Exception):
    """A line is not valid UTF-8."""

    def __init__(self, line: int, column: int, detail: str) -> None:
        super().__init__(line, column, detail)
        self.line = line
        self.column = column
        self.detail = detail


def open_quote_column(text: str) -> int:
    """Index (0-based) of the cell whose quote is still open at the end of `text`, as csv reads it."""
    column, state = 0, "start"  # start | plain | quoted | closed
    for char in text:
        if state == "quoted":
            state = "closed" if char == '"' else "quoted"
        elif state == "closed" and char == '"':
            state = "quoted"  # a doubled quote inside a quoted cell
        elif char == ";":
            column, state = column + 1, "start"
        elif state == "start":
            state = "quoted" if char == '"' else "plain"
    return column


class LineSource:
    """Iterator of text lines (with their endings) for `csv.reader`.

    `number` is the number of the last line handed out; after each parsed row the caller sets
    `in_record = False`, so a second line requested for the same record raises `OpenQuote`.
    """

    def __init__(self, raw: Iterable[bytes] | Iterable[str]) -> None:
        self._raw: Iterator[bytes | str] = iter(raw)
        self.number = 0
        self.in_record = False
        self.current = ""
        self.first = ""

    def __iter__(self) -> "LineSource":
        return self

    def __next__(self) -> str:
        if self.in_record:  # csv asks for more of a record it has begun: a quote is open (even at the end)
            raise OpenQuote(self.number, open_quote_column(self.current))
        raw = next(self._raw)
        self.number += 1
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                column = raw[: error.start].count(b";")
                detail = f"byte 0x{raw[error.start]:02x} at position {error.start + 1} is not UTF-8"
                raise BadBytes(self.number, column, detail) from None
        else:
            line = raw
        if self.number == 1:
            line = self.first = line.removeprefix("\ufeff")
        self.in_record = True
        self.current = line
        return line

    @property
    def newline(self) -> str:
        """The line ending of the first line ("\r\n" or "\n")."""
        return "\r\n" if self.first.endswith("\r\n") else "\n"

    @property
    def final_newline(self) -> bool:
        """Whether the last line read ends with a newline."""
        return self.current.endswith("\n") or not self.number
