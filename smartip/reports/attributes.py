"""Open311 service-definition attributes: check a report's answers against its category's definition (pure).

A definition is a list of dicts in the Open311 shape: code, datatype, required, description, order, values,
and optionally variable (default true). Answers map code -> str (or list of str for multivaluelist).
"""

import re
from datetime import datetime
from typing import Any

from smartip.core.errors import Invalid, gettext_noop

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
MAX_STRING = 200
MAX_TEXT = 4000
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

Answer = str | list[str]


def _keys(definition: dict[str, Any]) -> set[str]:
    return {str(v["key"]) for v in definition.get("values", [])}


def _check_one(definition: dict[str, Any], value: Answer) -> Answer:
    code, kind = definition["code"], definition.get("datatype", "string")
    field = f"attribute[{code}]"
    if kind == "multivaluelist":
        values = [value] if isinstance(value, str) else list(value)
        bad = [v for v in values if v not in _keys(definition)]
        if bad:
            raise Invalid(
                gettext_noop("%(field_name)s: %(value)s is not one of %(choices)s"),
                field=field,
                field_name=field,
                value=repr(bad[0]),
                choices=sorted(_keys(definition)),
            )
        return values
    if isinstance(value, list):
        if len(value) != 1:
            raise Invalid(gettext_noop("%(field_name)s: one value expected"), field=field, field_name=field)
        value = value[0]
    value = value.strip()
    if kind == "singlevaluelist" and value not in _keys(definition):
        raise Invalid(
            gettext_noop("%(field_name)s: %(value)s is not one of %(choices)s"),
            field=field,
            field_name=field,
            value=repr(value),
            choices=sorted(_keys(definition)),
        )
    if kind == "number" and not _NUMBER.match(value):
        raise Invalid(
            gettext_noop("%(field_name)s: %(value)s is not a number"),
            field=field,
            field_name=field,
            value=repr(value),
        )
    if kind == "datetime":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(
                gettext_noop("%(field_name)s: %(value)s is not an ISO-8601 date-time"),
                field=field,
                field_name=field,
                value=repr(value),
            ) from None
    limit = MAX_TEXT if kind == "text" else MAX_STRING
    if len(value) > limit:
        raise Invalid(
            gettext_noop("%(field_name)s: at most %(maximum)s characters"),
            field=field,
            field_name=field,
            maximum=limit,
        )
    return value


def validate_attributes(
    definitions: list[dict[str, Any]], answers: dict[str, Answer] | None
) -> dict[str, Answer]:
    """Return the cleaned answers; raise Invalid for a missing required, unknown code or bad value."""
    answers = {k: v for k, v in (answers or {}).items() if v not in ("", [], None)}
    by_code = {d["code"]: d for d in definitions if d.get("variable", True)}
    unknown = sorted(set(answers) - set(by_code))
    if unknown:
        raise Invalid(
            gettext_noop("%(field_name)s: this service has no such attribute"),
            field=f"attribute[{unknown[0]}]",
            field_name=f"attribute[{unknown[0]}]",
        )
    cleaned: dict[str, Answer] = {}
    for code, definition in by_code.items():
        if code not in answers:
            if definition.get("required"):
                raise Invalid(
                    gettext_noop("%(field_name)s is required (%(description)s)"),
                    field=f"attribute[{code}]",
                    field_name=f"attribute[{code}]",
                    description=definition.get("description", code),
                )
            continue
        cleaned[code] = _check_one(definition, answers[code])
    return cleaned


def open311_definition(definitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The definition in full Open311 shape (every field present, ordered by `order`)."""
    out = []
    for i, d in enumerate(sorted(definitions, key=lambda d: d.get("order", 0)), 1):
        out.append(
            {
                "variable": bool(d.get("variable", True)),
                "code": d["code"],
                "datatype": d.get("datatype", "string"),
                "required": bool(d.get("required", False)),
                "datatype_description": d.get("datatype_description"),
                "order": int(d.get("order") or i),
                "description": d.get("description", ""),
                "values": [{"key": str(v["key"]), "name": v["name"]} for v in d.get("values", [])],
            }
        )
    return out
