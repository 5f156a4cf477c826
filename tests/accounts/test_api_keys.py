import pytest

from smartip.accounts.models import ApiKey, hash_key

pytestmark = pytest.mark.django_db


def test_key_is_stored_hashed_and_shown_once(client, users):
    client.force_login(users["citizen"])
    resp = client.post("/api/accounts/keys", {"name": "my app"}, content_type="application/json")
    assert resp.status_code == 201
    raw = resp.json()["key"]
    key = ApiKey.objects.get()
    assert key.key_hash == hash_key(raw) and raw not in (key.key_hash, key.prefix)
    listed = client.get("/api/accounts/keys").json()
    assert "key" not in listed[0] and listed[0]["prefix"] == raw[:10]


def test_key_authenticates_until_revoked(client, users):
    key, raw = ApiKey.generate(user=users["analyst"], name="dash")
    assert (
        client.get("/api/accounts/me", headers={"X-API-Key": raw}).json()["username"] == "manchester_analyst"
    )
    client.force_login(users["analyst"])
    assert client.delete(f"/api/accounts/keys/{key.pk}").status_code == 200
    client.logout()
    assert client.get("/api/accounts/me", headers={"X-API-Key": raw}).status_code == 401


def test_cannot_revoke_someone_elses_key(client, users):
    key, _ = ApiKey.generate(user=users["analyst"], name="dash")
    client.force_login(users["citizen"])
    assert client.delete(f"/api/accounts/keys/{key.pk}").status_code == 404
    key.refresh_from_db()
    assert key.is_active


@pytest.mark.parametrize(
    "payload,field", [({"name": ""}, "name"), ({"name": "x", "kind": "robot"}, "kind"), ({}, "name")]
)
def test_bad_key_input_is_refused_with_field(client, users, payload, field):
    client.force_login(users["citizen"])
    resp = client.post("/api/accounts/keys", payload, content_type="application/json")
    assert resp.status_code in (400, 422)
    assert resp.json()["error"]["field"] == field
    assert ApiKey.objects.count() == 0


def test_wrong_key_is_401(client, users):
    assert client.get("/api/accounts/me", headers={"X-API-Key": "sk_nope"}).status_code == 401
