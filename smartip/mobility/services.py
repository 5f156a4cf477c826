"""Mobility workflows: upload (consent, privacy zones before storage), processing (pipeline, map matching),
export, deletion, street networks, and the planner aggregates with the publication rule enforced here."""

from __future__ import annotations

import io
import random
import secrets
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from smartip.accounts.models import ApiKey, Role, User
from smartip.accounts.permissions import has_role
from smartip.cities.models import City
from smartip.core.errors import Forbidden, Invalid, NotFound
from smartip.core.geo import h3_cell
from smartip.mobility import aggregates as agg
from smartip.mobility.fixes import Fixes, drop_in_zones, haversine_m
from smartip.mobility.models import (
    MatchedSegment,
    PrivacyZone,
    StayPoint,
    StreetNetwork,
    StreetSegment,
    Trace,
    TraceBatch,
    Trip,
    Tripleg,
)

H3_RES = 8
#: pipeline mode labels the matcher spells differently (the classifier cannot tell a bus from a tram)
MATCH_MODE = {"bus/tram": "bus"}
AGGREGATE_KINDS = ("segments", "od-neighbourhoods", "od-h3", "speeds", "hotspots", "mode-share")


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def min_people() -> int:
    return int(_setting("MOBILITY_MIN_PEOPLE", 5))


def _dt(t_s: float) -> datetime:
    return datetime.fromtimestamp(float(t_s), tz=UTC)


# --- upload -------------------------------------------------------------------------------------------------


def _check_consent(consent: bool, purpose: str) -> None:
    if consent is not True:
        raise Invalid("consent is required to store a trace (send consent=true)", field="consent")
    if not (purpose or "").strip():
        raise Invalid("say what the trace may be used for (purpose)", field="purpose")


def _check_in_city(fixes: Fixes, city: City) -> None:
    inside = (
        (fixes.lat >= city.min_lat)
        & (fixes.lat <= city.max_lat)
        & (fixes.lon >= city.min_lon)
        & (fixes.lon <= city.max_lon)
    )
    if not inside.all():
        i = int(np.flatnonzero(~inside)[0])
        raise Invalid(
            f"fixes[{i}] ({fixes.lat[i]:.5f}, {fixes.lon[i]:.5f}) lies outside {city.name}; "
            f"{int((~inside).sum())} of {len(fixes)} fixes are outside the city",
            field=f"fixes[{i}]",
        )


def read_upload(data: bytes, fmt: str) -> Fixes:
    """Parse an uploaded file's bytes; `Invalid` for over-size files and for anything the readers refuse."""
    from smartip.mobility.readers import FORMATS, read_trace

    limit = int(_setting("MOBILITY_MAX_UPLOAD_BYTES", 20_000_000))
    if len(data) > limit:
        raise Invalid(f"file is {len(data)} bytes, at most {limit} are accepted", field="file")
    if fmt not in FORMATS:
        raise Invalid(f"unknown trace format {fmt!r} (one of {', '.join(FORMATS)})", field="format")
    fixes = read_trace(io.BytesIO(data), fmt)
    if len(fixes) < 2:
        raise Invalid("a trace needs at least two fixes", field="file")
    return fixes


def upload_trace(
    *,
    owner: User,
    city: City,
    fixes: Fixes,
    source_format: str,
    consent: bool,
    purpose: str,
    name: str = "",
    process: bool = True,
) -> Trace:
    """Store a trace after dropping every fix inside the owner's privacy zones (those never reach the DB)."""
    _check_consent(consent, purpose)
    _check_in_city(fixes, city)
    zones = [z.as_tuple() for z in PrivacyZone.objects.filter(owner=owner)]
    kept = drop_in_zones(fixes, zones)
    if len(kept) == 0:
        raise Invalid("every fix of this trace lies inside your privacy zones; nothing stored", field="fixes")
    trace = Trace.objects.create(
        owner=owner,
        city=city,
        name=name[:200],
        source_format=source_format,
        consent_at=timezone.now(),
        consent_purpose=purpose.strip(),
        n_fixes=len(kept),
        n_dropped_in_zones=len(fixes) - len(kept),
        fixes_blob=kept.to_bytes(),
        started_at=_dt(kept.t_s[0]),
        finished_at=_dt(kept.t_s[-1]),
    )
    if process:
        process_trace(trace=trace)
    return trace


