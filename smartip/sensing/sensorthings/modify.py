"""PATCH (changes the properties it is given), PUT (replaces the entity) and DELETE.

PUT follows OData 4.0 §11.4.3, which SensorThings 1.1 adopts: the body is the whole entity, and a property it
leaves out gets its default, the value it would have had at creation (``description`` "", ``properties`` {}, …).
Properties required at creation are required by PUT too, and so are an Observation's ``phenomenonTime`` and a
HistoricalLocation's ``time`` (defaulting those to "now" would silently move the data). Navigation properties
(``Locations``, ``Datastreams``, …) are links, not properties: PUT leaves them as they are unless given.
``frost-sta-client`` updates with PUT and sends the whole entity it fetched.

Who may change what: a Thing and everything hanging from it (its Datastreams, Observations, Locations,
HistoricalLocations, Feature) by :func:`access.can_write_thing`; a shared Sensor or ObservedProperty only by
someone allowed on every Thing whose Datastreams use it.
"""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from smartip.core.errors import Conflict, Invalid
from smartip.sensing import ingest
from smartip.sensing.models import Observation, Sensor
from smartip.sensing.sensorthings.access import Actor, require_thing
from smartip.sensing.sensorthings.create import create_location, move_thing
from smartip.sensing.sensorthings.values import check_unit, json_object, number, text, time_instant
from smartip.sensing.sta_models import (
    StaDatastream,
    StaFeatureOfInterest,
    StaHistoricalLocation,
    StaLocation,
    StaObservedProperty,
    StaSensor,
    StaThing,
)

READ_ONLY = {"@iot.id", "@iot.selfLink", "id"}


def things_of(obj: Any) -> list[Sensor]:
    """The Things whose data ``obj`` is part of (for the permission check)."""
    if isinstance(obj, Sensor):
        return [obj]
    if isinstance(obj, StaDatastream | StaHistoricalLocation | StaFeatureOfInterest):
        return [obj.thing] if getattr(obj, "thing_id", None) else []
    if isinstance(obj, Observation):
        return [obj.sensor]
    if isinstance(obj, StaLocation):
        return list(obj.things.all())
    return [ds.thing for ds in obj.datastreams.select_related("thing")]


def require_owner(actor: Actor, obj: Any, where: str) -> None:
    for thing in things_of(obj):
        require_thing(actor, thing, where)


def assign(obj: Any, body: dict[str, Any], where: str, names: dict[str, str]) -> None:
    for sta, attr in names.items():
        if sta in body:
            if attr in ("properties", "location", "feature", "unit_of_measurement"):
                setattr(obj, attr, json_object(body[sta], f"{where}.{sta}", required=True))
            else:
                setattr(obj, attr, text(body, sta, where, required=True))


def update(type_name: str, obj: Any, body: Any, actor: Actor, *, replace: bool = False) -> None:
    """PATCH ``obj`` with ``body``, or with ``replace`` (PUT) make it what ``body`` describes."""
    where = type_name
    if not isinstance(body, dict):
        raise Invalid(f"{where}: a JSON object is expected", field=where)
    require_owner(actor, obj, where)
    if replace:
        body = replacement(type_name, body, where)
    UPDATERS[type_name](obj, body, actor, where)


def replacement(type_name: str, body: dict[str, Any], where: str) -> dict[str, Any]:
    """The PUT body completed with the default of every property it leaves out; 400 if a required one is."""
    for name in PUT_REQUIRED[type_name]:
        if body.get(name) is None:
            raise Invalid(
                f"{where}.{name}: required (PUT replaces the whole entity; PATCH changes only what it is given)",
                field=f"{where}.{name}",
            )
    return {**PUT_DEFAULTS[type_name], **body}


#: Properties a PUT must give: those required at creation, and the times that would otherwise become "now".
PUT_REQUIRED: dict[str, tuple[str, ...]] = {
    "Thing": ("name",),
    "Location": ("name", "location"),
    "HistoricalLocation": ("time",),
    "Datastream": ("name", "unitOfMeasurement"),
    "Sensor": ("name",),
    "ObservedProperty": ("name",),
    "Observation": ("result", "phenomenonTime"),
    "FeatureOfInterest": ("name", "feature"),
}
#: What each other writable property becomes when a PUT leaves it out: its default at creation (create.py).
PUT_DEFAULTS: dict[str, dict[str, Any]] = {
    "Thing": {"description": "", "properties": {}},
    "Location": {"description": "", "encodingType": "application/geo+json", "properties": {}},
    "HistoricalLocation": {},
    "Datastream": {
        "description": "",
        "observationType": StaDatastream._meta.get_field("observation_type").default,
        "properties": {},
    },
    "Sensor": {"description": "", "encodingType": "application/pdf", "metadata": "", "properties": {}},
    "ObservedProperty": {"description": "", "definition": "", "properties": {}},
    "Observation": {},
    "FeatureOfInterest": {"description": "", "encodingType": "application/geo+json", "properties": {}},
}


def update_thing(sensor: Sensor, body: dict[str, Any], actor: Actor, where: str) -> None:
    extra, _ = StaThing.objects.get_or_create(sensor=sensor)
    if "name" in body:
        sensor.name = text(body, "name", where, required=True)
        sensor.save(update_fields=["name"])
    if "properties" in body:
        props = json_object(body["properties"], f"{where}.properties", required=True)
        extra.properties = {k: v for k, v in props.items() if k not in ("city", "model", "exposure")}
    assign(extra, body, where, {"description": "description"})
    extra.save()
    if body.get("Locations"):
        locations = [
            create_location(b, actor, f"{where}.Locations[{i}]") for i, b in enumerate(body["Locations"])
        ]
        move_thing(sensor, locations, f"{where}.Locations")


