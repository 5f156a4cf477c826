import pytest

pytestmark = pytest.mark.django_db


def test_city_follows_language_then_choice(client, cities):
    resp = client.get("/", headers={"accept-language": "fi"})
    assert resp.context["current_city"].slug == "oulu"
    resp = client.get("/?city=cologne", headers={"accept-language": "fi"})
    assert resp.context["current_city"].slug == "cologne"
    assert client.get("/").context["current_city"].slug == "cologne"  # remembered in the session


def test_page_in_dutch_for_ghent(client, cities):
    resp = client.get("/?city=ghent", headers={"accept-language": "nl"})
    assert resp.headers["Content-Language"] == "nl"
    assert 'lang="nl"' in resp.content.decode()


def test_staff_queue_link_only_for_staff(client, users):
    client.force_login(users["citizen"])
    assert "/reports/queue/" not in client.get("/?city=manchester").content.decode()
    client.force_login(users["moderator"])
    assert "/reports/queue/" in client.get("/?city=manchester").content.decode()