@dataclass(frozen=True)
class BatchResult:
    trace: Trace
    created: bool


def upload_batch(*, raw_key: str | None, payload: Any, process: bool = True) -> BatchResult:
    """A phone batch sent with a device key: `{"batch_id", "city", "consent", "purpose", "fixes": [...]}`.

    Idempotent per owner and `batch_id`: a retry returns the trace stored the first time (`created=False`).
    """
    from smartip.accounts.auth import user_for_key
    from smartip.accounts.models import hash_key
    from smartip.cities.services import get_city
    from smartip.mobility.readers.batch import read_batch

    owner = user_for_key(raw_key)
    key = ApiKey.objects.filter(key_hash=hash_key(raw_key.strip())).first() if raw_key else None
    if owner is None or key is None or key.kind != "device":
        raise Forbidden("send the phone's device key in X-API-Key", field="X-API-Key")
    if not isinstance(payload, dict):
        raise Invalid("batch must be a JSON object", field="body")
    batch_id = payload.get("batch_id")
    if not isinstance(batch_id, str) or not (0 < len(batch_id) <= 100):
        raise Invalid("batch_id: a string of 1 to 100 characters is required", field="batch_id")
    previous = TraceBatch.objects.filter(owner=owner, batch_id=batch_id).select_related("trace").first()
    if previous is not None:
        return BatchResult(previous.trace, False)
    if not isinstance(payload.get("city"), str):
        raise Invalid("city: the city's slug is required", field="city")
    city = get_city(payload["city"])
    fixes = read_batch(payload)
    try:
        with transaction.atomic():
            trace = upload_trace(
                owner=owner,
                city=city,
                fixes=fixes,
                source_format="batch",
                consent=payload.get("consent") is True,
                purpose=str(payload.get("purpose") or ""),
                name=f"phone batch {batch_id}",
                process=process,
            )
            TraceBatch.objects.create(owner=owner, device_key=key, batch_id=batch_id, trace=trace)
    except IntegrityError:  # a concurrent retry won the race
        previous = TraceBatch.objects.select_related("trace").get(owner=owner, batch_id=batch_id)
        return BatchResult(previous.trace, False)
    return BatchResult(trace, True)


# --- processing ---------------------------------------------------------------------------------------------


def matcher_for(city: City) -> Any:
    """The engine named by `MAPMATCH_ENGINE` ("valhalla" by default; "fake" in tests), or None when the
    real engine has no street network for this city (trips are then stored without matched segments)."""
    from smartip.mobility.matching.engine import get_matcher

    name = _setting("MAPMATCH_ENGINE", "valhalla")
    if name != "valhalla":
        return get_matcher(name)
    network = StreetNetwork.objects.filter(city=city).order_by("-loaded_at", "-pk").first()
    if network is None:
        return None
    return get_matcher("valhalla", network=network.tiles_config)


