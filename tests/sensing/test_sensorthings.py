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


def client_get_json(url):
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    return response.json()


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

    interval = client_get_json(f"{base}/Datastreams({pm25.id})")["phenomenonTime"]
    assert (
        interval
        == f"{T0.isoformat().replace('+00:00', 'Z')}/{(T0 + timedelta(minutes=250)).isoformat().replace('+00:00', 'Z')}"
    )
    navigation = list(service.datastreams().find(pm25.id).get_observations().query().top(100).list())
    assert len(navigation) == 251

    # update with PUT (frost-sta-client's update) and with JSON-Patch
    fetched.name = "Balcony one"
    fetched.description = "moved indoors? no, renamed"
    service.update(fetched)
    assert Sensor.objects.get(pk=thing.id).name == "Balcony one"
    # PUT replaces the entity; the client sends the whole entity it fetched, so nothing else is lost
    assert service.things().find(thing.id).properties["floor"] == 2
    service.patch(fetched, [{"op": "replace", "path": "/description", "value": "patched"}])
    assert service.things().find(thing.id).description == "patched"

    pm10 = service.datastreams().find(datastreams[0].id)
    pm10.name = "PM10 (renamed)"
    service.update(pm10)
    assert service.datastreams().find(pm10.id).name == "PM10 (renamed)"
    [location] = list(service.things().find(thing.id).get_locations().query().list())
    lat, lon = centre(manchester)
    location.location = {"type": "Point", "coordinates": [lon + 0.02, lat + 0.02]}
    service.update(location)
    assert abs(Sensor.objects.get(pk=thing.id).lat - (lat + 0.02)) < 1e-9  # the Thing moved with its Location

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


# ------------------------------------------------------------------ plain HTTP (Django test client, no live server)

ROOT = "/sensorthings/v1.1"


@pytest.fixture
def balcony(manchester):
    """A Thing made through the STA service layer: two Datastreams, 30 PM2.5 and 30 PM10 observations."""
    from smartip.sensing.sensorthings.access import Actor
    from smartip.sensing.sensorthings.create import create_thing

    user = quick_user("http_citizen", manchester, "citizen")
    lat, lon = centre(manchester)

    def stream(name, code):
        return {
            "name": name,
            "unitOfMeasurement": {"symbol": "ug/m3"},
            "Sensor": {"name": "SDS011"},
            "ObservedProperty": {"name": name, "definition": code},
            "Observations": [
                {"result": float(i), "phenomenonTime": (T0 + timedelta(minutes=5 * i)).isoformat()}
                for i in range(30)
            ],
        }

    thing = create_thing(
        {
            "name": "Balcony",
            "properties": {"floor": "2"},
            "Locations": [
                {"name": "home", "location": {"type": "Point", "coordinates": [lon + 1e-4, lat + 1e-4]}}
            ],
            "Datastreams": [stream("PM2.5", "pm25"), stream("PM10", "pm10")],
        },
        Actor(user),
    )
    _, raw = ApiKey.generate(user=user, name="http")
    return thing, user, raw


@pytest.mark.django_db
def test_service_root_lists_sets_and_conformance(client):
    body = client.get(f"{ROOT}/").json()
    assert {v["name"] for v in body["value"]} == {
        "Things",
        "Locations",
        "HistoricalLocations",
        "Datastreams",
        "Sensors",
        "ObservedProperties",
        "Observations",
        "FeaturesOfInterest",
    }
    assert all(v["url"].startswith("http://testserver/sensorthings/v1.1/") for v in body["value"])
    conformance = body["serverSettings"]["conformance"]
    assert "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete" in conformance
    assert "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array" in conformance


