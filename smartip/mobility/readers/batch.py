"""JSON batch from the phone apps.

Format (one upload, parsed whole, capped at `MAX_JSON_BYTES`):
`{"fixes": [{"t": <epoch s | epoch ms | ISO 8601>, "lat": .., "lon": .., "accuracy": <m, optional>,
"alt": <m, optional>}, ...]}`. The common phone-SDK spellings are accepted too: `locations` for `fixes`,
`timestamp`/`time` for `t`, `latitude`/`longitude`, `horizontalAccuracy`/`accuracy_m` and `altitude`.
Phones send batches out of order, so fixes are sorted by time (use `on_backwards="reject"` to refuse instead).
"""

from __future__ import annotations

import json
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


def _first(item: dict[str, Any], *keys: str) -> Any:
    return next((item[k] for k in keys if item.get(k) not in (None, "")), None)


def read_batch(
    source: Path | BinaryIO | bytes | dict[str, Any],
    *,
    max_fixes: int = MAX_FIXES,
    on_backwards: str = "sort",
) -> Fixes:
    """Read a phone batch from a file, bytes or an already-decoded dict (API payload)."""
    doc = source if isinstance(source, dict) else _load(source)
    items = _first(doc, "fixes", "locations") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise Invalid(gettext_noop("batch must be an object with a 'fixes' list"), field="fixes")
    if not items:
        raise Invalid(gettext_noop("batch has no fixes"), field="fixes")
    builder = FixBuilder(max_fixes)
    for i, item in enumerate(items):
        where = f"fixes[{i}]"
        if not isinstance(item, dict):
            raise Invalid(f"{where} is not an object", field=where)
        stamp = _first(item, "t", "timestamp", "time")
        if stamp is None:
            raise Invalid(f"missing time at {where}", field=f"{where}.t")
        builder.add(
            parse_time(str(stamp), where),
            parse_float(_str(_first(item, "lat", "latitude")), "lat", where),
            parse_float(_str(_first(item, "lon", "lng", "longitude")), "lon", where),
            optional_float(_first(item, "accuracy", "accuracy_m", "horizontalAccuracy")),
            optional_float(_first(item, "alt", "altitude")),
        )
    return builder.build(on_backwards)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _load(source: Path | BinaryIO | bytes) -> Any:
    if isinstance(source, bytes):
        raw = source
        if len(raw) > 50_000_000:
            raise Invalid(gettext_noop("batch too large: over 50 MB"), field="file")
    else:
        raw = read_capped(source)
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Invalid(f"broken JSON: {exc}", field="file") from exc
