"""The eight SensorThings entity types mapped onto our tables: properties, navigation, ORM paths, JSON output."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db.models import F, Model, OuterRef, QuerySet, Subquery

from smartip.sensing.models import Observation, Sensor
from smartip.sensing.sta_models import (
    StaDatastream,
    StaFeatureOfInterest,
    StaHistoricalLocation,
    StaLocation,
    StaObservedProperty,
    StaSensor,
)

Related = Callable[[Any], QuerySet[Any]]


@dataclass(frozen=True)
class Nav:
    """A navigation property: its target type, to-one or to-many, the target objects of one parent, and the
    ORM path of a to-one relation usable in ``$filter``/``$orderby`` (None: not filterable this way)."""

    target: str
    many: bool
    related: Related
    orm: str | None = None
    #: to-one only, for expanding a whole page in one query: the parent's key, the targets of many keys, and
    #: a target's key
    key: Callable[[Any], Any] | None = None
    batch: Callable[[set[Any]], QuerySet[Any]] | None = None
    target_key: Callable[[Any], Any] | None = None


def to_many(target: str, related: Related, batch: Callable[[set[Any]], QuerySet[Any]]) -> Nav:
    """A to-many navigation; ``batch`` gives the targets of many parents, each annotated with ``_parent``."""
    return Nav(
        target,
        True,
        related,
        key=lambda parent: parent.pk,
        batch=batch,
        target_key=lambda obj: obj._parent,
    )


def to_one(target: str, base: Callable[[], QuerySet[Any]], attr: str, orm: str | None) -> Nav:
    """A to-one navigation along the foreign key ``attr`` (e.g. ``thing_id``)."""
    return Nav(
        target,
        False,
        lambda parent: base().filter(pk=getattr(parent, attr)),
        orm,
        key=lambda parent: getattr(parent, attr),
        batch=lambda keys: base().filter(pk__in=keys),
        target_key=lambda obj: obj.pk,
    )


@dataclass(frozen=True)
class EntityType:
    name: str
    plural: str
    model: type[Model]
    base: Callable[[], QuerySet[Any]]
    fields: dict[str, str]  # STA property → ORM path (filter, orderby)
    render: Callable[[Any], dict[str, Any]]
    navs: dict[str, Nav] = field(default_factory=dict)


def iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -------------------------------------------------------------------------------------------------- renderers


def render_thing(sensor: Sensor) -> dict[str, Any]:
    extra = getattr(sensor, "sta_thing", None)
    return {
        "name": sensor.name,
        "description": extra.description if extra else "",
        "properties": {
            **(extra.properties if extra else {}),
            "city": sensor.city.slug,
            "model": sensor.model,
            "exposure": sensor.exposure,
        },
    }


def render_location(loc: StaLocation) -> dict[str, Any]:
    """A home-hosted Thing's location is shown on the public grid, never exactly (as on our maps)."""
    geometry = loc.location
    homes = [t for t in loc.things.all() if t.is_home_hosted]
    if homes:
        geometry = {"type": "Point", "coordinates": [homes[0].public_lon, homes[0].public_lat]}
    return {
        "name": loc.name,
        "description": loc.description,
        "encodingType": loc.encoding_type,
        "location": geometry,
        "properties": loc.properties,
    }


def render_historical_location(hl: StaHistoricalLocation) -> dict[str, Any]:
    return {"time": iso(hl.time)}


def render_datastream(ds: StaDatastream) -> dict[str, Any]:
    """phenomenonTime: the interval from the first to the last observation (null when there are none)."""
    first, last = getattr(ds, "first_time", None), getattr(ds, "last_time", None)
    return {
        "phenomenonTime": f"{iso(first)}/{iso(last)}" if first and last else None,
        "name": ds.name,
        "description": ds.description,
        "observationType": ds.observation_type,
        "unitOfMeasurement": ds.unit_of_measurement,
        "properties": {**ds.properties, "quantity": ds.quantity},
    }


def render_sensor(s: StaSensor) -> dict[str, Any]:
    return {
        "name": s.name,
        "description": s.description,
        "encodingType": s.encoding_type,
        "metadata": s.metadata,
        "properties": s.properties,
    }