@pytest.mark.django_db
def test_expand_select_navigation_and_properties(client, balcony):
    thing = balcony[0]
    url = f"{ROOT}/Things({thing.pk})?$expand=Datastreams($select=name;$top=1;$orderby=name;$expand=ObservedProperty),Locations"
    body = client.get(url).json()
    assert body["@iot.selfLink"] == f"http://testserver{ROOT}/Things({thing.pk})"
    assert body["Datastreams@iot.navigationLink"].endswith(f"/Things({thing.pk})/Datastreams")
    [ds] = body["Datastreams"]
    assert (
        ds["name"] == "PM10"
        and "description" not in ds
        and ds["ObservedProperty"]["properties"]["quantity"] == "pm10"
    )
    assert "Datastreams@iot.nextLink" in body and len(body["Locations"]) == 1

    selected = client.get(f"{ROOT}/Observations?$select=result&$top=3&$orderby=result desc").json()
    assert selected["value"] == [{"result": 29.0}, {"result": 29.0}, {"result": 28.0}]
    assert client.get(f"{ROOT}/Things({thing.pk})/name").json() == {"name": "Balcony"}
    assert client.get(f"{ROOT}/Things({thing.pk})/name/$value").content == b"Balcony"
    refs = client.get(f"{ROOT}/Things({thing.pk})/Datastreams/$ref").json()["value"]
    assert len(refs) == 2 and all(
        set(r) == {"@iot.selfLink"} and "/Datastreams(" in r["@iot.selfLink"] for r in refs
    )
    floors = client.get(f"{ROOT}/Things?$filter=properties/floor eq '2'&$select=name").json()["value"]
    assert floors == [{"name": "Balcony"}]
    assert client.get(f"{ROOT}/Things?$filter=properties/floor eq '3'").json()["value"] == []

    obs = Observation.objects.filter(sensor=thing, quantity="pm10").order_by("time").first()
    ds = client.get(f"{ROOT}/Observations({obs.pk})/Datastream").json()
    assert ds["name"] == "PM10"
    feature = client.get(f"{ROOT}/Observations({obs.pk})/FeatureOfInterest").json()
    assert feature["feature"]["type"] == "Point"
    nested = client.get(f"{ROOT}/Datastreams({ds['@iot.id']})/Observations({obs.pk})").json()
    assert nested["result"] == obs.value
    assert client.get(f"{ROOT}/Nothing").status_code == 404
    assert client.options(f"{ROOT}/Things").status_code == 405
    assert client.get(f"{ROOT}/Things(999999)").status_code == 404


@pytest.mark.django_db
def test_paging_and_count(client, balcony):
    first = client.get(f"{ROOT}/Observations?$top=25&$count=true&$filter=result lt 20").json()
    assert first["@iot.count"] == 40 and len(first["value"]) == 25
    second = client.get(first["@iot.nextLink"].removeprefix("http://testserver")).json()
    assert len(second["value"]) == 15 and "@iot.nextLink" not in second
    ids = [o["@iot.id"] for o in first["value"] + second["value"]]
    assert len(set(ids)) == 40
    only_count = client.get(f"{ROOT}/Observations?$top=0&$count=true").json()
    assert only_count == {"@iot.count": 60, "value": []}  # no nextLink: a client would loop forever


def queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_list_query_count_does_not_grow_with_the_page(client, balcony):
    for entity_set in ("Observations", "Things", "Datastreams", "Locations"):
        small = queries(client, f"{ROOT}/{entity_set}?$top=1")
        assert small <= 6 and queries(client, f"{ROOT}/{entity_set}?$top=60") == small, entity_set
    expand = "$expand=Datastream($select=name;$expand=Thing,ObservedProperty),FeatureOfInterest"
    # nested expansions cost a query per distinct Datastream, not per Observation: both pages hold both
    small = queries(client, f"{ROOT}/Observations?$top=35&{expand}")
    assert queries(client, f"{ROOT}/Observations?$top=60&{expand}") == small
    page = client.get(f"{ROOT}/Observations?$top=60&$orderby=phenomenonTime&{expand}").json()["value"]
    assert {o["Datastream"]["name"] for o in page} == {"PM2.5", "PM10"}
    assert all(o["Datastream"]["Thing"]["name"] == "Balcony" and o["FeatureOfInterest"] for o in page)


@pytest.mark.django_db
def test_result_format_data_array(client, balcony):
    ds = balcony[0].sta_datastreams.get(quantity="pm25")
    body = client.get(
        f"{ROOT}/Datastreams({ds.pk})/Observations?$resultFormat=dataArray&$select=phenomenonTime,result&$top=5&$orderby=phenomenonTime"
    ).json()
    [block] = body["value"]
    assert block["components"] == ["phenomenonTime", "result"]
    assert block["dataArray"][0] == ["2026-11-01T06:00:00Z", 0.0] and len(block["dataArray"]) == 5
    assert block["Datastream@iot.navigationLink"].endswith(f"/Datastreams({ds.pk})")