def process_trace(*, trace: Trace, rng: random.Random | None = None) -> Trace:
    """(Re)derive stay points, trips, triplegs and matched segments of a trace (old derived rows are replaced)."""
    from smartip.mobility.matching.matcher import is_matchable
    from smartip.mobility.pipeline.run import process

    rng = rng or random.Random(secrets.randbits(64))
    trace.staypoints.all().delete()
    trace.trips.all().delete()
    result = process(trace.fixes)
    fx = result.fixes
    sp = result.staypoints
    StayPoint.objects.bulk_create(
        StayPoint(
            trace=trace,
            started_at=_dt(sp.started_at_s[k]),
            finished_at=_dt(sp.finished_at_s[k]),
            lat=float(sp.lat[k]),
            lon=float(sp.lon[k]),
            is_activity=bool(sp.is_activity[k]),
        )
        for k in range(len(sp))
    )
    matcher = matcher_for(trace.city)
    segments_by_way = _segment_ids(trace.city)
    tpls, trips = result.triplegs, result.trips
    for i in range(len(trips)):
        legs = np.flatnonzero(trips.tripleg_trip == i)
        if not len(legs):
            continue
        first, end = int(tpls.first_fix[legs[0]]), int(tpls.end_fix[legs[-1]])
        part = fx.take(np.arange(first, end))
        window = agg.trim_window(part.t_s, part.lat, part.lon, *agg.draw_trim_m(rng))
        trip = _create_trip(trace, trips, i, part, window, [str(result.tripleg_modes[k]) for k in legs])
        for k in legs:
            leg_fixes = fx.take(np.arange(int(tpls.first_fix[k]), int(tpls.end_fix[k])))
            mode = str(result.tripleg_modes[k])
            leg = Tripleg.objects.create(
                trip=trip,
                mode=mode,
                started_at=_dt(tpls.started_at_s[k]),
                finished_at=_dt(tpls.finished_at_s[k]),
                distance_m=_length_m(leg_fixes),
            )
            match_mode = MATCH_MODE.get(mode, mode)
            if matcher is not None and is_matchable(match_mode):
                _store_match(matcher, leg, leg_fixes, match_mode, window, segments_by_way)
    trace.processed_at = timezone.now()
    trace.matched_with = "" if matcher is None else type(matcher).__name__
    trace.save(update_fields=["processed_at", "matched_with"])
    return trace


def _length_m(fixes: Fixes) -> float:
    if len(fixes) < 2:
        return 0.0
    return float(haversine_m(fixes.lat[:-1], fixes.lon[:-1], fixes.lat[1:], fixes.lon[1:]).sum())


def _create_trip(
    trace: Trace, trips: Any, i: int, part: Fixes, window: tuple[float, float] | None, modes: list[str]
) -> Trip:
    """A trip row; its aggregation ends (neighbourhood, H3) come from the trimmed ends, none if too short."""
    city = trace.city
    ends: dict[str, Any] = {}
    if window is not None:
        for side, at_s in (("origin", window[0]), ("destination", window[1])):
            lat, lon = agg.position_at(part.t_s, part.lat, part.lon, at_s)
            ends[f"{side}_neighbourhood"] = city.neighbourhood_at(lat, lon)
            ends[f"{side}_h3"] = h3_cell(lat, lon, H3_RES)
    main = max(set(modes), key=modes.count) if modes else ""
    return Trip.objects.create(
        trace=trace,
        started_at=_dt(trips.started_at_s[i]),
        finished_at=_dt(trips.finished_at_s[i]),
        origin_lat=_finite(trips.origin_lat[i]),
        origin_lon=_finite(trips.origin_lon[i]),
        destination_lat=_finite(trips.destination_lat[i]),
        destination_lon=_finite(trips.destination_lon[i]),
        modes=modes,
        main_mode=main,
        distance_m=_length_m(part),
        **ends,
    )


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _segment_ids(city: City) -> dict[int, int]:
    network = StreetNetwork.objects.filter(city=city).order_by("-loaded_at", "-pk").first()
    if network is None:
        return {}
    return dict(StreetSegment.objects.filter(network=network).values_list("osm_way_id", "pk"))


def _store_match(
    matcher: Any,
    leg: Tripleg,
    fixes: Fixes,
    mode: str,
    window: tuple[float, float] | None,
    segments_by_way: dict[int, int],
) -> None:
    try:
        result = matcher.match(fixes.lat, fixes.lon, fixes.t_s, mode=mode)
    except Invalid:
        return  # an unmatchable leg (too short, no street in reach) keeps its trip, without segments
    rows = []
    for s in result.segments:
        if not np.isfinite(s.start_s):
            continue
        # a way counts when part of its traversal lies between the trimmed ends (OSM ways are often long)
        in_end = window is None or s.end_s <= window[0] or s.start_s >= window[1]
        rows.append(
            MatchedSegment(
                tripleg=leg,
                segment_id=segments_by_way.get(s.way_id),
                osm_way_id=s.way_id,
                entered_at=_dt(s.start_s),
                duration_s=float(s.end_s - s.start_s) if np.isfinite(s.end_s) else 0.0,
                length_m=float(s.length_m),
                speed_mps=_finite(s.speed_mps),
                in_trip_end=in_end,
            )
        )
    MatchedSegment.objects.bulk_create(rows)


