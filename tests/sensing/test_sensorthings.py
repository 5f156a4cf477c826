"""SensorThings API 1.1 driven end to end by the unmodified reference client ``frost-sta-client`` against a live
server: deep insert, one observation, a dataArray, queries with $filter/$orderby/$top/$count and nextLink paging,
update (PUT and JSON-Patch) and delete. Plain HTTP checks cover what the client does not exercise.
"""

from datetime import UTC, datetime, timedelta

import pytest
import requests

frost = pytest.importorskip("frost_sta_client")

from smartip.accounts.models import ApiKey  # noqa: E402
from smartip.sensing.models import Observation, Sensor  # noqa: E402
from tests.sensing.conftest import quick_user  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def base(live_server):
    return f"{live_server.url}/sensorthings/v1.1"


@pytest.fixture
def citizen(manchester):
    user = quick_user("sta_citizen", manchester, "citizen")
    _, raw = ApiKey.generate(user=user, name="sta", kind=ApiKey.Kind.DEVELOPER)
    return user, raw


@pytest.fixture
def service(base, citizen):
    return frost.SensorThingsService(
        base, auth_handler=frost.AuthHandler(username="apikey", password=citizen[1])
    )


def centre(city):
    return (city.min_lat + city.max_lat) / 2, (city.min_lon + city.max_lon) / 2


def deep_thing(manchester, name="Balcony 1"):
    lat, lon = centre(manchester)
    thing = frost.Thing(name=name, description="PM sensor on a balcony", properties={"floor": 2})
    thing.locations = [
        frost.Location(
            name="balcony",
            description="home",
            encoding_type="application/geo+json",
            location={"type": "Point", "coordinates": [lon, lat]},
        )
    ]
    pm25 = frost.Datastream(
        name="PM2.5",
        description="fine dust",
        observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
        unit_of_measurement=frost.UnitOfMeasurement(
            name="microgram per cubic metre", symbol="ug/m3", definition="http://unitsofmeasure.org/ucum.html"
        ),
        sensor=frost.Sensor(
            name="SDS011",
            description="Nova SDS011",
            encoding_type="application/pdf",
            metadata="https://example.org/sds011.pdf",
        ),
        observed_property=frost.ObservedProperty(name="PM2.5", definition="pm25", description="PM2.5 mass"),
    )
    pm10 = frost.Datastream(
        name="PM10",
        description="coarse dust",
        observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
        unit_of_measurement=frost.UnitOfMeasurement(
            name="microgram per cubic metre", symbol="µg/m³", definition="http://unitsofmeasure.org/ucum.html"
        ),
        sensor=frost.Sensor(
            name="SDS011",
            description="Nova SDS011",
            encoding_type="application/pdf",
            metadata="https://example.org/sds011.pdf",
        ),
        observed_property=frost.ObservedProperty(name="PM10", definition="pm10", description="PM10 mass"),
    )
    thing.datastreams = [pm25, pm10]
    return thing