@pytest.mark.django_db
def test_home_location_is_shown_rounded_and_moves_write_history(client, balcony, manchester):
    thing, _, raw = balcony
    sensor = Sensor.objects.get(pk=thing.pk)
    [loc] = client.get(f"{ROOT}/Things({thing.pk})/Locations").json()["value"]
    assert loc["location"]["coordinates"] == [sensor.public_lon, sensor.public_lat]
    assert (sensor.lon, sensor.lat) != (sensor.public_lon, sensor.public_lat)

    lat, lon = centre(manchester)
    moved = client.patch(
        f"{ROOT}/Things({thing.pk})",
        {
            "Locations": [
                {"name": "new", "location": {"type": "Point", "coordinates": [lon - 0.01, lat - 0.01]}}
            ]
        },
        content_type="application/json",
        headers={"X-API-Key": raw},
    )
    assert moved.status_code == 200
    sensor.refresh_from_db()
    assert abs(sensor.lat - (lat - 0.01)) < 1e-9
    feature = {"name": "f", "feature": {"type": "Point", "coordinates": [sensor.lon, sensor.lat]}}
    posted = client.post(
        f"{ROOT}/Observations",
        {
            "result": 1.0,
            "Datastream": {"@iot.id": sensor.sta_datastreams.first().pk},
            "FeatureOfInterest": feature,
        },
        content_type="application/json",
        headers={"X-API-Key": raw},
    )
    assert posted.status_code == 400 and "already observes" in posted.json()["message"]
    shown = client.get(
        f"{ROOT}/Things({thing.pk})/Datastreams?$top=1&$expand=Observations($top=1;$expand=FeatureOfInterest)"
    )
    foi = shown.json()["value"][0]["Observations"][0]["FeatureOfInterest"]["feature"]
    assert foi["coordinates"] == [sensor.public_lon, sensor.public_lat]
    history = client.get(
        f"{ROOT}/Things({thing.pk})/HistoricalLocations?$orderby=time desc&$expand=Locations"
    ).json()
    assert len(history["value"]) == 2 and history["value"][0]["Locations"][0]["name"] == "new"


@pytest.mark.django_db
def test_refusals_leave_nothing_written(client, balcony, manchester):
    thing, _, raw = balcony
    key = {"X-API-Key": raw}
    lat, lon = centre(manchester)
    bad_unit = {
        "name": "T",
        "Locations": [{"name": "x", "location": {"type": "Point", "coordinates": [lon, lat]}}],
        "Datastreams": [
            {
                "name": "t",
                "unitOfMeasurement": {"symbol": "degF"},
                "Sensor": {"name": "BME280"},
                "ObservedProperty": {"name": "temperature"},
            },
        ],
    }
    before = Sensor.objects.count()
    response = client.post(f"{ROOT}/Things", bad_unit, content_type="application/json", headers=key)
    assert response.status_code == 400 and "Cel" in response.json()["message"]
    assert Sensor.objects.count() == before  # the Thing created before the refusal was rolled back

    unknown = dict(
        bad_unit, Datastreams=[{**bad_unit["Datastreams"][0], "ObservedProperty": {"name": "mood"}}]
    )
    response = client.post(f"{ROOT}/Things", unknown, content_type="application/json", headers=key)
    assert response.status_code == 400 and "properties.quantity" in response.json()["message"]

    duplicate = {
        "name": "again",
        "unitOfMeasurement": {"symbol": "ug/m3"},
        "Sensor": {"name": "SDS011"},
        "ObservedProperty": {"name": "PM2.5"},
    }
    response = client.post(
        f"{ROOT}/Things({thing.pk})/Datastreams", duplicate, content_type="application/json", headers=key
    )
    assert response.status_code == 409

    ds = thing.sta_datastreams.get(quantity="pm25")
    for body, fragment in (
        ({"result": -5.0}, "impossible"),
        ({"result": "high"}, "expected a number"),
        ({"result": 5.0, "phenomenonTime": "2099-01-01T00:00:00Z"}, "future"),
        ({"result": 5.0, "phenomenonTime": "2026-11-01T00:00:00Z/2026-11-01T01:00:00Z"}, "intervals"),
    ):
        response = client.post(
            f"{ROOT}/Datastreams({ds.pk})/Observations", body, content_type="application/json", headers=key
        )
        assert response.status_code == 400 and fragment in response.json()["message"], body
    assert Observation.objects.filter(sensor=thing, quantity="pm25").count() == 30