def update_location(loc: StaLocation, body: dict[str, Any], actor: Actor, where: str) -> None:
    assign(
        loc,
        body,
        where,
        {
            "name": "name",
            "description": "description",
            "encodingType": "encoding_type",
            "properties": "properties",
            "location": "location",
        },
    )
    loc.save()
    if "location" in body:
        for thing in loc.things.select_related("city"):
            move_thing(thing, list(thing.sta_locations.all()), f"{where}.location")


def update_datastream(ds: StaDatastream, body: dict[str, Any], actor: Actor, where: str) -> None:
    for nav, current in (("Thing", ds.thing_id), ("ObservedProperty", ds.observed_property_id)):
        given = body.get(nav)
        if isinstance(given, dict) and given.get("@iot.id") not in (None, current):
            raise Invalid(
                f"{where}.{nav}: cannot move a Datastream's observations; create a new one",
                field=f"{where}.{nav}",
            )
    if isinstance(body.get("Sensor"), dict) and body["Sensor"].get("@iot.id") is not None:
        sensor = StaSensor.objects.filter(pk=body["Sensor"]["@iot.id"]).first()
        if sensor is None:
            raise Invalid(f"{where}.Sensor: no Sensor {body['Sensor']['@iot.id']}", field=f"{where}.Sensor")
        ds.sensor = sensor
    if "unitOfMeasurement" in body:
        check_unit(
            json_object(body["unitOfMeasurement"], where, required=True),
            ds.quantity,
            f"{where}.unitOfMeasurement",
        )
    assign(
        ds,
        body,
        where,
        {
            "name": "name",
            "description": "description",
            "observationType": "observation_type",
            "unitOfMeasurement": "unit_of_measurement",
            "properties": "properties",
        },
    )
    ds.properties.pop("quantity", None)
    ds.save()


def update_observation(obs: Observation, body: dict[str, Any], actor: Actor, where: str) -> None:
    """New value or time: re-checked and re-flagged like an ingested reading; the hourly means get recomputed."""
    sensor = Sensor.objects.select_related("city").get(pk=obs.sensor_id)
    old_time = obs.time
    if "result" in body:
        obs.value = number(body["result"], f"{where}.result")
    if "phenomenonTime" in body:
        obs.time = time_instant(body["phenomenonTime"], f"{where}.phenomenonTime", timezone.now())
    reading = ingest.Reading(obs.sensor_id, obs.quantity, obs.time, obs.value)
    ingest.check_values([reading], {sensor.pk: sensor}, field=where)
    obs.qc_flags = int(ingest.ingest_flags([reading], {sensor.pk: sensor})[0])
    try:
        with transaction.atomic():
            obs.save()
    except IntegrityError:
        raise Conflict(
            f"{where}.phenomenonTime: this Datastream already has an Observation then", field=where
        ) from None
    Sensor.mark_dirty(sensor.pk, min(old_time, obs.time), timezone.now())


def update_simple(names: dict[str, str]) -> Any:
    def updater(obj: Any, body: dict[str, Any], actor: Actor, where: str) -> None:
        assign(obj, body, where, names)
        obj.save()

    return updater


def update_observed_property(op: StaObservedProperty, body: dict[str, Any], actor: Actor, where: str) -> None:
    if "properties" in body:
        props = json_object(body["properties"], f"{where}.properties", required=True)
        if props.get("quantity", op.quantity) != op.quantity:
            raise Invalid(f"{where}.properties.quantity: cannot change what is measured", field=where)
    assign(
        op,
        body,
        where,
        {
            "name": "name",
            "definition": "definition",
            "description": "description",
            "properties": "properties",
        },
    )
    op.properties.pop("quantity", None)
    op.save()


def update_historical_location(
    hl: StaHistoricalLocation, body: dict[str, Any], actor: Actor, where: str
) -> None:
    if "time" in body:
        hl.time = time_instant(body["time"], f"{where}.time", timezone.now())
        hl.save()


UPDATERS = {
    "Thing": update_thing,
    "Location": update_location,
    "HistoricalLocation": update_historical_location,
    "Datastream": update_datastream,
    "Sensor": update_simple(
        {
            "name": "name",
            "description": "description",
            "encodingType": "encoding_type",
            "metadata": "metadata",
            "properties": "properties",
        }
    ),
    "ObservedProperty": update_observed_property,
    "Observation": update_observation,
    "FeatureOfInterest": update_simple(
        {
            "name": "name",
            "description": "description",
            "encodingType": "encoding_type",
            "feature": "feature",
            "properties": "properties",
        }
    ),
}


def delete(type_name: str, obj: Any, actor: Actor) -> None:
    """Deleting a Datastream (or the Sensor/ObservedProperty it uses) deletes its observations too."""
    require_owner(actor, obj, type_name)
    datastreams: list[StaDatastream] = []
    if isinstance(obj, StaDatastream):
        datastreams = [obj]
    elif isinstance(obj, StaSensor | StaObservedProperty):
        datastreams = list(obj.datastreams.all())
    for ds in datastreams:
        Observation.objects.filter(sensor_id=ds.thing_id, quantity=ds.quantity).delete()
    if isinstance(obj, Observation):
        Sensor.mark_dirty(obj.sensor_id, obj.time, timezone.now())
    obj.delete()
