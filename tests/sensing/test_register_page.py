"""The registration page: "hosted at a home" for everyone (missing = home, the private side), reference stations
only for the city's administrators (the same rule as the API: services.can_register_reference)."""

import pytest

from smartip.sensing.models import Sensor
from tests.sensing.conftest import point_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def where(hoods):
    lat, lon = point_in(hoods[0])
    return {"name": "Sensor", "model": "SDS011", "exposure": "outdoor", "lat": lat, "lon": lon}


def test_citizen_form_has_home_hosting_but_no_reference(as_user, users):
    response = as_user(users["citizen"]).get("/air/register/")
    form = response.context["form"]
    assert "is_home_hosted" in form.fields and "is_reference" not in form.fields
    assert "reference" not in dict(form.fields["model"].choices)
    html = response.content.decode()
    assert 'name="is_home_hosted"' in html and 'name="is_reference"' not in html


def test_admin_form_offers_reference_stations(as_user, users):
    form = as_user(users["admin"]).get("/air/register/").context["form"]
    assert "is_reference" in form.fields and "reference" in dict(form.fields["model"].choices)


@pytest.mark.parametrize(
    ("posted", "home"), [({}, True), ({"is_home_hosted": "yes"}, True), ({"is_home_hosted": "no"}, False)]
)
def test_hosting_choice_sets_the_shown_position(as_user, users, where, posted, home):
    response = as_user(users["citizen"]).post("/air/register/", {**where, **posted})
    assert response.status_code == 201, response.content
    sensor = Sensor.objects.get()
    assert sensor.is_home_hosted is home and not sensor.is_reference
    exact = (sensor.public_lat, sensor.public_lon) == (where["lat"], where["lon"])
    assert exact is not home  # a home's position is rounded; elsewhere the exact position is shown


def test_bad_hosting_value_is_a_field_error(as_user, users, where):
    response = as_user(users["citizen"]).post("/air/register/", {**where, "is_home_hosted": "maybe"})
    assert response.status_code == 400 and "is_home_hosted" in response.context["form"].errors
    assert not Sensor.objects.exists()


@pytest.mark.parametrize("role", ["citizen", "analyst"])
def test_only_admins_register_reference_stations(as_user, users, where, role):
    response = as_user(users[role]).post("/air/register/", {**where, "is_reference": "on"})
    assert response.status_code == 403
    assert "only a city administrator registers reference stations" in response.content.decode()
    assert not Sensor.objects.exists()


def test_admin_registers_a_reference_station(as_user, users, where):
    client = as_user(users["admin"])
    data = {
        **where,
        "name": "City station",
        "model": "reference",
        "is_reference": "on",
        "is_home_hosted": "no",
    }
    response = client.post("/air/register/", data)
    assert response.status_code == 201, response.content
    station = Sensor.objects.get(name="City station")
    assert station.is_reference and not station.is_home_hosted and station.model == "reference"
    assert station.owner == users["admin"]
    references = client.get("/air/calibration/").context["form"].fields["reference"].choices
    assert (station.pk, "City station") in references
