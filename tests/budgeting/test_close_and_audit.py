"""Voting closes at the dates the process shows (in the city's time zone), whatever the phase says; the
process audit trail for the people who run the process (page and API), without linking voter and ballot."""

from datetime import timedelta

import pytest
from django.utils import timezone

from smartip.budgeting import services
from smartip.budgeting.models import Ballot, ProcessAudit
from smartip.core.errors import Forbidden
from tests.budgeting.factories import make_process

pytestmark = pytest.mark.django_db
J = "application/json"


def city_today(city):
    return timezone.localtime(timezone.now(), city.tz).date()


def url(process, page=""):
    return f"/budgets/{process.city.slug}/{process.slug}/{page}"


def first_project(process):
    return process.projects.order_by("id").first().pk


# --- voting window ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "open_days,close_days,accepted",
    [(-10, -1, False), (1, 10, False), (-10, 0, True), (0, 5, True), (None, None, True), (None, -1, False)],
)
def test_cast_ballot_only_between_the_voting_dates(users, manchester, open_days, close_days, accepted):
    today = city_today(manchester)
    process = make_process(
        manchester,
        voting_open=None if open_days is None else today + timedelta(days=open_days),
        voting_close=None if close_days is None else today + timedelta(days=close_days),
    )
    cast = dict(process=process, voter=users["citizen"], area=process.areas.get())
    if accepted:
        services.cast_ballot(**cast, choices=[(first_project(process), 1)])
        assert Ballot.objects.filter(process=process).count() == 1
        return
    with pytest.raises(Forbidden, match="voting closed on|voting opens on"):
        services.cast_ballot(**cast, choices=[(first_project(process), 1)])
    assert not Ballot.objects.filter(process=process).exists()
    assert not ProcessAudit.objects.filter(process=process, action="ballot_cast").exists()


def test_closing_day_is_the_citys_day(users, manchester):
    """The same closing date is still open in a city behind UTC and already over in one far ahead of it."""
    behind, ahead = "Pacific/Pago_Pago", "Pacific/Kiritimati"  # UTC-11 and UTC+14: always different days
    manchester.timezone = behind
    process = make_process(manchester, voting_close=city_today(manchester))
    area, choice = process.areas.get(), [(first_project(process), 1)]
    services.cast_ballot(process=process, voter=users["citizen"], area=area, choices=choice)
    manchester.timezone = ahead
    with pytest.raises(Forbidden, match="voting closed on"):
        services.cast_ballot(process=process, voter=users["citizen"], area=area, choices=choice)


def test_assisted_ballot_refused_after_close(users, manchester):
    process = make_process(manchester, voting_close=city_today(manchester) - timedelta(days=1))
    services.add_census(process=process, by=users["process_manager"], codes=[("X1", None, None)])
    with pytest.raises(Forbidden) as exc:
        services.cast_assisted_ballot(
            process=process,
            staff=users["process_manager"],
            area=process.areas.get(),
            census_code="X1",
            choices=[(first_project(process), 1)],
        )
    assert "voting closed on" in exc.value.message
    assert not Ballot.objects.exists()
    assert not process.census.filter(claimed=True).exists()


def test_ballot_page_says_voting_closed_instead_of_the_form(users, manchester, as_user):
    process = make_process(manchester, voting_close=city_today(manchester) - timedelta(days=2))
    client = as_user(users["citizen"])
    page = client.get(url(process, "vote/")).content.decode()
    assert 'id="voting-closed"' in page and "Voting closed on" in page
    assert 'id="ballot"' not in page and "Save my vote" not in page
    response = client.post(url(process, "vote/"), {"project": [first_project(process)]})
    assert response.status_code == 403 and "Voting closed on" in response.content.decode()
    assert not Ballot.objects.exists()


def test_ballot_page_before_opening_and_while_open(users, manchester, as_user):
    today = city_today(manchester)
    early = make_process(manchester, voting_open=today + timedelta(days=3))
    page = as_user(users["citizen"]).get(url(early, "vote/")).content.decode()
    assert "Voting opens on" in page and 'id="ballot"' not in page
    open_now = make_process(manchester, voting_open=today, voting_close=today)
    page = as_user(users["citizen"]).get(url(open_now, "vote/")).content.decode()
    assert 'id="voting-closed"' not in page and 'id="ballot"' in page


def test_api_ballot_after_close_is_403_with_the_reason(users, manchester, client):
    process = make_process(manchester, voting_close=city_today(manchester) - timedelta(days=1))
    client.force_login(users["citizen"])
    body = {
        "area_id": process.areas.get().pk,
        "choices": [{"project_id": first_project(process), "value": 1}],
    }
    response = client.put(f"/api/budgeting/processes/{process.pk}/ballot", body, content_type=J)
    assert response.status_code == 403
    assert "voting closed on" in response.json()["error"]["message"]
    assert not Ballot.objects.exists()


