"""A parsed ``$filter`` / ``$orderby`` turned into Django expressions over one entity type's queryset.

Property paths go through :data:`EntityType.fields` and to-one navigation (``Datastream/Thing/name``);
``properties/<key>`` reads a JSON key as text. Observation → Datastream has no foreign key (a datastream is the
(sensor, quantity) pair), so that hop is a correlated subquery. To-many paths in a filter are refused.
"""

import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db.models import (
    DateTimeField,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    lookups,
)
from django.db.models import functions as fn
from django.db.models.fields.json import KeyTextTransform, KeyTransform

from smartip.core.errors import Invalid
from smartip.sensing.sensorthings.entities import BY_NAME, EntityType
from smartip.sensing.sensorthings.filter import Binary, Call, Literal, Node, Not, Path
from smartip.sensing.sensorthings.options import OrderBy
from smartip.sensing.sta_models import StaDatastream

COMPARE: dict[str, type[lookups.Lookup]] = {
    "eq": lookups.Exact,
    "gt": lookups.GreaterThan,
    "ge": lookups.GreaterThanOrEqual,
    "lt": lookups.LessThan,
    "le": lookups.LessThanOrEqual,
}
ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "mod": fn.Mod,  # PostgreSQL has no % for double precision
}
UNARY: dict[str, Callable[[Any], Any]] = {
    "length": fn.Length,
    "tolower": fn.Lower,
    "toupper": fn.Upper,
    "trim": fn.Trim,
    "year": fn.ExtractYear,
    "month": fn.ExtractMonth,
    "day": fn.ExtractDay,
    "hour": fn.ExtractHour,
    "minute": fn.ExtractMinute,
    "second": fn.ExtractSecond,
    "round": fn.Round,
    "floor": fn.Floor,
    "ceiling": fn.Ceil,
}


def resolve(etype: EntityType, parts: tuple[str, ...], prefix: str = "") -> Any:
    """The expression of a property path of ``etype`` (``prefix``: ORM path from the queried model)."""
    name = parts[0]
    where = "/".join(parts)
    if "/".join(parts[:2]) in etype.fields and len(parts) == 2:
        return F(prefix + etype.fields["/".join(parts)])
    if name in etype.fields:
        orm = prefix + etype.fields[name]
        if len(parts) == 1:
            return F(orm)
        if name in ("properties", "unitOfMeasurement", "location", "feature"):
            return json_text(F(orm), parts[1:])
        raise Invalid(f"{where}: {name} has no member {parts[1]!r}", field="$filter")
    nav = etype.navs.get(name)
    if nav is None:
        known = ", ".join([*etype.fields, *etype.navs])
        raise Invalid(f"{where}: {etype.name} has no property {name!r} (known: {known})", field="$filter")
    if len(parts) == 1:
        raise Invalid(f"{where}: name a property of {name}, e.g. {name}/@iot.id", field="$filter")
    target = BY_NAME[nav.target]
    if nav.many:
        raise Invalid(f"{where}: filtering across the to-many {name} is not supported", field="$filter")
    if nav.orm is not None:
        return resolve(target, parts[1:], prefix + nav.orm + "__")
    if etype.name == "Observation" and name == "Datastream" and not prefix:
        inner = StaDatastream.objects.filter(thing_id=OuterRef("sensor_id"), quantity=OuterRef("quantity"))
        return Subquery(inner.annotate(_v=resolve(target, parts[1:])).values("_v")[:1])
    raise Invalid(f"{where}: this path is not supported in $filter", field="$filter")


def json_text(expr: Any, keys: tuple[str, ...]) -> Any:
    """A JSON member as text (works across relations, unlike ``KT("rel__field__key")``)."""
    for key in keys[:-1]:
        expr = KeyTransform(key, expr)
    return KeyTextTransform(keys[-1], expr)


def value_expression(node: Node, etype: EntityType) -> Any:
    if isinstance(node, Literal):
        if isinstance(node.value, datetime):
            return Value(node.value, output_field=DateTimeField())
        return Value(node.value)
    if isinstance(node, Path):
        return resolve(etype, node.parts)
    if isinstance(node, Binary) and node.op in ARITH:
        left, right = value_expression(node.left, etype), value_expression(node.right, etype)
        return ExpressionWrapper(ARITH[node.op](left, right), output_field=FloatField())
    if isinstance(node, Call) and node.name in UNARY:
        return UNARY[node.name](value_expression(node.args[0], etype))
    if isinstance(node, Call) and node.name == "concat":
        return fn.Concat(*(value_expression(a, etype) for a in node.args))
    if isinstance(node, Call) and node.name == "indexof":
        haystack, needle = (value_expression(a, etype) for a in node.args)
        return fn.StrIndex(haystack, needle) - 1
    raise Invalid("$filter: a condition cannot be used as a value", field="$filter")


def condition(node: Node, etype: EntityType) -> Q:
    """The Q object of a boolean AST node."""
    if isinstance(node, Binary) and node.op in ("and", "or"):
        left, right = condition(node.left, etype), condition(node.right, etype)
        return left & right if node.op == "and" else left | right
    if isinstance(node, Not):
        return ~condition(node.operand, etype)
    if isinstance(node, Literal):
        return Q() if node.value else Q(pk__in=[])
    if isinstance(node, Call):
        a, b = (value_expression(arg, etype) for arg in node.args)
        if node.name == "substringof":
            return Q(lookups.Contains(b, a))
        if node.name == "contains":
            return Q(lookups.Contains(a, b))
        if node.name == "startswith":
            return Q(lookups.StartsWith(a, b))
        return Q(lookups.EndsWith(a, b))
    assert isinstance(node, Binary)
    for side, other in ((node.right, node.left), (node.left, node.right)):
        if isinstance(side, Literal) and side.value is None:
            return Q(lookups.IsNull(value_expression(other, etype), node.op == "eq"))
    left, right = value_expression(node.left, etype), value_expression(node.right, etype)
    if node.op == "ne":
        return ~Q(lookups.Exact(left, right))
    return Q(COMPARE[node.op](left, right))


def apply_filter(qs: QuerySet[Any], node: Node | None, etype: EntityType) -> QuerySet[Any]:
    return qs if node is None else qs.filter(condition(node, etype))


def apply_orderby(qs: QuerySet[Any], orderby: tuple[OrderBy, ...], etype: EntityType) -> QuerySet[Any]:
    """Requested order, then the id (a stable order makes $skip paging exact)."""
    keys: list[Expression] = []
    for item in orderby:
        try:
            expr = resolve(etype, item.path)
        except Invalid as exc:
            raise Invalid(exc.message.replace("$filter", "$orderby"), field="$orderby") from None
        keys.append(expr.desc() if item.descending else expr.asc())
    return qs.order_by(*keys, "pk")
