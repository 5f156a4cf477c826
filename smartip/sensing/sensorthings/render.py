"""GET output: entities with @iot.selfLink and navigation links, $select, nested $expand, paged collections."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet

from smartip.core.errors import Invalid
from smartip.sensing.sensorthings.entities import BY_NAME, EntityType, iso
from smartip.sensing.sensorthings.options import DEFAULT_TOP, Options
from smartip.sensing.sensorthings.query_orm import apply_filter, apply_orderby


@dataclass(frozen=True)
class Context:
    base: str  # absolute URL of the service root, without a trailing slash


def self_link(ctx: Context, etype: EntityType, pk: Any) -> str:
    return f"{ctx.base}/{etype.plural}({pk})"


Expanded = dict[
    str, dict[Any, Any]
]  # nav → parent key → rendered target (to-one) or target objects (to-many)


def entity(
    ctx: Context, etype: EntityType, obj: Any, opts: Options, expanded: Expanded | None = None
) -> dict[str, Any]:
    """One entity; ``expanded`` holds to-one expansions already rendered for the whole page."""
    selected = set(opts.select) if opts.select else None
    for name in opts.select or ():
        if (
            name not in ("@iot.id", "id", "@iot.selfLink")
            and name not in etype.fields
            and name not in etype.navs
        ):
            raise Invalid(f"$select: {etype.name} has no property {name!r}", field="$select")
    out: dict[str, Any] = {}
    if selected is None or selected & {"@iot.id", "id"}:
        out["@iot.id"] = obj.pk
    link = self_link(ctx, etype, obj.pk)
    if selected is None or "@iot.selfLink" in selected:
        out["@iot.selfLink"] = link
    for key, value in etype.render(obj).items():
        if selected is None or key in selected:
            out[key] = value
    for nav_link in etype.navs:
        if selected is None or nav_link in selected:
            out[f"{nav_link}@iot.navigationLink"] = f"{link}/{nav_link}"
    for nav_name, inner in opts.expand.items():
        nav = etype.navs.get(nav_name)
        if nav is None:
            raise Invalid(f"$expand: {etype.name} has no navigation property {nav_name!r}", field="$expand")
        if expanded is not None and nav_name in expanded and nav.key is not None:
            found = expanded[nav_name].get(nav.key(obj))
            if not nav.many:
                out[nav_name] = found
                continue
            group: list[Any] = found or []
            top = DEFAULT_TOP if inner.top is None else inner.top
            window = group[inner.skip : inner.skip + top + 1]
            put_many(
                out,
                ctx,
                link,
                nav_name,
                BY_NAME[nav.target],
                inner,
                window,
                len(group) if inner.count else None,
            )
            continue
        target = BY_NAME[nav.target]
        related = apply_orderby(apply_filter(nav.related(obj), inner.filter, target), inner.orderby, target)
        if nav.many:
            top = DEFAULT_TOP if inner.top is None else inner.top
            rows = list(related[inner.skip : inner.skip + top + 1])
            count = related.count() if inner.count else None
            put_many(out, ctx, link, nav_name, target, inner, rows, count)
        else:
            first = related.first()
            out[nav_name] = None if first is None else entity(ctx, target, first, inner)
    return out


def collection(
    ctx: Context, etype: EntityType, qs: QuerySet[Any], opts: Options, url: str, params: dict[str, str]
) -> dict[str, Any]:
    """One page; ``@iot.nextLink`` is the absolute URL of the next page (same options, $skip advanced)."""
    qs = apply_orderby(apply_filter(qs, opts.filter, etype), opts.orderby, etype)
    top = DEFAULT_TOP if opts.top is None else opts.top
    out: dict[str, Any] = {}
    if opts.count:
        out["@iot.count"] = qs.count()
    rows = list(qs[opts.skip : opts.skip + top + 1])
    if opts.result_format == "dataArray":
        out["value"] = data_array(ctx, etype, rows[:top], opts)
    else:
        page = rows[:top]
        expanded = expand_page(ctx, etype, page, opts)
        out["value"] = [entity(ctx, etype, row, opts, expanded) for row in page]
    if len(rows) > top > 0:
        out["@iot.nextLink"] = f"{url}?{urlencode({**params, '$top': top, '$skip': opts.skip + top})}"
    return out


def put_many(
    out: dict[str, Any],
    ctx: Context,
    link: str,
    nav_name: str,
    target: EntityType,
    inner: Options,
    rows: list[Any],
    count: int | None,
) -> None:
    """An expanded to-many navigation: at most $top entities (``rows`` holds one more if there are more)."""
    top = DEFAULT_TOP if inner.top is None else inner.top
    if count is not None:
        out[f"{nav_name}@iot.count"] = count
    out[nav_name] = [entity(ctx, target, row, inner) for row in rows[:top]]
    if len(rows) > top > 0:
        query = {"$top": top, "$skip": inner.skip + top}
        out[f"{nav_name}@iot.nextLink"] = f"{link}/{nav_name}?{urlencode(query)}"


def expand_page(ctx: Context, etype: EntityType, rows: list[Any], opts: Options) -> Expanded:
    """Expansions of a whole page in one query per navigation: to-one targets rendered once each; to-many
    targets grouped by parent (not for Observations, which are too many to fetch all of and slice)."""
    out: Expanded = {}
    for nav_name, inner in opts.expand.items():
        nav = etype.navs.get(nav_name)
        if nav is None or nav.batch is None or nav.key is None or nav.target_key is None or not rows:
            continue
        target = BY_NAME[nav.target]
        found = apply_filter(nav.batch({nav.key(row) for row in rows}), inner.filter, target)
        if nav.many:
            groups: dict[Any, Any] = {}
            for t in apply_orderby(found, inner.orderby, target):
                groups.setdefault(nav.target_key(t), []).append(t)
            out[nav_name] = groups
        else:
            out[nav_name] = {nav.target_key(t): entity(ctx, target, t, inner) for t in found}
    return out


def data_array(ctx: Context, etype: EntityType, rows: list[Any], opts: Options) -> list[dict[str, Any]]:
    """``$resultFormat=dataArray`` for Observations: one block per Datastream."""
    if etype.name != "Observation":
        raise Invalid("$resultFormat=dataArray applies to Observations", field="$resultFormat")
    components = list(opts.select or ("id", "phenomenonTime", "result"))
    getters = {
        "id": lambda o: o.pk,
        "@iot.id": lambda o: o.pk,
        "phenomenonTime": lambda o: iso(o.time),
        "resultTime": lambda o: iso(o.time),
        "result": lambda o: o.value,
        "resultQuality": lambda o: {"qcFlags": o.qc_flags},
    }
    unknown = [c for c in components if c not in getters]
    if unknown:
        raise Invalid(f"$select: {unknown[0]!r} cannot be a dataArray component", field="$select")
    datastreams = {
        (ds.thing_id, ds.quantity): ds.pk
        for ds in BY_NAME["Datastream"].model.objects.filter(thing_id__in={o.sensor_id for o in rows})
    }
    blocks: dict[int | None, list[list[Any]]] = {}
    for o in rows:
        blocks.setdefault(datastreams.get((o.sensor_id, o.quantity)), []).append(
            [getters[c](o) for c in components]
        )
    ds_type = BY_NAME["Datastream"]
    return [
        {
            "Datastream@iot.navigationLink": self_link(ctx, ds_type, pk),
            "components": components,
            "dataArray@iot.count": len(array),
            "dataArray": array,
        }
        for pk, array in blocks.items()
    ]
