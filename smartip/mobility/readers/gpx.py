"""GPX 1.0/1.1 reader (streamed) and writer.

Reading uses `defusedxml.ElementTree.iterparse`: the file is parsed incrementally, each `<trkpt>`/`<rtept>` is
turned into typed columns and cleared at once, so memory grows with the number of fixes (24 bytes each), not with
the XML. DTDs, entity declarations and external references are refused (defusedxml), nothing is fetched.
Every track point needs `lat`, `lon` and `<time>`; a point without time is an error naming the point's number
(1-based, in file order). `<ele>` becomes `alt_m`; an `<accuracy>` element in `<extensions>` (metres) becomes
`accuracy_m`. Way points (`<wpt>`) are ignored. Time going backwards is sorted (see `fixes.from_columns`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException

from smartip.core.errors import Invalid, gettext_noop
from smartip.mobility.fixes import Fixes
from smartip.mobility.readers._common import MAX_FIXES, FixBuilder, optional_float, parse_float, parse_time

POINT_TAGS = frozenset({"trkpt", "rtept"})


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_gpx(source: Path | BinaryIO, *, max_fixes: int = MAX_FIXES, on_backwards: str = "sort") -> Fixes:
    """Read all track (and route) points of a GPX file as one trace."""
    if isinstance(source, Path):
        with source.open("rb") as fh:
            return read_gpx(fh, max_fixes=max_fixes, on_backwards=on_backwards)
    builder = FixBuilder(max_fixes)
    number = 0
    stack: list[Element] = []
    try:
        for event, elem in safe_et.iterparse(source, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                if not stack and _local(elem.tag) != "gpx":
                    raise Invalid(
                        gettext_noop("not a GPX document: the root element is %(element)s"),
                        field="file",
                        element=f"<{_local(elem.tag)}>",
                    )
                stack.append(elem)
                continue
            stack.pop()
            if _local(elem.tag) not in POINT_TAGS:
                continue
            number += 1
            _add_point(builder, elem, f"track point {number}")
            if stack:
                stack[-1].remove(elem)  # the point's only sibling left; keeps memory bounded
    except ParseError as exc:
        line, column = exc.position
        raise Invalid(
            gettext_noop("broken XML at line %(line)s, column %(column)s: %(error)s"),
            field="file",
            line=line,
            column=column,
            error=exc,
        ) from exc
    except DefusedXmlException as exc:
        raise Invalid(
            gettext_noop("GPX with DTD or entities is refused: %(error)s"), field="file", error=exc
        ) from exc
    if number == 0:
        raise Invalid(gettext_noop("GPX contains no track points (<trkpt>)"), field="file")
    return builder.build(on_backwards)


def _add_point(builder: FixBuilder, elem: Element, where: str) -> None:
    lat = parse_float(elem.get("lat"), "lat", where)
    lon = parse_float(elem.get("lon"), "lon", where)
    time_text, ele, acc = None, math.nan, math.nan
    for child in elem.iter():
        name = _local(child.tag)
        if name == "time":
            time_text = child.text or ""
        elif name == "ele":
            ele = optional_float(child.text)
        elif name == "accuracy":
            acc = optional_float(child.text)
    if time_text is None:
        raise Invalid(f"missing <time> at {where}", field="time")
    builder.add(parse_time(time_text, where), lat, lon, acc, ele)


def write_gpx(fixes: Fixes, *, name: str = "SMARTiP trace") -> str:
    """GPX 1.1 with one track and one segment; times in UTC with millisecond precision when needed."""
    from smartip.mobility.readers.geojson import iso_time

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gpx version="1.1" creator="SMARTiP" xmlns="http://www.topografix.com/GPX/1/1">',
        f"<trk><name>{escape(name)}</name><trkseg>",
    ]
    for t, lat, lon, alt in zip(
        fixes.t_s.tolist(), fixes.lat.tolist(), fixes.lon.tolist(), fixes.alt_m.tolist(), strict=True
    ):
        ele = "" if math.isnan(alt) else f"<ele>{alt:.1f}</ele>"
        out.append(f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}">{ele}<time>{iso_time(t)}</time></trkpt>')
    out.append("</trkseg></trk></gpx>")
    return "\n".join(out) + "\n"
