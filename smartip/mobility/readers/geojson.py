"""GeoJSON trace reader and writer.

Accepted (RFC 7946, coordinates `[lon, lat(, ele)]`):
- a FeatureCollection (or a list of Features) of Point features, the time in `properties.time` /
  `timestamp` / `t` (ISO 8601 or epoch seconds/ms), optional `properties.accuracy` (metres);
- a LineString / MultiLineString feature with `properties.coordTimes` (the togeojson convention; a list, or a
  list of lists for MultiLineString) or `properties.times`.
A point without a time is an error naming the feature (and coordinate). GeoJSON is parsed whole, so files over
`MAX_JSON_BYTES` are refused with a size error (stream big traces as GPX or CSV).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from smartip.core.errors import Invalid, gettext_noop
from smartip.mobility.fixes import Fixes
from smartip.mobility.readers._common import (
    MAX_FIXES,
    FixBuilder,
    optional_float,
    parse_float,
    parse_time,
    read_capped,
)

TIME_KEYS = ("time", "timestamp", "t")


def read_geojson(source: Path | BinaryIO, *, max_fixes: int = MAX_FIXES, on_backwards: str = "sort") -> Fixes:
    try:
        doc = json.loads(read_capped(source))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Invalid(f"broken JSON: {exc}", field="file") from exc
    builder = FixBuilder(max_fixes)
    for number, feature in enumerate(_features(doc), start=1):
        _add_feature(builder, feature, f"feature {number}")
    if not len(builder.t):
        raise Invalid(gettext_noop("GeoJSON contains no points"), field="file")
    return builder.build(on_backwards)


def _features(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        raise Invalid(gettext_noop("GeoJSON must be an object or a list of features"), field="file")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise Invalid(gettext_noop("FeatureCollection without a 'features' list"), field="features")
        return features
    if kind == "Feature":
        return [doc]
    raise Invalid(
        gettext_noop("unsupported GeoJSON type %(type)s (need Feature or FeatureCollection)"),
        field="type",
        type=repr(kind),
    )


def _add_feature(builder: FixBuilder, feature: Any, where: str) -> None:
    if not isinstance(feature, dict) or not isinstance(feature.get("geometry"), dict):
        raise Invalid(f"{where} has no geometry", field="geometry")
    geometry, props = feature["geometry"], feature.get("properties") or {}
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        stamp = next((props[k] for k in TIME_KEYS if props.get(k) not in (None, "")), None)
        if stamp is None:
            raise Invalid(f"missing time at {where} (properties.time)", field="time")
        _add(builder, coords, stamp, optional_float(props.get("accuracy", props.get("accuracy_m"))), where)
        return
    if kind not in ("LineString", "MultiLineString"):
        raise Invalid(f"unsupported geometry {kind!r} at {where}", field="geometry")
    lines = [coords] if kind == "LineString" else coords
    times = props.get("coordTimes", props.get("times"))
    if times is None:
        raise Invalid(f"missing time at {where}: no properties.coordTimes", field="time")
    time_lines = [times] if kind == "LineString" else times
    if not isinstance(lines, list) or not isinstance(time_lines, list) or len(lines) != len(time_lines):
        raise Invalid(f"coordTimes does not match the coordinates at {where}", field="coordTimes")
    for line, stamps in zip(lines, time_lines, strict=True):
        if not isinstance(line, list) or not isinstance(stamps, list) or len(line) != len(stamps):
            raise Invalid(f"coordTimes does not match the coordinates at {where}", field="coordTimes")
        for i, (pos, stamp) in enumerate(zip(line, stamps, strict=True), start=1):
            _add(builder, pos, stamp, math.nan, f"{where}, coordinate {i}")


def _add(builder: FixBuilder, pos: Any, stamp: Any, acc: float, where: str) -> None:
    if not isinstance(pos, list) or len(pos) < 2:
        raise Invalid(f"bad coordinates at {where}", field="coordinates")
    if stamp is None or stamp == "":
        raise Invalid(f"missing time at {where}", field="time")
    lon = parse_float(str(pos[0]), "lon", where)
    lat = parse_float(str(pos[1]), "lat", where)
    alt = optional_float(pos[2]) if len(pos) > 2 else math.nan
    builder.add(parse_time(str(stamp), where), lat, lon, acc, alt)


def iso_time(t_s: float) -> str:
    """UTC ISO 8601 with 'Z'; milliseconds only when the time has them."""
    moment = datetime.fromtimestamp(t_s, tz=UTC)
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def write_geojson(fixes: Fixes, *, properties: dict[str, Any] | None = None) -> dict[str, Any]:
    """A FeatureCollection with one LineString feature and `coordTimes` (readable back by `read_geojson`)."""
    coords: list[list[float]] = []
    for lat, lon, alt in zip(fixes.lat.tolist(), fixes.lon.tolist(), fixes.alt_m.tolist(), strict=True):
        pos = [round(lon, 7), round(lat, 7)]
        if not math.isnan(alt):
            pos.append(round(alt, 1))
        coords.append(pos)
    props = dict(properties or {})
    props["coordTimes"] = [iso_time(t) for t in fixes.t_s.tolist()]
    feature = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": props,
    }
    return {"type": "FeatureCollection", "features": [feature]}