# --- the owner's traces -------------------------------------------------------------------------------------


def my_traces(*, owner: User) -> Any:
    return Trace.objects.owned_by(owner).select_related("city").defer("fixes_blob")


def get_own_trace(*, owner: User, trace_id: int) -> Trace:
    """The trace if `owner` owns it; NotFound otherwise (someone else's trace is not revealed to exist)."""
    trace = Trace.objects.owned_by(owner).select_related("city").filter(pk=trace_id).first()
    if trace is None:
        raise NotFound(f"you have no trace {trace_id}", field="trace_id")
    return trace


def export_trace(*, owner: User, trace_id: int, fmt: str) -> tuple[str, str]:
    """(content, media type) of the owner's trace as GPX or GeoJSON."""
    import json

    from smartip.mobility.readers.geojson import write_geojson
    from smartip.mobility.readers.gpx import write_gpx

    trace = get_own_trace(owner=owner, trace_id=trace_id)
    if fmt == "gpx":
        return write_gpx(trace.fixes, name=str(trace)), "application/gpx+xml"
    if fmt == "geojson":
        return json.dumps(write_geojson(trace.fixes)), "application/geo+json"
    raise Invalid(f"export format {fmt!r}: use gpx or geojson", field="format")


def delete_trace(*, owner: User, trace_id: int) -> int:
    """Delete a trace and everything derived from it; returns the number of rows deleted."""
    deleted, _ = get_own_trace(owner=owner, trace_id=trace_id).delete()
    return deleted


# --- privacy zones ------------------------------------------------------------------------------------------


def _check_zone(lat: float, lon: float, radius_m: float) -> None:
    if not -90 <= lat <= 90:
        raise Invalid(f"lat {lat} is not a latitude", field="lat")
    if not -180 <= lon <= 180:
        raise Invalid(f"lon {lon} is not a longitude", field="lon")
    if not 50 <= radius_m <= 5000:
        raise Invalid(f"radius_m {radius_m}: between 50 and 5000 m", field="radius_m")


def create_zone(*, owner: User, label: str, lat: float, lon: float, radius_m: float) -> PrivacyZone:
    _check_zone(lat, lon, radius_m)
    return PrivacyZone.objects.create(owner=owner, label=label, lat=lat, lon=lon, radius_m=radius_m)


def get_own_zone(*, owner: User, zone_id: int) -> PrivacyZone:
    zone = PrivacyZone.objects.filter(owner=owner, pk=zone_id).first()
    if zone is None:
        raise NotFound(f"you have no privacy zone {zone_id}", field="zone_id")
    return zone


def update_zone(*, owner: User, zone_id: int, **changes: Any) -> PrivacyZone:
    zone = get_own_zone(owner=owner, zone_id=zone_id)
    for name, value in changes.items():
        if value is not None:
            setattr(zone, name, value)
    _check_zone(zone.lat, zone.lon, zone.radius_m)
    zone.save()
    return zone


def delete_zone(*, owner: User, zone_id: int) -> None:
    get_own_zone(owner=owner, zone_id=zone_id).delete()


# --- street networks ----------------------------------------------------------------------------------------


