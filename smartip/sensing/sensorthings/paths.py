"""Resource paths (``Things(1)/Datastreams``, ``Datastreams(3)/Observations(7)``, ``Things(1)/name``), parsed purely."""

import re
from dataclasses import dataclass

from smartip.core.errors import Invalid

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z$][A-Za-z0-9_$]*)(?:\((?P<id>\d+|'[^']*')\))?$")


@dataclass(frozen=True)
class Segment:
    name: str
    id: int | None


def parse_path(path: str) -> list[Segment]:
    """Segments of a path; ids must be integers (quoted integers are accepted: ``Things('1')``)."""
    segments = []
    for part in path.strip("/").split("/"):
        match = _SEGMENT.match(part)
        if match is None:
            raise Invalid(f"path: cannot read {part!r} (e.g. Things(1)/Datastreams)", field="path")
        raw = match.group("id")
        if raw is not None:
            raw = raw.strip("'")
            if not raw.isdigit():
                raise Invalid(f"path: {part!r}: ids are integers here", field="path")
        segments.append(Segment(match.group("name"), int(raw) if raw is not None else None))
    return segments
