"""Query counts are pinned on list endpoints: they do not grow with the number of reports or photos."""

import pytest

from tests.reports.conftest import image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(make_report, users):
    def build(n):
        for i in range(n):
            make_report(
                ["pothole", "noise", "litter"][i % 3],
                description=f"Report {i}",
                photos=[image_bytes()] if i % 2 else [],
            )

    return build


# Every request: the request's savepoint and its release (ATOMIC_REQUESTS inside the test transaction, 2)
# + the city middleware (1).
# Open311: + jurisdiction (1) + category codes (1) + reports (1) + photos (1)
OPEN311_MAX = 7
# JSON list: + city (1) + count (1) + reports (1) + photos (1), and the city middleware remembers `?city=` in
# the session (session lookup, savepoint, insert, release: 4; not this app's code, see the report)
JSON_LIST_MAX = 11


@pytest.mark.parametrize("n", [3, 30])
def test_open311_requests_queries_do_not_grow(client, many, n, django_assert_max_num_queries):
    many(n)
    with django_assert_max_num_queries(OPEN311_MAX):
        resp = client.get(
            "/open311/v2/requests.json",
            {"jurisdiction_id": "manchester", "service_code": "pothole,noise,litter", "status": "open"},
        )
    assert resp.status_code == 200 and len(resp.json()) == n
    with django_assert_max_num_queries(OPEN311_MAX):
        assert len(client.get("/open311/v2/requests.xml", {"lat": "53.475", "long": "-2.235"}).content) > 0


@pytest.mark.parametrize("n", [3, 30])
def test_json_list_queries_do_not_grow(client, many, n, django_assert_max_num_queries):
    many(n)
    with django_assert_max_num_queries(JSON_LIST_MAX):
        resp = client.get("/api/reports/", {"city": "manchester", "page_size": 50})
    assert resp.status_code == 200 and resp.json()["count"] == n and len(resp.json()["results"]) == n


def test_staff_queue_queries_do_not_grow(client, many, users, django_assert_max_num_queries):
    many(20)
    client.force_login(users["moderator"])
    client.get("/api/reports/queue", {"city": "manchester"})  # warm the session
    # + user (1) + roles (1) + departments (1); the session is loaded instead of created (same count)
    with django_assert_max_num_queries(JSON_LIST_MAX + 3):
        resp = client.get("/api/reports/queue", {"city": "manchester", "page_size": 50})
    assert resp.status_code == 200 and resp.json()["count"] == 20
