"""POST /CreateObservations (DataArray extension): many observations of several Datastreams in one request.

All rows are checked before any is stored (as our other ingest paths do): one bad row refuses the request
with a 400 naming it (``[0].dataArray[3].result``), instead of STA's per-row ``"error"`` entries.
"""

from typing import Any

from django.utils import timezone

from smartip.core.errors import Invalid
from smartip.sensing import ingest
from smartip.sensing.models import Sensor
from smartip.sensing.sensorthings.access import Actor, require_thing
from smartip.sensing.sensorthings.create import attach_feature, existing, reading_of, store_readings
from smartip.sensing.sta_models import StaDatastream

COMPONENTS = {
    "id",
    "phenomenonTime",
    "result",
    "resultTime",
    "validTime",
    "FeatureOfInterest/id",
    "resultQuality",
    "parameters",
}


def create_observations(body: Any, actor: Actor) -> list[int]:
    """The ids of the rows' Observations, in order (a row already stored gives the stored one's id)."""
    if not isinstance(body, list) or not body:
        raise Invalid("body: a non-empty list of {Datastream, components, dataArray}", field="body")
    now = timezone.now()
    readings: list[ingest.Reading] = []
    things: dict[int, Sensor] = {}
    features: list[tuple[Sensor, int, str]] = []
    for b, block in enumerate(body):
        where = f"[{b}]"
        if not isinstance(block, dict):
            raise Invalid(f"{where}: an object is expected", field=where)
        ds = existing(StaDatastream, block.get("Datastream"), f"{where}.Datastream")
        if ds is None:
            raise Invalid(
                f"{where}.Datastream: link an existing Datastream by @iot.id", field=f"{where}.Datastream"
            )
        if ds.thing_id not in things:
            things[ds.thing_id] = Sensor.objects.select_related("city").get(pk=ds.thing_id)
            require_thing(actor, things[ds.thing_id], f"{where}.Datastream")
        components = block.get("components")
        if not isinstance(components, list) or "result" not in components:
            raise Invalid(f"{where}.components: a list naming at least 'result'", field=f"{where}.components")
        unknown = [c for c in components if c not in COMPONENTS]
        if unknown:
            raise Invalid(f"{where}.components: {unknown[0]!r} is not supported", field=f"{where}.components")
        rows = block.get("dataArray")
        if not isinstance(rows, list):
            raise Invalid(f"{where}.dataArray: a list of rows", field=f"{where}.dataArray")
        for r, row in enumerate(rows):
            row_where = f"{where}.dataArray[{r}]"
            if not isinstance(row, list) or len(row) != len(components):
                raise Invalid(f"{row_where}: {len(components)} values expected", field=row_where)
            values = dict(zip(components, row, strict=True))
            readings.append(reading_of(ds, values, row_where, now))
            if "FeatureOfInterest/id" in values:
                features.append((things[ds.thing_id], values["FeatureOfInterest/id"], row_where))
    ingest.check_batch_size(len(readings), field="dataArray")
    for thing, feature_id, row_where in features:
        attach_feature(thing, {"@iot.id": feature_id}, actor, f"{row_where}.FeatureOfInterest")
    for thing in things.values():
        attach_feature(thing, None, actor, "FeatureOfInterest")
    return store_readings(readings, things, "dataArray")