def render_observed_property(op: StaObservedProperty) -> dict[str, Any]:
    return {
        "name": op.name,
        "definition": op.definition,
        "description": op.description,
        "properties": {**op.properties, "quantity": op.quantity},
    }


def render_observation(o: Observation) -> dict[str, Any]:
    """resultTime is not stored separately: it is the phenomenonTime. resultQuality carries the QC bit flags."""
    t = iso(o.time)
    return {
        "phenomenonTime": t,
        "resultTime": t,
        "result": o.value,
        "resultQuality": {"qcFlags": o.qc_flags},
    }


def render_feature(f: StaFeatureOfInterest) -> dict[str, Any]:
    """A home-hosted Thing's Point feature is shown at the public position too."""
    feature = f.feature
    thing = f.thing
    if (
        thing is not None
        and thing.is_home_hosted
        and isinstance(feature, dict)
        and feature.get("type") == "Point"
    ):
        feature = {"type": "Point", "coordinates": [thing.public_lon, thing.public_lat]}
    return {
        "name": f.name,
        "description": f.description,
        "encodingType": f.encoding_type,
        "feature": feature,
        "properties": f.properties,
    }


# ---------------------------------------------------------------------------------------------- base querysets


def things() -> QuerySet[Sensor]:
    """Things are the public (active, outdoor) sensors."""
    return Sensor.objects.public().select_related("city", "sta_thing")


def observations() -> QuerySet[Observation]:
    return Observation.objects.filter(sensor__is_active=True, sensor__exposure="outdoor")


def datastreams() -> QuerySet[StaDatastream]:
    """With the first and last observation times (two index look-ups per row: the idempotency key's index)."""
    of_stream = Observation.objects.filter(sensor_id=OuterRef("thing_id"), quantity=OuterRef("quantity"))
    return StaDatastream.objects.annotate(
        first_time=Subquery(of_stream.order_by("time").values("time")[:1]),
        last_time=Subquery(of_stream.order_by("-time").values("time")[:1]),
    )


def locations() -> QuerySet[StaLocation]:
    return StaLocation.objects.prefetch_related("things")


COMMON = {"@iot.id": "pk", "id": "pk"}
NAMED = {**COMMON, "name": "name", "description": "description", "properties": "properties"}