def test_demo_vote_is_open_and_stays_open_when_the_demo_is_loaded_again():
    from smartip.accounts.models import User
    from smartip.budgeting.models import Phase, Process
    from smartip.core.demo import load_demo

    load_demo(seed=2)
    process = Process.objects.select_related("city").get(phase=Phase.VOTING)
    services.check_voting_window(process)  # open now
    Process.objects.filter(pk=process.pk).update(
        voting_open=city_today(process.city) - timedelta(days=40),
        voting_close=city_today(process.city) - timedelta(days=30),
    )
    process.refresh_from_db()
    with pytest.raises(Forbidden):
        services.check_voting_window(process)
    load_demo(seed=2)
    process.refresh_from_db()
    assert process.voting_open <= city_today(process.city) <= process.voting_close
    voter = User.objects.get(username=f"{process.city.slug}-citizen")
    area = process.areas.get()
    services.cast_ballot(
        process=process, voter=voter, area=area, choices=[(area.projects.order_by("id").first().pk, 1)]
    )


# --- audit trail ------------------------------------------------------------------------------------------


def test_manager_sees_the_audit_newest_first_with_public_names(users, manchester, as_user):
    manager = users["process_manager"]
    manager.display_name = "Alex from the council"
    manager.save()
    process = make_process(manchester)
    services.add_census(process=process, by=manager, codes=[("X1", None, None)])
    services.cast_ballot(
        process=process,
        voter=users["citizen"],
        area=process.areas.get(),
        choices=[(first_project(process), 1)],
    )
    page = as_user(manager).get(url(process, "manage/audit/"))
    assert page.status_code == 200
    body = page.content.decode()
    assert body.index("ballot_cast") < body.index("census_loaded")  # newest first
    assert "Alex from the council" in body and "count: 1" in body and "channel: online" in body
    assert users["citizen"].username not in body
    manage = as_user(manager).get(url(process, "manage/")).content.decode()
    assert url(process, "manage/audit/") in manage


@pytest.mark.parametrize("role", ["anonymous", "citizen", "moderator", "analyst"])
def test_audit_page_and_api_refused_to_others(users, manchester, as_user, role):
    process = make_process(manchester)
    services.add_census(process=process, by=users["process_manager"], codes=[("X1", None, None)])
    client = as_user(users[role])
    page = client.get(url(process, "manage/audit/"))
    assert page.status_code == (302 if role == "anonymous" else 403)
    api = client.get(f"/api/budgeting/processes/{process.pk}/audit")
    assert api.status_code == (401 if role == "anonymous" else 403)
    if role != "anonymous":
        assert "census_loaded" not in page.content.decode()
        assert api.json()["error"]["message"] == "only the city's process managers may do this"


def test_admin_may_read_the_audit_and_empty_state(users, manchester, as_user):
    process = make_process(manchester)
    client = as_user(users["admin"])
    page = client.get(url(process, "manage/audit/")).content.decode()
    assert "Nothing has been recorded for this process yet." in page
    api = client.get(f"/api/budgeting/processes/{process.pk}/audit").json()
    assert api == {"items": [], "count": 0}


def test_audit_is_paginated_by_50(users, manchester, as_user):
    process = make_process(manchester)
    manager = users["process_manager"]
    ProcessAudit.objects.bulk_create(
        ProcessAudit(process=process, actor=manager, action="phase", details={"n": i}) for i in range(120)
    )
    client = as_user(manager)
    first = client.get(url(process, "manage/audit/")).content.decode()
    assert first.count("<tr>") == 51 and "Page 1 of 3" in first and "n: 119" in first
    last = client.get(url(process, "manage/audit/") + "?page=3").content.decode()
    assert last.count("<tr>") == 21 and "n: 0<" in last and "Page 3 of 3" in last
    api = client.get(f"/api/budgeting/processes/{process.pk}/audit?page=3").json()
    assert api["count"] == 120 and len(api["items"]) == 20
    assert api["items"][-1] == {
        "at": api["items"][-1]["at"],
        "actor": manager.public_name,
        "action": "phase",
        "details": {"n": 0},
    }
    newest = client.get(f"/api/budgeting/processes/{process.pk}/audit").json()["items"]
    assert len(newest) == 50 and newest[0]["details"] == {"n": 119}


def test_online_ballot_audit_rows_name_no_voter(users, manchester, client):
    process = make_process(manchester)
    services.cast_ballot(
        process=process,
        voter=users["citizen"],
        area=process.areas.get(),
        choices=[(first_project(process), 1)],
    )
    client.force_login(users["process_manager"])
    items = client.get(f"/api/budgeting/processes/{process.pk}/audit").json()["items"]
    assert items == [
        {"at": items[0]["at"], "actor": None, "action": "ballot_cast", "details": {"channel": "online"}}
    ]