@pytest.mark.django_db
def test_session_writes_need_csrf_and_sensor_keys_write_only_their_sensor(balcony, manchester):
    from django.test import Client

    thing, user, _ = balcony
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.patch(f"{ROOT}/Things({thing.pk})", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["message"]

    own_key = Sensor.objects.get(pk=thing.pk).new_key()
    other = quick_user("http_other", manchester, "citizen")
    from smartip.sensing.services import register_sensor

    lat, lon = centre(manchester)
    foreign, _ = register_sensor(
        city=manchester, owner=other, name="foreign", model="SDS011", lat=lat, lon=lon
    )
    ds = thing.sta_datastreams.get(quantity="pm25")
    client = Client()
    ok = client.post(
        f"{ROOT}/Datastreams({ds.pk})/Observations",
        {"result": 3.0},
        content_type="application/json",
        headers={"X-API-Key": own_key},
    )
    assert ok.status_code == 201 and "/Observations(" in ok["Location"]
    refused = client.patch(
        f"{ROOT}/Things({foreign.pk})",
        {"name": "mine"},
        content_type="application/json",
        headers={"X-API-Key": own_key},
    )
    assert refused.status_code == 403


@pytest.mark.django_db
def test_sensors_registered_elsewhere_are_published(client, manchester):
    from smartip.sensing import ingest
    from smartip.sensing.services import register_sensor

    lat, lon = centre(manchester)
    sensor, _ = register_sensor(city=manchester, owner=None, name="pushed", model="SDS011", lat=lat, lon=lon)
    readings = [
        ingest.Reading(sensor.pk, q, T0 + timedelta(minutes=i), 5.0 + i)
        for i in range(6)
        for q in ("pm10", "pm25")
    ]
    ingest.store(readings, {sensor.pk: sensor})
    body = client.get(
        f"{ROOT}/Things({sensor.pk})/Datastreams?$expand=Observations($count=true;$top=2)"
    ).json()
    assert sorted(d["properties"]["quantity"] for d in body["value"]) == ["pm10", "pm25"]
    assert all(d["Observations@iot.count"] == 6 and len(d["Observations"]) == 2 for d in body["value"])
    [loc] = client.get(f"{ROOT}/Things({sensor.pk})/Locations").json()["value"]
    assert loc["location"]["coordinates"] == [sensor.public_lon, sensor.public_lat]


@pytest.mark.django_db
def test_exact_feature_shown_rounded_and_indoor_thing_answered(client, balcony, manchester):
    _, _, raw = balcony
    lat, lon = centre(manchester)
    exact = {"type": "Point", "coordinates": [lon + 3e-4, lat + 3e-4]}
    body = {
        "name": "Kitchen",
        "properties": {"model": "SPS30", "exposure": "indoor"},
        "Locations": [{"name": "home", "location": exact}],
        "Datastreams": [
            {
                "name": "PM2.5",
                "unitOfMeasurement": {"symbol": "µg/m³"},
                "Sensor": {"name": "SPS30"},
                "ObservedProperty": {"name": "PM2.5"},
                "Observations": [{"result": 4.0, "FeatureOfInterest": {"name": "kitchen", "feature": exact}}],
            }
        ],
    }
    response = client.post(
        f"{ROOT}/Things", body, content_type="application/json", headers={"X-API-Key": raw}
    )
    assert response.status_code == 201, response.json()
    sensor = Sensor.objects.get(pk=int(response["Location"].rsplit("(", 1)[1].rstrip(")")))
    assert sensor.exposure == "indoor" and sensor.model == "SPS30"
    assert client.get(f"{ROOT}/Things({sensor.pk})").status_code == 404  # indoor sensors are not public
    from smartip.sensing.sta_models import StaFeatureOfInterest

    feature = StaFeatureOfInterest.objects.get(thing=sensor)
    shown = client.get(f"{ROOT}/FeaturesOfInterest({feature.pk})").json()["feature"]
    assert shown["coordinates"] == [sensor.public_lon, sensor.public_lat] != exact["coordinates"]


@pytest.mark.django_db
def test_to_many_expansions_of_a_page_are_batched(client, balcony, manchester):
    from smartip.sensing.sensorthings.access import Actor
    from smartip.sensing.sensorthings.create import create_thing

    _, user, _ = balcony
    lat, lon = centre(manchester)
    for n in range(3):
        create_thing(
            {
                "name": f"Street {n}",
                "Locations": [
                    {"name": f"pole {n}", "location": {"type": "Point", "coordinates": [lon, lat]}}
                ],
                "Datastreams": [
                    {
                        "name": f"{code} of street {n}",
                        "unitOfMeasurement": {"symbol": "ug/m3"},
                        "Sensor": {"name": "SDS011"},
                        "ObservedProperty": {"name": code},
                    }
                    for code in ("pm25", "pm10", "pm1")[: n + 1]
                ],
            },
            Actor(user),
        )
    expand = (
        "$expand=Datastreams($top=2;$count=true;$orderby=name;$select=name),Locations,HistoricalLocations"
    )
    one = queries(client, f"{ROOT}/Things?$top=1&$orderby=name&{expand}")
    assert queries(client, f"{ROOT}/Things?$top=4&$orderby=name&{expand}") == one
    page = client.get(f"{ROOT}/Things?$orderby=name&{expand}").json()["value"]
    by_name = {t["name"]: t for t in page}
    assert by_name["Street 2"]["Datastreams@iot.count"] == 3
    assert [d["name"] for d in by_name["Street 2"]["Datastreams"]] == ["pm1 of street 2", "pm10 of street 2"]
    assert by_name["Street 2"]["Datastreams@iot.nextLink"].endswith("/Datastreams?%24top=2&%24skip=2")
    assert [d["name"] for d in by_name["Street 0"]["Datastreams"]] == ["pm25 of street 0"]
    assert by_name["Street 1"]["Locations"][0]["name"] == "pole 1"
    assert len(by_name["Balcony"]["HistoricalLocations"]) == 1


def test_put_replaces_the_entity_and_patch_merges(client, balcony):
    """OData 4.0 §11.4.3 (SensorThings 1.1): PUT is the whole entity, properties left out get their defaults."""
    thing, _, raw = balcony
    key = {"X-API-Key": raw}
    url = f"{ROOT}/Things({thing.pk})"

    def write(method, url, body):
        return getattr(client, method)(url, body, content_type="application/json", headers=key)

    assert write("patch", url, {"description": "on the 2nd floor"}).status_code == 200
    merged = client.get(url).json()
    assert merged["properties"]["floor"] == "2" and merged["description"] == "on the 2nd floor"

    assert write("put", url, {"name": "Balcony (replaced)"}).status_code == 200
    replaced = client.get(url).json()
    assert replaced["name"] == "Balcony (replaced)" and replaced["description"] == ""
    assert "floor" not in replaced["properties"]  # reset; city, model, exposure come from the sensor itself
    assert replaced["properties"]["city"] == "manchester"
    assert client.get(f"{url}/Locations").json()["value"]  # links are not properties: kept

    refused = write("put", url, {"description": "no name"})
    assert refused.status_code == 400 and "Thing.name" in refused.json()["message"]
    assert client.get(url).json()["description"] == ""  # nothing written

    ds = thing.sta_datastreams.get(quantity="pm25")
    ds_url = f"{ROOT}/Datastreams({ds.pk})"
    assert (
        write("patch", ds_url, {"description": "PM2.5 at 2 m", "properties": {"inlet": "heated"}}).status_code
        == 200
    )
    assert client.get(ds_url).json()["properties"]["inlet"] == "heated"
    assert (
        write("put", ds_url, {"name": "PM2.5", "unitOfMeasurement": {"symbol": "ug/m3"}}).status_code == 200
    )
    stream = client.get(ds_url).json()
    assert stream["description"] == "" and stream["properties"] == {"quantity": "pm25"}  # "inlet" reset
    refused = write("put", ds_url, {"name": "PM2.5"})
    assert refused.status_code == 400 and "unitOfMeasurement" in refused.json()["message"]

    sensor_url = f"{ROOT}/Sensors({ds.sensor_id})"
    assert write("patch", sensor_url, {"metadata": "https://example.org/sds011.pdf"}).status_code == 200
    assert client.get(sensor_url).json()["metadata"] == "https://example.org/sds011.pdf"
    assert write("put", sensor_url, {"name": "SDS011"}).status_code == 200
    after = client.get(sensor_url).json()
    assert after["metadata"] == "" and after["encodingType"] == "application/pdf"

    obs = Observation.objects.filter(sensor=thing, quantity="pm25").order_by("time").first()
    obs_url = f"{ROOT}/Observations({obs.pk})"
    refused = write("put", obs_url, {"result": 9.5})
    assert refused.status_code == 400 and "phenomenonTime" in refused.json()["message"]
    assert Observation.objects.get(pk=obs.pk).value == obs.value
    done = write("put", obs_url, {"result": 9.5, "phenomenonTime": obs.time.isoformat()})
    assert done.status_code == 200 and Observation.objects.get(pk=obs.pk).value == 9.5