ENTITY_TYPES: dict[str, EntityType] = {
    e.plural: e
    for e in (
        EntityType(
            "Thing",
            "Things",
            Sensor,
            things,
            {
                **COMMON,
                "name": "name",
                "description": "sta_thing__description",
                "properties": "sta_thing__properties",
            },
            render_thing,
            {
                "Locations": to_many(
                    "Location",
                    lambda t: locations().filter(things=t),
                    lambda ks: locations().filter(things__in=ks).annotate(_parent=F("things")),
                ),
                "HistoricalLocations": to_many(
                    "HistoricalLocation",
                    lambda t: StaHistoricalLocation.objects.filter(thing=t),
                    lambda ks: StaHistoricalLocation.objects.filter(thing__in=ks).annotate(
                        _parent=F("thing_id")
                    ),
                ),
                "Datastreams": to_many(
                    "Datastream",
                    lambda t: datastreams().filter(thing=t),
                    lambda ks: datastreams().filter(thing__in=ks).annotate(_parent=F("thing_id")),
                ),
            },
        ),
        EntityType(
            "Location",
            "Locations",
            StaLocation,
            locations,
            {**NAMED, "encodingType": "encoding_type", "location": "location"},
            render_location,
            {
                "Things": to_many(
                    "Thing",
                    lambda loc: things().filter(sta_locations=loc),
                    lambda ks: things().filter(sta_locations__in=ks).annotate(_parent=F("sta_locations")),
                ),
                "HistoricalLocations": Nav(
                    "HistoricalLocation",
                    True,
                    lambda loc: StaHistoricalLocation.objects.filter(locations=loc),
                ),
            },
        ),
        EntityType(
            "HistoricalLocation",
            "HistoricalLocations",
            StaHistoricalLocation,
            lambda: StaHistoricalLocation.objects.all(),
            {**COMMON, "time": "time"},
            render_historical_location,
            {
                "Thing": to_one("Thing", things, "thing_id", "thing"),
                "Locations": to_many(
                    "Location",
                    lambda hl: locations().filter(historical_locations=hl),
                    lambda ks: (
                        locations()
                        .filter(historical_locations__in=ks)
                        .annotate(_parent=F("historical_locations"))
                    ),
                ),
            },
        ),
        EntityType(
            "Datastream",
            "Datastreams",
            StaDatastream,
            datastreams,
            {
                **NAMED,
                "observationType": "observation_type",
                "unitOfMeasurement": "unit_of_measurement",
                "quantity": "quantity",
            },
            render_datastream,
            {
                "Thing": to_one("Thing", things, "thing_id", "thing"),
                "Sensor": to_one("Sensor", StaSensor.objects.all, "sensor_id", "sensor"),
                "ObservedProperty": to_one(
                    "ObservedProperty",
                    StaObservedProperty.objects.all,
                    "observed_property_id",
                    "observed_property",
                ),
                "Observations": Nav(
                    "Observation",
                    True,
                    lambda ds: observations().filter(sensor_id=ds.thing_id, quantity=ds.quantity),
                ),
            },
        ),
        EntityType(
            "Sensor",
            "Sensors",
            StaSensor,
            lambda: StaSensor.objects.all(),
            {**NAMED, "encodingType": "encoding_type", "metadata": "metadata"},
            render_sensor,
            {
                "Datastreams": to_many(
                    "Datastream",
                    lambda s: datastreams().filter(sensor=s),
                    lambda ks: datastreams().filter(sensor__in=ks).annotate(_parent=F("sensor_id")),
                )
            },
        ),
        EntityType(
            "ObservedProperty",
            "ObservedProperties",
            StaObservedProperty,
            lambda: StaObservedProperty.objects.all(),
            {**NAMED, "definition": "definition", "quantity": "quantity"},
            render_observed_property,
            {
                "Datastreams": to_many(
                    "Datastream",
                    lambda op: datastreams().filter(observed_property=op),
                    lambda ks: (
                        datastreams()
                        .filter(observed_property__in=ks)
                        .annotate(_parent=F("observed_property_id"))
                    ),
                )
            },
        ),
        EntityType(
            "Observation",
            "Observations",
            Observation,
            observations,
            {
                **COMMON,
                "phenomenonTime": "time",
                "resultTime": "time",
                "result": "value",
                "resultQuality": "qc_flags",
                "resultQuality/qcFlags": "qc_flags",
            },
            render_observation,
            {
                "Datastream": Nav(
                    "Datastream",
                    False,
                    lambda o: datastreams().filter(thing_id=o.sensor_id, quantity=o.quantity),
                    key=lambda o: (o.sensor_id, o.quantity),
                    batch=lambda keys: datastreams().filter(
                        thing_id__in={k[0] for k in keys}, quantity__in={k[1] for k in keys}
                    ),
                    target_key=lambda ds: (ds.thing_id, ds.quantity),
                ),
                "FeatureOfInterest": Nav(
                    "FeatureOfInterest",
                    False,
                    lambda o: StaFeatureOfInterest.objects.select_related("thing").filter(
                        thing_id=o.sensor_id
                    ),
                    "sensor__sta_feature",
                    key=lambda o: o.sensor_id,
                    batch=lambda keys: StaFeatureOfInterest.objects.select_related("thing").filter(
                        thing_id__in=keys
                    ),
                    target_key=lambda f: f.thing_id,
                ),
            },
        ),
        EntityType(
            "FeatureOfInterest",
            "FeaturesOfInterest",
            StaFeatureOfInterest,
            lambda: StaFeatureOfInterest.objects.select_related("thing"),
            {**NAMED, "encodingType": "encoding_type", "feature": "feature"},
            render_feature,
            {
                "Observations": Nav(
                    "Observation",
                    True,
                    lambda f: (
                        observations().filter(sensor_id=f.thing_id) if f.thing_id else observations().none()
                    ),
                )
            },
        ),
    )
}
BY_NAME = {e.name: e for e in ENTITY_TYPES.values()}
