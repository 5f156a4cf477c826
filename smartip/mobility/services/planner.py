"""Planner aggregates with the publication rule enforced here (minimum distinct people, trimmed trip ends,
optional Laplace noise), and their CSV and GeoJSON exports."""

from __future__ import annotations

import io
import random
import secrets
from collections.abc import Hashable
from datetime import datetime
from typing import Any

from smartip.accounts.models import Role, User
from smartip.accounts.permissions import has_role
from smartip.cities.models import City
from smartip.core.errors import Forbidden, Invalid, gettext_noop
from smartip.mobility import aggregates as agg
from smartip.mobility.models import MatchedSegment, StreetNetwork, StreetSegment, Trip
from smartip.mobility.services.common import min_people, setting

AGGREGATE_KINDS = ("segments", "od-neighbourhoods", "od-h3", "speeds", "hotspots", "mode-share")


def can_see_aggregates(user: User | None, city: City) -> bool:
    return has_role(user, city, Role.ANALYST, Role.ADMIN)


def aggregates_for(
    *,
    user: User | None,
    city: City,
    kind: str,
    since: datetime | None = None,
    until: datetime | None = None,
    rng: random.Random | None = None,
) -> list[dict[str, Any]]:
    """Published cells of one kind for a city and period; only cells with MOBILITY_MIN_PEOPLE distinct people,
    from trimmed trips, with Laplace noise when MOBILITY_DP_EPSILON is set."""
    if not can_see_aggregates(user, city):
        raise Forbidden(
            gettext_noop("mobility aggregates are for the city's analysts and administrators"), field="city"
        )
    if kind not in AGGREGATE_KINDS:
        raise Invalid(f"unknown aggregate {kind!r} (one of {', '.join(AGGREGATE_KINDS)})", field="kind")
    if since is not None and until is not None and since >= until:
        raise Invalid(gettext_noop("the period is empty: since must come before until"), field="until")
    return compute_aggregates(city=city, kind=kind, since=since, until=until, rng=rng)


def compute_aggregates(
    *,
    city: City,
    kind: str,
    since: datetime | None = None,
    until: datetime | None = None,
    rng: random.Random | None = None,
) -> list[dict[str, Any]]:
    """The publication rule without the permission check (open-data publishing calls this too)."""
    params = {
        "min_people": min_people(),
        "epsilon": setting("MOBILITY_DP_EPSILON", None),
        "cap_per_person": int(setting("MOBILITY_CAP_PER_PERSON", 10)),
        "rng": rng or random.Random(secrets.randbits(64)),
    }
    if kind in ("segments", "speeds", "hotspots"):
        return _segment_aggregates(city, kind, since, until, params)
    return _trip_aggregates(city, kind, since, until, params)


def _segment_aggregates(
    city: City, kind: str, since: datetime | None, until: datetime | None, params: dict[str, Any]
) -> list[dict[str, Any]]:
    qs = MatchedSegment.objects.filter(tripleg__trip__trace__city=city, in_trip_end=False)
    if since is not None:
        qs = qs.filter(entered_at__gte=since)
    if until is not None:
        qs = qs.filter(entered_at__lt=until)
    rows = list(
        qs.values_list(
            "osm_way_id",
            "tripleg__mode",
            "entered_at",
            "tripleg__trip__trace__owner_id",
            "speed_mps",
            "length_m",
        )
    )
    persons = [r[3] for r in rows]
    tz = city.tz
    if kind == "hotspots":
        spots = agg.delay_hotspots(
            [r[0] for r in rows],
            persons,
            [r[4] for r in rows],
            [r[5] for r in rows],
            min_people=params["min_people"],
        )
        return [_hotspot(h) for h in spots]
    keys: list[tuple[Hashable, ...]] = []
    for way, mode, entered, *_ in rows:
        local = entered.astimezone(tz)
        keys.append((way, mode, local.hour, "weekend" if local.weekday() >= 5 else "weekday"))
    names = ("way_id", "mode", "hour", "day_type")
    if kind == "speeds":
        cells = agg.median_speeds(keys, persons, [r[4] for r in rows], min_people=params["min_people"])
        return [
            {
                **dict(zip(names, c.key, strict=True)),
                "median_speed_mps": round(c.median_speed_mps, 2),
                "n_people": c.n_people,
            }
            for c in cells
        ]
    counts = agg.publish_counts(
        keys, persons, **{k: params[k] for k in ("min_people", "epsilon", "cap_per_person", "rng")}
    )
    return [
        {**dict(zip(names, c.key, strict=True)), "count": c.count, "n_people": c.n_people} for c in counts
    ]


