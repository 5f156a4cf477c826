"""Write a `PabulibFile` back as `.pb` text (`;`, minimal standard quoting, the file's own newline)."""

import csv
import io
from collections.abc import Iterable, Iterator
from typing import TextIO

from smartip.budgeting.pabulib_model import PabulibFile


def _rows(pb: PabulibFile) -> Iterator[Iterable[str]]:
    yield ("META",)
    yield ("key", "value")
    yield from pb.meta.items()
    yield ("PROJECTS",)
    yield pb.project_columns
    columns, missing = pb.project_columns, pb.missing_cell
    for project in pb.projects:
        yield [project.get(name, missing) for name in columns]
    yield ("VOTES",)
    yield pb.vote_columns
    for vote in pb.votes:
        yield [missing if cell is None else cell for cell in vote]


def write_pb(pb: PabulibFile, out: TextIO) -> None:
    """Write `pb` to a text stream (open it with `newline=""` so the file's own line ending is kept)."""
    writer = csv.writer(
        out, delimiter=";", quotechar='"', lineterminator=pb.newline, quoting=csv.QUOTE_MINIMAL
    )
    rows = _rows(pb)
    previous = next(rows)
    for row in rows:
        writer.writerow(previous)
        previous = row
    if pb.final_newline:
        writer.writerow(previous)
    else:
        last = io.StringIO()
        csv.writer(last, delimiter=";", quotechar='"', lineterminator="", quoting=csv.QUOTE_MINIMAL).writerow(
            previous
        )
        out.write(last.getvalue())


def dumps(pb: PabulibFile) -> str:
    """`pb` as `.pb` text."""
    out = io.StringIO(newline="")
    write_pb(pb, out)
    return out.getvalue()
