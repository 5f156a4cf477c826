"""Open311 GeoReport v2 writer, pure (no Django): plain dicts in, XML or JSON text out.

XML and JSON follow the spec's Spark convention: a container element becomes a JSON array, even with one
child. Values: None -> empty element / null, bool -> "true"/"false", datetime -> W3C-DTF with its offset.
"""

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

SPEC = "http://wiki.open311.org/GeoReport_v2"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
# Spark convention: the element name of each child of a container
CHILD_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
    "photos": "photo",
}
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Value = Any


def w3c_datetime(value: datetime) -> str:
    """ISO-8601 with a timezone offset (aware datetimes only), seconds precision, `Z` for UTC."""
    if value.tzinfo is None:
        raise ValueError("Open311 datetimes must be timezone-aware")
    text = value.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _scalar_text(value: Value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c_datetime(value)
    return _XML_INVALID.sub("", str(value))


def _append(parent: Element, tag: str, value: Value) -> None:
    node = SubElement(parent, tag)
    if isinstance(value, Mapping):
        for key, child in value.items():
            _append(node, key, child)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        child_tag = CHILD_TAGS.get(tag, "item")
        for item in value:
            _append(node, child_tag, item)
    else:
        text = _scalar_text(value)
        if text is not None:
            node.text = text


def to_xml(root: str, value: Value) -> str:
    """`root` wraps `value`: a list (Spark container, children named by CHILD_TAGS) or a dict of fields."""
    holder = Element("holder")
    _append(holder, root, value)
    return XML_DECLARATION + tostring(holder[0], encoding="unicode")


def _json_default(value: Value) -> Value:
    if isinstance(value, datetime):
        return w3c_datetime(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} to Open311 JSON")


def to_json(value: Value) -> str:
    """The JSON form: the container's children as an array (the root element name is dropped)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def render(fmt: str, root: str, value: Value) -> str:
    """One entry point: fmt is "xml" or "json"."""
    if fmt == "xml":
        return to_xml(root, value)
    if fmt == "json":
        return to_json(value)
    raise ValueError(f"unknown format {fmt!r}")


def errors_body(fmt: str, errors: Sequence[tuple[int, str]]) -> str:
    """The spec's error list: [{code, description}] / <errors><error><code/><description/></error></errors>."""
    return render(fmt, "errors", [{"code": code, "description": text} for code, text in errors])