def _hotspot(h: agg.Hotspot) -> dict[str, Any]:
    return {
        "way_id": h.way_id,
        "median_delay_s": round(h.median_delay_s, 1),
        "free_flow_speed_mps": round(h.free_flow_speed_mps, 2),
        "median_speed_mps": round(h.median_speed_mps, 2),
        "n_people": h.n_people,
    }


def _trip_aggregates(
    city: City, kind: str, since: datetime | None, until: datetime | None, params: dict[str, Any]
) -> list[dict[str, Any]]:
    trips = Trip.objects.for_city(city).between(since, until)
    if kind == "mode-share":
        rows = list(
            trips.exclude(origin_neighbourhood=None).values_list(
                "origin_neighbourhood__code", "trace__owner_id", "main_mode"
            )
        )
        shares = agg.mode_share(
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            min_people=params["min_people"],
            cap_per_person=params["cap_per_person"],
        )
        return [
            {"neighbourhood": area, "mode": mode, "share": round(share, 3)}
            for area, by_mode in shares.items()
            for mode, share in by_mode.items()
        ]
    if kind == "od-neighbourhoods":
        fields = ("origin_neighbourhood__code", "destination_neighbourhood__code")
        trips = trips.exclude(origin_neighbourhood=None).exclude(destination_neighbourhood=None)
    else:
        fields = ("origin_h3", "destination_h3")
        trips = trips.exclude(origin_h3="").exclude(destination_h3="")
    rows = list(trips.values_list(*fields, "trace__owner_id"))
    counts = agg.publish_counts(
        [(r[0], r[1]) for r in rows],
        [r[2] for r in rows],
        **{k: params[k] for k in ("min_people", "epsilon", "cap_per_person", "rng")},
    )
    return [
        {"origin": c.key[0], "destination": c.key[1], "count": c.count, "n_people": c.n_people}
        for c in counts
    ]


# --- exports ------------------------------------------------------------------------------------------------

AGGREGATE_COLUMNS = {
    "segments": ("way_id", "mode", "hour", "day_type", "count", "n_people"),
    "speeds": ("way_id", "mode", "hour", "day_type", "median_speed_mps", "n_people"),
    "hotspots": ("way_id", "median_delay_s", "free_flow_speed_mps", "median_speed_mps", "n_people"),
    "od-neighbourhoods": ("origin", "destination", "count", "n_people"),
    "od-h3": ("origin", "destination", "count", "n_people"),
    "mode-share": ("neighbourhood", "mode", "share"),
}


def aggregates_csv(kind: str, cells: list[dict[str, Any]]) -> str:
    import csv

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=AGGREGATE_COLUMNS[kind], lineterminator="\n")
    writer.writeheader()
    writer.writerows(cells)
    return out.getvalue()


def aggregates_geojson(*, city: City, kind: str, cells: list[dict[str, Any]]) -> dict[str, Any]:
    """Cells as GeoJSON features: street geometry for segment kinds, a line between cell or neighbourhood
    centres for OD pairs, the neighbourhood's polygon for mode share (null geometry when unknown)."""
    if kind in ("segments", "speeds", "hotspots"):
        network = StreetNetwork.objects.filter(city=city).order_by("-loaded_at", "-pk").first()
        shapes = dict(
            StreetSegment.objects.filter(
                network=network, osm_way_id__in={c["way_id"] for c in cells}
            ).values_list("osm_way_id", "geometry")
        )
        geometry = [shapes.get(c["way_id"]) for c in cells]
    elif kind == "od-h3":
        ends = [(h3_centre(c["origin"]), h3_centre(c["destination"])) for c in cells]
        geometry = [_line(a, b) if a and b else None for a, b in ends]
    else:
        hoods = {n.code: n for n in city.neighbourhoods.all()}
        if kind == "mode-share":
            geometry = [getattr(hoods.get(c["neighbourhood"]), "geometry", None) for c in cells]
        else:
            geometry = [_line(_centre(hoods[c["origin"]]), _centre(hoods[c["destination"]])) for c in cells]
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": g, "properties": c} for g, c in zip(geometry, cells, strict=True)
        ],
    }


def h3_centre(cell: str) -> tuple[float, float] | None:
    """(lat, lon) of an H3 cell's centre; None for a string that is not an H3 cell."""
    import h3

    return h3.cell_to_latlng(cell) if h3.is_valid_cell(cell) else None


def _centre(hood: Any) -> tuple[float, float]:
    return (hood.min_lat + hood.max_lat) / 2, (hood.min_lon + hood.max_lon) / 2


def _line(a: tuple[float, float], b: tuple[float, float]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [[a[1], a[0]], [b[1], b[0]]]}