def test_deep_insert_observations_queries_update_delete(service, base, manchester, citizen):
    thing = deep_thing(manchester)
    service.create(thing)
    assert isinstance(thing.id, int)  # parsed by the client from our Location header
    sensor = Sensor.objects.get(pk=thing.id)
    assert sensor.owner == citizen[0] and sensor.model == "SDS011" and sensor.city == manchester

    fetched = service.things().find(thing.id)
    assert fetched.name == "Balcony 1" and fetched.properties["floor"] == 2
    datastreams = list(
        service.datastreams().query().filter(f"Thing/@iot.id eq {thing.id}").orderby("name", "ASC").list()
    )
    assert [d.name for d in datastreams] == ["PM10", "PM2.5"]
    pm25 = datastreams[1]

    # one observation, with its Feature of Interest (deep insert)
    obs = frost.Observation(
        result=12.5,
        phenomenon_time=T0.isoformat(),
        datastream=pm25,
        feature_of_interest=frost.FeatureOfInterest(
            name="balcony air",
            description="air at the balcony",
            encoding_type="application/geo+json",
            feature={"type": "Point", "coordinates": [centre(manchester)[1], centre(manchester)[0]]},
        ),
    )
    service.create(obs)
    stored = Observation.objects.get(pk=obs.id)
    assert (stored.sensor_id, stored.quantity, stored.value) == (thing.id, "pm25", 12.5)

    # the same reading again is stored once (idempotency key), answered with the same id
    again = frost.Observation(result=12.5, phenomenon_time=T0.isoformat(), datastream=pm25)
    service.create(again)
    assert again.id == obs.id and Observation.objects.filter(sensor=sensor).count() == 1

    # a dataArray of 250 readings
    dav = frost.DataArrayValue()
    dav.datastream = pm25
    dav.components = {frost.DataArrayValue.Property.PHENOMENON_TIME, frost.DataArrayValue.Property.RESULT}
    for i in range(1, 251):
        dav.add_observation(
            frost.Observation(
                phenomenon_time=(T0 + timedelta(minutes=i)).isoformat(), result=float(i % 40), datastream=pm25
            )
        )
    doc = frost.DataArrayDocument()
    doc.add_data_array_value(dav)
    created = service.observations().create(doc)
    assert len(created) == 250 and all("/Observations(" in o.self_link for o in created)
    assert Observation.objects.filter(sensor=sensor, quantity="pm25").count() == 251

    # $filter + $orderby + $top + $count, then nextLink paging through everything the filter selects
    query = (
        service.observations()
        .query()
        .filter(
            f"Datastream/@iot.id eq {pm25.id} and result ge 30 and phenomenonTime gt {T0.isoformat().replace('+00:00', 'Z')}"
        )
        .orderby("result", "DESC")
        .top(7)
        .count()
    )
    page = query.list()
    expected = Observation.objects.filter(sensor=sensor, quantity="pm25", value__gte=30, time__gt=T0)
    assert page.count == expected.count() and len(page.entities) == 7
    everything = list(page)
    assert len(everything) == expected.count()
    results = [o.result for o in everything]
    assert results == sorted(results, reverse=True)

    navigation = list(service.datastreams().find(pm25.id).get_observations().query().top(100).list())
    assert len(navigation) == 251

    # update with PUT (frost-sta-client's update) and with JSON-Patch
    fetched.name = "Balcony one"
    fetched.description = "moved indoors? no, renamed"
    service.update(fetched)
    assert Sensor.objects.get(pk=thing.id).name == "Balcony one"
    service.patch(fetched, [{"op": "replace", "path": "/description", "value": "patched"}])
    assert service.things().find(thing.id).description == "patched"

    first = service.observations().find(obs.id)
    first.result = 13.0
    service.update(first)
    assert Observation.objects.get(pk=obs.id).value == 13.0

    # delete an observation, then the Datastream (with its observations), then the Thing
    service.delete(first)
    assert not Observation.objects.filter(pk=obs.id).exists()
    service.delete(pm25)
    assert not Observation.objects.filter(sensor=sensor, quantity="pm25").exists()
    service.delete(fetched)
    assert not Sensor.objects.filter(pk=thing.id).exists()


def test_reads_are_public_writes_need_a_key(service, base, manchester, citizen):
    thing = deep_thing(manchester)
    service.create(thing)
    assert requests.get(f"{base}/Things({thing.id})").status_code == 200
    anonymous = requests.post(f"{base}/Things", json={"name": "x"})
    assert anonymous.status_code == 401 and anonymous.json()["type"] == "error"
    wrong = requests.post(f"{base}/Things", json={"name": "x"}, headers={"X-API-Key": "sk_wrong"})
    assert wrong.status_code == 401
    other = quick_user("sta_other", manchester, "citizen")
    _, raw = ApiKey.generate(user=other, name="other")
    refused = requests.patch(f"{base}/Things({thing.id})", json={"name": "mine"}, headers={"X-API-Key": raw})
    assert refused.status_code == 403
    assert Sensor.objects.get(pk=thing.id).name == "Balcony 1"