def load_network(*, city: City, pbf: Path) -> StreetNetwork:
    """Build (or reuse) Valhalla tiles for an extract and fill the city's street segment table."""
    from smartip.mobility.matching.network import build_tiles, file_sha256, street_segments

    config = build_tiles(pbf, Path(settings.HOME) / "valhalla")
    segments = street_segments(pbf)
    network = StreetNetwork.objects.create(
        city=city,
        source_name=Path(pbf).name,
        sha256=file_sha256(pbf),
        tiles_config=str(config),
        n_segments=len(segments),
    )
    seen: set[int] = set()
    rows = []
    for s in segments:
        if s.way_id in seen:
            continue
        seen.add(s.way_id)
        rows.append(
            StreetSegment(
                network=network,
                osm_way_id=s.way_id,
                name=s.name[:255],
                highway=s.highway[:64],
                geometry={"type": "LineString", "coordinates": s.coords},
                length_m=s.length_m,
            )
        )
    StreetSegment.objects.bulk_create(rows, batch_size=2000)
    return network


# --- planner aggregates -------------------------------------------------------------------------------------


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
        raise Forbidden("mobility aggregates are for the city's analysts and administrators", field="city")
    if kind not in AGGREGATE_KINDS:
        raise Invalid(f"unknown aggregate {kind!r} (one of {', '.join(AGGREGATE_KINDS)})", field="kind")
    if since is not None and until is not None and since >= until:
        raise Invalid("the period is empty: since must come before until", field="until")
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
        "epsilon": _setting("MOBILITY_DP_EPSILON", None),
        "cap_per_person": int(_setting("MOBILITY_CAP_PER_PERSON", 10)),
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


# --- aggregate exports --------------------------------------------------------------------------------------

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
    import h3

    if kind in ("segments", "speeds", "hotspots"):
        network = StreetNetwork.objects.filter(city=city).order_by("-loaded_at", "-pk").first()
        shapes = dict(
            StreetSegment.objects.filter(
                network=network, osm_way_id__in={c["way_id"] for c in cells}
            ).values_list("osm_way_id", "geometry")
        )
        geometry = [shapes.get(c["way_id"]) for c in cells]
    elif kind == "od-h3":
        geometry = [_line(h3.cell_to_latlng(c["origin"]), h3.cell_to_latlng(c["destination"])) for c in cells]
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


def _centre(hood: Any) -> tuple[float, float]:
    return (hood.min_lat + hood.max_lat) / 2, (hood.min_lon + hood.max_lon) / 2


def _line(a: tuple[float, float], b: tuple[float, float]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [[a[1], a[0]], [b[1], b[0]]]}


# --- bulk import (CLI) --------------------------------------------------------------------------------------

IMPORT_SUFFIXES = (".plt", ".gpx")


def import_folder(
    *,
    folder: Path,
    city: City,
    purpose: str,
    process: bool = True,
    progress: Any = None,
    total: Any = None,
) -> dict[str, Any]:
    """Import `folder/<user>/**/*.plt|*.gpx`: one user per sub-folder (username `<city>-import-<folder>`), one
    trace per file, each in its own transaction; files the readers refuse or that leave the city are skipped
    and reported, never half-stored."""
    from smartip.mobility.readers import read_trace

    people = sorted(p for p in folder.iterdir() if p.is_dir())
    files = [
        (person, f)
        for person in people
        for f in sorted(person.rglob("*"))
        if f.suffix.lower() in IMPORT_SUFFIXES
    ]
    if total is not None:
        total(len(files))
    report: dict[str, Any] = {"users": 0, "traces": 0, "fixes": 0, "trips": 0, "skipped": []}
    users: dict[Path, User] = {}
    for person, path in files:
        if person not in users:
            users[person], _ = User.objects.get_or_create(username=f"{city.slug}-import-{person.name}"[:150])
        try:
            with transaction.atomic():
                trace = upload_trace(
                    owner=users[person],
                    city=city,
                    fixes=read_trace(path),
                    source_format=path.suffix.lower().lstrip("."),
                    consent=True,
                    purpose=purpose,
                    name=f"{person.name}/{path.name}",
                    process=process,
                )
            report["traces"] += 1
            report["fixes"] += trace.n_fixes
            report["trips"] += trace.trips.count()
        except Invalid as exc:
            report["skipped"].append({"file": str(path.relative_to(folder)), "reason": exc.message})
        if progress is not None:
            progress(1)
    report["users"] = len(users)
    return report
