"""SensorThings rows for sensors registered elsewhere (the JSON API, firmware push, MQTT, imports).

Such a sensor has observations but no Location, Datastreams or Feature in the STA tables. :func:`publish_sensor`
creates them: its Location at the *public* (rounded) position, and one Datastream per quantity it has observed,
with a shared Sensor per device model and a shared ObservedProperty per quantity. Reads call
:func:`publish_pending` (one cheap query when nothing is pending); a quantity a published sensor starts
measuring later needs :func:`publish_sensor` again (the ingest may call it; see the report).
"""

from django.db import IntegrityError, transaction

from smartip.sensing.models import QUANTITIES, Observation, Sensor
from smartip.sensing.sta_models import (
    StaDatastream,
    StaFeatureOfInterest,
    StaHistoricalLocation,
    StaLocation,
    StaObservedProperty,
    StaSensor,
    StaThing,
)

UCUM = "http://unitsofmeasure.org/ucum.html"


def shared_sensor(model: str) -> StaSensor:
    found = StaSensor.objects.filter(name=model, properties__auto=True).first()
    return found or StaSensor.objects.create(
        name=model, description=f"{model} (registered by the platform)", properties={"auto": True}
    )


def shared_observed_property(code: str) -> StaObservedProperty:
    found = StaObservedProperty.objects.filter(quantity=code).order_by("pk").first()
    quantity = QUANTITIES[code]
    return found or StaObservedProperty.objects.create(name=quantity.name, definition=code, quantity=code)


def publish_sensor(sensor: Sensor) -> list[StaDatastream]:
    """Create what is missing for ``sensor``; returns the Datastreams created."""
    StaThing.objects.get_or_create(sensor=sensor)
    point = {"type": "Point", "coordinates": [sensor.public_lon, sensor.public_lat]}
    if not sensor.sta_locations.exists():
        location = StaLocation.objects.create(name=sensor.name, description="public position", location=point)
        location.things.add(sensor)
        StaHistoricalLocation.objects.create(thing=sensor, time=sensor.created_at).locations.add(location)
    if not StaFeatureOfInterest.objects.filter(thing=sensor).exists():
        StaFeatureOfInterest.objects.create(
            name=sensor.name, description=f"Where {sensor.name} measures", feature=point, thing=sensor
        )
    known = set(StaDatastream.objects.filter(thing=sensor).values_list("quantity", flat=True))
    observed = set(Observation.objects.filter(sensor=sensor).values_list("quantity", flat=True).distinct())
    created = []
    for code in sorted(observed - known):
        if code not in QUANTITIES:
            continue
        quantity = QUANTITIES[code]
        created.append(
            StaDatastream.objects.create(
                thing=sensor,
                quantity=code,
                sensor=shared_sensor(sensor.model),
                observed_property=shared_observed_property(code),
                name=f"{quantity.name} of {sensor.name}",
                unit_of_measurement={"name": quantity.unit, "symbol": quantity.unit, "definition": UCUM},
            )
        )
    return created


def publish_pending(now_limit: int = 100) -> int:
    """Publish up to ``now_limit`` public sensors that have no STA rows yet; how many were published."""
    pending = list(Sensor.objects.public().filter(sta_thing__isnull=True)[:now_limit])
    for sensor in pending:
        try:
            with transaction.atomic():
                publish_sensor(sensor)
        except IntegrityError:  # another request published it at the same moment
            continue
    return len(pending)
