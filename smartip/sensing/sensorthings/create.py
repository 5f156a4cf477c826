"""POST: create an entity, with deep insert of related entities and links to existing ones by ``@iot.id``.

Observations are stored through ``sensing.ingest`` (range checks, QC flags, idempotency key), so a reading sent
twice is stored once and the second POST answers with the first one's id.
"""

from typing import Any

from django.utils import timezone

from smartip.cities.models import City
from smartip.core.errors import Conflict, Invalid
from smartip.sensing import ingest, services
from smartip.sensing.models import QUANTITIES, Observation, Sensor, SensorModel
from smartip.sensing.sensorthings.access import Actor, require_thing
from smartip.sensing.sensorthings.values import (
    check_unit,
    geojson_point,
    json_object,
    number,
    quantity_of,
    text,
    time_instant,
)
from smartip.sensing.sta_models import (
    StaDatastream,
    StaFeatureOfInterest,
    StaHistoricalLocation,
    StaLocation,
    StaObservedProperty,
    StaSensor,
    StaThing,
)


def ref_id(value: Any) -> int | None:
    """The id of ``{"@iot.id": n}`` (a link to an existing entity), else None (a deep insert)."""
    if isinstance(value, dict) and "@iot.id" in value:
        raw = value["@iot.id"]
        if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit():
            raise Invalid(f"@iot.id {raw!r} is not an id", field="@iot.id")
        return int(raw)
    return None


def existing(model: type[Any], value: Any, where: str) -> Any | None:
    pk = ref_id(value)
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise Invalid(f"{where}: there is no {where.rsplit('.', 1)[-1]} with @iot.id {pk}", field=where)
    return obj


