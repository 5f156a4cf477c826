import pytest
from django.core import mail

from smartip.accounts.models import Membership, User

pytestmark = pytest.mark.django_db


def test_register_page_creates_citizen_and_logs_in(client, manchester):
    resp = client.post(
        "/accounts/register/",
        {
            "username": "ada",
            "email": "ada@example.org",
            "password": "a-long-enough-secret",
            "city": manchester.pk,
            "language": "en",
        },
    )
    assert resp.status_code == 302
    user = User.objects.get(username="ada")
    assert Membership.objects.get(user=user).role == "citizen"
    assert client.get("/accounts/profile/").status_code == 200


@pytest.mark.parametrize(
    "data,field",
    [
        ({"username": "bo", "email": "not-an-email", "password": "a-long-enough-secret"}, "email"),
        ({"username": "bo", "email": "bo@example.org", "password": "123"}, "password"),
    ],
)
def test_register_api_rejects_bad_input(client, cities, data, field):
    resp = client.post("/api/accounts/register", data, content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["error"]["field"] == field
    assert not User.objects.filter(username="bo").exists()


def test_duplicate_username_refused(client, users):
    resp = client.post(
        "/api/accounts/register",
        {"username": "MANCHESTER_CITIZEN", "email": "x@example.org", "password": "a-long-enough-secret"},
        content_type="application/json",
    )
    assert resp.status_code == 400 and resp.json()["error"]["field"] == "username"


def test_password_reset_sends_email(client, users):
    resp = client.post("/accounts/password/reset/", {"email": users["citizen"].email})
    assert resp.status_code == 302
    assert len(mail.outbox) == 1 and "/accounts/password/reset/" in mail.outbox[0].body


def test_login_logout(client, users):
    from tests.factories import PASSWORD

    resp = client.post("/accounts/login/", {"username": "manchester_citizen", "password": PASSWORD})
    assert resp.status_code == 302
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/accounts/profile/").status_code == 302
