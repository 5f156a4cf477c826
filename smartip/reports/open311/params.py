"""Open311 request parameters, parsed and checked (pure, no Django). Empty values count as absent (spec §0)."""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from smartip.core.errors import Invalid

MAX_WINDOW = timedelta(days=90)
DEFAULT_LIMIT = 1000
MAX_PAGE_SIZE = 1000
_W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


def present(value: str | None) -> str | None:
    """Empty or blank means absent."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def parse_w3c(text: str, field: str) -> datetime:
    """A W3C-DTF date-time with a timezone (2010-01-01T00:00:00Z, 1994-11-05T08:15:30-05:00)."""
    if not _W3C.match(text):
        raise Invalid(
            f"{field}: {text!r} is not a W3C date-time with a timezone, e.g. 2010-01-01T00:00:00Z",
            field=field,
        )
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{field}: {text!r} is not a valid date-time", field=field) from None


def date_window(start_text: str | None, end_text: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The requested window, at most 90 days; a missing end is start+90d (capped at now), a missing start end-90d."""
    start = parse_w3c(start_text, "start_date") if start_text else None
    end = parse_w3c(end_text, "end_date") if end_text else None
    if start is None and end is None:
        return now - MAX_WINDOW, now
    if start is None:
        assert end is not None
        return end - MAX_WINDOW, end
    if end is None:
        return start, max(start, min(now, start + MAX_WINDOW))
    if end < start:
        raise Invalid("end_date is before start_date", field="end_date")
    if end - start > MAX_WINDOW:
        raise Invalid("start_date to end_date may not span more than 90 days", field="end_date")
    return start, end


def parse_float(text: str | None, field: str) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise Invalid(f"{field}: {text!r} is not a number", field=field) from None
    if not math.isfinite(value):
        raise Invalid(f"{field}: {text!r} is not a finite number", field=field)
    return value


def parse_location(lat_text: str | None, long_text: str | None) -> tuple[float, float] | None:
    """lat and long together, in range, or neither."""
    lat, lon = parse_float(lat_text, "lat"), parse_float(long_text, "long")
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise Invalid("lat and long must be sent together", field="lat" if lat is None else "long")
    if not (-90 <= lat <= 90):
        raise Invalid(f"lat {lat} is out of range -90..90", field="lat")
    if not (-180 <= lon <= 180):
        raise Invalid(f"long {lon} is out of range -180..180", field="long")
    return lat, lon


def parse_ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise Invalid(
            f"service_request_id: {text!r} must be comma-separated numbers", field="service_request_id"
        ) from None
    if not ids or any(i <= 0 for i in ids):
        raise Invalid("service_request_id: positive numbers expected", field="service_request_id")
    return ids


def comma_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def parse_page(page_text: str | None, size_text: str | None) -> Page:
    """Extension `page` (1-based) and `page_size` (default and maximum 1000, the spec's default volume)."""
    try:
        number = int(page_text) if page_text else 1
        size = int(size_text) if size_text else DEFAULT_LIMIT
    except ValueError:
        raise Invalid("page and page_size must be whole numbers", field="page") from None
    if number < 1 or not (1 <= size <= MAX_PAGE_SIZE):
        raise Invalid(f"page must be >= 1 and page_size 1..{MAX_PAGE_SIZE}", field="page_size")
    return Page(number, size)


def parse_attributes(pairs: Iterable[tuple[str, str]]) -> dict[str, str | list[str]]:
    """attribute[CODE]=v and attribute[CODE][]=v1&attribute[CODE][]=v2 from form pairs."""
    out: dict[str, str | list[str]] = {}
    for key, value in pairs:
        found = _ATTRIBUTE.match(key)
        if not found:
            continue
        code, many = found.group(1), found.group(2)
        if many:
            previous = out.get(code, [])
            out[code] = [*(previous if isinstance(previous, list) else [previous]), value]
        else:
            out[code] = value
    return out