def entity_body(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(f"{where}: an object is expected", field=where)
    return value


# ----------------------------------------------------------------------------------------------- per type


def create_location(body: Any, actor: Actor, where: str = "Location") -> StaLocation:
    loc = existing(StaLocation, body, where)
    if loc is not None:
        return loc
    body = entity_body(body, where)
    geometry = json_object(body.get("location"), f"{where}.location", required=True)
    if geometry.get("type") not in ("Point", "Polygon", "LineString", "MultiPoint", "Feature"):
        raise Invalid(f"{where}.location: a GeoJSON geometry is expected", field=f"{where}.location")
    loc = StaLocation.objects.create(
        name=text(body, "name", where, required=True),
        description=text(body, "description", where),
        encoding_type=text(body, "encodingType", where) or "application/geo+json",
        location=geometry,
        properties=json_object(body.get("properties"), f"{where}.properties"),
    )
    for i, thing_ref in enumerate(body.get("Things") or []):
        sensor = existing(Sensor, thing_ref, f"{where}.Things[{i}]")
        if sensor is None:
            raise Invalid(f"{where}.Things[{i}]: link an existing Thing by @iot.id", field=f"{where}.Things")
        require_thing(actor, sensor, f"{where}.Things[{i}]")
        move_thing(sensor, [loc], where)
    return loc


def move_thing(sensor: Sensor, locations: list[StaLocation], where: str) -> None:
    """The Thing's current Locations become ``locations`` (its position: the first Point), with history."""
    for loc in locations:
        point = geojson_point(loc.location)
        if point is not None:
            lat, lon = point
            if not sensor.city.contains(lat, lon):
                raise Invalid(f"{where}: ({lat}, {lon}) is outside {sensor.city.name}", field=where)
            sensor.set_position(lat, lon)
            sensor.save()
            break
    sensor.sta_locations.set(locations)
    history = StaHistoricalLocation.objects.create(thing=sensor, time=timezone.now())
    history.locations.set(locations)


def city_at(lat: float, lon: float, where: str) -> City:
    for city in City.objects.all():
        if city.contains(lat, lon):
            return city
    raise Invalid(f"{where}: ({lat}, {lon}) lies in no city of this platform", field=where)


def create_thing(body: Any, actor: Actor, where: str = "Thing") -> Sensor:
    sensor = existing(Sensor, body, where)
    if sensor is not None:
        return sensor
    body = entity_body(body, where)
    props = json_object(body.get("properties"), f"{where}.properties")
    loc_bodies = body.get("Locations") or []
    if not isinstance(loc_bodies, list) or not loc_bodies:
        raise Invalid(f"{where}.Locations: a Thing needs its Location (where it measures)", field=where)
    locations = [create_location(b, actor, f"{where}.Locations[{i}]") for i, b in enumerate(loc_bodies)]
    point = next((p for loc in locations if (p := geojson_point(loc.location))), None)
    if point is None:
        raise Invalid(f"{where}.Locations: a GeoJSON Point is needed", field=f"{where}.Locations")
    city = (
        City.objects.filter(slug=props["city"]).first() if isinstance(props.get("city"), str) else None
    ) or city_at(*point, f"{where}.Locations")
    sensor, _key = services.register_sensor_as(
        actor.user,
        city=city,
        name=text(body, "name", where, required=True),
        model=thing_model(body, props, where),
        lat=point[0],
        lon=point[1],
        exposure=props.get("exposure", "outdoor"),
    )
    StaThing.objects.create(
        sensor=sensor,
        description=text(body, "description", where),
        properties={k: v for k, v in props.items() if k not in ("city", "model", "exposure")},
    )
    move_thing(sensor, locations, f"{where}.Locations")
    for i, ds in enumerate(body.get("Datastreams") or []):
        create_datastream(
            {**entity_body(ds, where), "Thing": {"@iot.id": sensor.pk}}, actor, f"{where}.Datastreams[{i}]"
        )
    return sensor


def thing_model(body: dict[str, Any], props: dict[str, Any], where: str) -> str:
    """Our sensor model: ``properties.model``, else the name of a Datastream's Sensor (e.g. ``SDS011``)."""
    names = [props.get("model")] + [
        (ds.get("Sensor") or {}).get("name") for ds in body.get("Datastreams") or [] if isinstance(ds, dict)
    ]
    by_lower = {m.lower(): m for m in SensorModel.values}
    for name in names:
        if isinstance(name, str) and name.lower() in by_lower:
            return by_lower[name.lower()]
    raise Invalid(
        f"{where}.properties.model: which device? one of {', '.join(SensorModel.values)}",
        field=f"{where}.properties.model",
    )


def create_sensor(body: Any, actor: Actor, where: str = "Sensor") -> StaSensor:
    found = existing(StaSensor, body, where)
    if found is not None:
        return found
    body = entity_body(body, where)
    return StaSensor.objects.create(
        name=text(body, "name", where, required=True),
        description=text(body, "description", where),
        encoding_type=text(body, "encodingType", where) or "application/pdf",
        metadata=text(body, "metadata", where),
        properties=json_object(body.get("properties"), f"{where}.properties"),
    )


def create_observed_property(body: Any, actor: Actor, where: str = "ObservedProperty") -> StaObservedProperty:
    found = existing(StaObservedProperty, body, where)
    if found is not None:
        return found
    body = entity_body(body, where)
    props = json_object(body.get("properties"), f"{where}.properties")
    name = text(body, "name", where, required=True)
    definition = text(body, "definition", where)
    return StaObservedProperty.objects.create(
        name=name,
        definition=definition,
        description=text(body, "description", where),
        properties={k: v for k, v in props.items() if k != "quantity"},
        quantity=quantity_of(props.get("quantity"), name, definition, where),
    )


def create_datastream(body: Any, actor: Actor, where: str = "Datastream") -> StaDatastream:
    found = existing(StaDatastream, body, where)
    if found is not None:
        return found
    body = entity_body(body, where)
    if "Thing" not in body:
        raise Invalid(f"{where}.Thing: a Datastream belongs to a Thing", field=f"{where}.Thing")
    thing = create_thing(body["Thing"], actor, f"{where}.Thing")
    require_thing(actor, thing, f"{where}.Thing")
    for part in ("Sensor", "ObservedProperty"):
        if part not in body:
            raise Invalid(f"{where}.{part}: required", field=f"{where}.{part}")
    observed = create_observed_property(body["ObservedProperty"], actor, f"{where}.ObservedProperty")
    if StaDatastream.objects.filter(thing=thing, quantity=observed.quantity).exists():
        raise Conflict(
            f"{where}: Thing {thing.pk} already has a Datastream of {observed.quantity}", field=where
        )
    unit = json_object(body.get("unitOfMeasurement"), f"{where}.unitOfMeasurement", required=True)
    check_unit(unit, observed.quantity, f"{where}.unitOfMeasurement")
    ds = StaDatastream.objects.create(
        thing=thing,
        quantity=observed.quantity,
        sensor=create_sensor(body["Sensor"], actor, f"{where}.Sensor"),
        observed_property=observed,
        name=text(body, "name", where, required=True),
        description=text(body, "description", where),
        observation_type=text(body, "observationType", where)
        or StaDatastream._meta.get_field("observation_type").default,
        unit_of_measurement=unit,
        properties={k: v for k, v in json_object(body.get("properties"), where).items() if k != "quantity"},
    )
    for i, obs in enumerate(body.get("Observations") or []):
        create_observation(
            {**entity_body(obs, where), "Datastream": {"@iot.id": ds.pk}}, actor, f"{where}.Observations[{i}]"
        )
    return ds


def create_feature(body: Any, actor: Actor, where: str = "FeatureOfInterest") -> StaFeatureOfInterest:
    found = existing(StaFeatureOfInterest, body, where)
    if found is not None:
        return found
    body = entity_body(body, where)
    return StaFeatureOfInterest.objects.create(
        name=text(body, "name", where, required=True),
        description=text(body, "description", where),
        encoding_type=text(body, "encodingType", where) or "application/geo+json",
        feature=json_object(body.get("feature"), f"{where}.feature", required=True),
        properties=json_object(body.get("properties"), f"{where}.properties"),
    )


def attach_feature(thing: Sensor, body: Any, actor: Actor, where: str) -> None:
    """One Feature of Interest per Thing: the given one, else one made from the Thing's (public) position."""
    current = StaFeatureOfInterest.objects.filter(thing=thing).first()
    if body is None:
        if current is None:
            StaFeatureOfInterest.objects.create(
                name=thing.name,
                description=f"Where {thing.name} measures",
                feature={"type": "Point", "coordinates": [thing.public_lon, thing.public_lat]},
                thing=thing,
            )
        return
    feature = create_feature(body, actor, where)
    if current is not None and current.pk != feature.pk:
        raise Invalid(
            f"{where}: Thing {thing.pk} already observes FeatureOfInterest {current.pk} (one per Thing here)",
            field=where,
        )
    if feature.thing_id not in (None, thing.pk):
        raise Invalid(f"{where}: FeatureOfInterest {feature.pk} belongs to another Thing", field=where)
    if feature.thing_id is None:
        feature.thing = thing
        feature.save(update_fields=["thing"])


def reading_of(ds: StaDatastream, body: dict[str, Any], where: str, now: Any) -> ingest.Reading:
    if "result" not in body:
        raise Invalid(f"{where}.result: required", field=f"{where}.result")
    value = number(body["result"], f"{where}.result")
    t = time_instant(body.get("phenomenonTime"), f"{where}.phenomenonTime", now)
    return ingest.Reading(ds.thing_id, ds.quantity, t, value)


def store_readings(readings: list[ingest.Reading], things: dict[int, Sensor], where: str) -> list[int]:
    """Through the ingest (checks, QC flags, idempotency); the ids of the stored (or already stored) rows."""
    ingest.check_values(readings, things, field=where)
    ingest.store(readings, things)
    keys = {(r.sensor_id, r.quantity, r.time) for r in readings}
    rows = Observation.objects.filter(
        sensor_id__in={r.sensor_id for r in readings},
        quantity__in={r.quantity for r in readings},
        time__in={r.time for r in readings},
    ).values_list("sensor_id", "quantity", "time", "pk")
    ids = {(s, q, t): pk for s, q, t, pk in rows if (s, q, t) in keys}
    return [ids[(r.sensor_id, r.quantity, r.time)] for r in readings]


def create_observation(body: Any, actor: Actor, where: str = "Observation") -> Observation:
    found = existing(Observation, body, where)
    if found is not None:
        return found
    body = entity_body(body, where)
    if "Datastream" not in body:
        raise Invalid(
            f"{where}.Datastream: an Observation belongs to a Datastream", field=f"{where}.Datastream"
        )
    ds = create_datastream(body["Datastream"], actor, f"{where}.Datastream")
    thing = Sensor.objects.select_related("city").get(pk=ds.thing_id)
    require_thing(actor, thing, f"{where}.Datastream")
    reading = reading_of(ds, body, where, timezone.now())
    attach_feature(thing, body.get("FeatureOfInterest"), actor, f"{where}.FeatureOfInterest")
    [pk] = store_readings([reading], {thing.pk: thing}, where)
    return Observation.objects.get(pk=pk)


def create_historical_location(
    body: Any, actor: Actor, where: str = "HistoricalLocation"
) -> StaHistoricalLocation:
    found = existing(StaHistoricalLocation, body, where)
    if found is not None:
        return found
    body = entity_body(body, where)
    thing = existing(Sensor, body.get("Thing"), f"{where}.Thing")
    if thing is None:
        raise Invalid(f"{where}.Thing: link an existing Thing by @iot.id", field=f"{where}.Thing")
    require_thing(actor, thing, f"{where}.Thing")
    hl = StaHistoricalLocation.objects.create(
        thing=thing, time=time_instant(body.get("time"), f"{where}.time", timezone.now())
    )
    hl.locations.set(
        [
            create_location(b, actor, f"{where}.Locations[{i}]")
            for i, b in enumerate(body.get("Locations") or [])
        ]
    )
    return hl


CREATORS = {
    "Thing": create_thing,
    "Location": create_location,
    "HistoricalLocation": create_historical_location,
    "Datastream": create_datastream,
    "Sensor": create_sensor,
    "ObservedProperty": create_observed_property,
    "Observation": create_observation,
    "FeatureOfInterest": create_feature,
}
QUANTITY_CODES = tuple(QUANTITIES)
