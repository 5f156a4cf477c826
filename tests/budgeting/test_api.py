"""The PB JSON API: a whole process through the API, bad input, and the permission matrix of write endpoints."""

import pytest

from smartip.budgeting.models import Ballot, Phase, Process, ProcessAudit, Proposal
from tests.budgeting.factories import make_process

pytestmark = pytest.mark.django_db
J = "application/json"


def _login(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)


def test_full_process_through_the_api(client, users, manchester):
    process = make_process(manchester, costs=(), phase=Phase.DRAFT)
    area = process.areas.get()
    manager, citizen = users["process_manager"], users["citizen"]
    _login(client, manager)
    assert (
        client.post(
            f"/api/budgeting/processes/{process.pk}/phase", {"phase": "proposals"}, content_type=J
        ).status_code
        == 200
    )
    _login(client, citizen)
    resp = client.post(
        f"/api/budgeting/processes/{process.pk}/proposals",
        {
            "area_id": area.pk,
            "title": "Trees",
            "description": "Plant trees on the square.",
            "estimated_cost": "400",
            "lat": 53.48,
            "lon": -2.24,
        },
        content_type=J,
    )
    assert resp.status_code == 201, resp.content
    proposal_id = resp.json()["id"]
    _login(client, manager)
    assert (
        client.post(
            f"/api/budgeting/proposals/{proposal_id}/review",
            {"feasible": True, "official_cost": "450"},
            content_type=J,
        ).json()["status"]
        == "feasible"
    )
    client.post(f"/api/budgeting/processes/{process.pk}/phase", {"phase": "voting"}, content_type=J)
    project = client.get(f"/api/budgeting/processes/{process.pk}/projects").json()[0]
    _login(client, citizen)
    ballot = {"area_id": area.pk, "choices": [{"project_id": project["id"]}]}
    assert (
        client.put(f"/api/budgeting/processes/{process.pk}/ballot", ballot, content_type=J).status_code == 200
    )
    assert client.get(f"/api/budgeting/processes/{process.pk}/results").status_code == 403
    _login(client, manager)
    resp = client.post(f"/api/budgeting/areas/{area.pk}/count?rule=mes-add1-greedy")
    assert resp.json()["selected"] == [project["code"]]
    client.post(f"/api/budgeting/processes/{process.pk}/phase", {"phase": "results"}, content_type=J)
    _login(client, None)
    assert client.get(f"/api/budgeting/processes/{process.pk}/export.pb").status_code == 200


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"title": "", "description": "Plant trees on the square.", "estimated_cost": "10"}, "title"),
        ({"title": "Trees", "description": "short", "estimated_cost": "10"}, "description"),
        (
            {"title": "Trees", "description": "Plant trees on the square.", "estimated_cost": "-5"},
            "estimated_cost",
        ),
        (
            {"title": "Trees", "description": "Plant trees on the square.", "estimated_cost": "abc"},
            "estimated_cost",
        ),
        (
            {
                "title": "Trees",
                "description": "Plant trees on the square.",
                "estimated_cost": "10",
                "lat": 10,
                "lon": 10,
            },
            "lat",
        ),
        (
            {
                "title": "Trees",
                "description": "Plant trees on the square.",
                "estimated_cost": "10",
                "lat": 53.48,
            },
            "lat",
        ),
    ],
)
def test_bad_proposal_is_refused_and_nothing_stored(client, users, manchester, payload, field):
    process = make_process(manchester, phase=Phase.PROPOSALS)
    _login(client, users["citizen"])
    resp = client.post(
        f"/api/budgeting/processes/{process.pk}/proposals",
        {"area_id": process.areas.get().pk, **payload},
        content_type=J,
    )
    assert resp.status_code in (400, 422)
    assert resp.json()["error"]["field"] == field
    assert Proposal.objects.count() == 0


def test_over_budget_ballot_gets_400_with_field(client, users, manchester):
    process = make_process(manchester)
    ids = list(process.projects.values_list("pk", flat=True))
    _login(client, users["citizen"])
    resp = client.put(
        f"/api/budgeting/processes/{process.pk}/ballot",
        {"area_id": process.areas.get().pk, "choices": [{"project_id": i} for i in ids]},
        content_type=J,
    )
    assert resp.status_code == 400 and resp.json()["error"]["field"] == "choices"
    assert Ballot.objects.count() == 0


ROLES = [
    "anonymous",
    "citizen",
    "moderator",
    "department_staff",
    "process_manager",
    "analyst",
    "admin",
    "other_city",
]
ALLOWED = {
    "phase": {"process_manager", "admin"},
    "review": {"process_manager", "admin"},
    "census": {"process_manager", "admin"},
    "count": {"process_manager", "admin"},
    "assisted": {"process_manager", "admin"},
    "proposal": {
        "citizen",
        "moderator",
        "department_staff",
        "process_manager",
        "analyst",
        "admin",
    },  # people of the city only (services.is_resident): another city's admin is refused
    "ballot": {"citizen"},
}


def _request(client, action, process):
    area = process.areas.get()
    project = process.projects.first()
    proposal = process.proposals.first()
    calls = {
        "phase": lambda: client.post(
            f"/api/budgeting/processes/{process.pk}/phase", {"phase": "review"}, content_type=J
        ),
        "review": lambda: client.post(
            f"/api/budgeting/proposals/{proposal.pk}/review",
            {"feasible": False, "reason": "no"},
            content_type=J,
        ),
        "census": lambda: client.post(
            f"/api/budgeting/processes/{process.pk}/census", {"codes": ["Z9"]}, content_type=J
        ),
        "count": lambda: client.post(f"/api/budgeting/areas/{area.pk}/count?rule=greedy"),
        "assisted": lambda: client.post(
            f"/api/budgeting/processes/{process.pk}/assisted-ballots",
            {"area_id": area.pk, "census_code": "C1", "choices": [{"project_id": project.pk}]},
            content_type=J,
        ),
        "proposal": lambda: client.post(
            f"/api/budgeting/processes/{process.pk}/proposals",
            {
                "area_id": area.pk,
                "title": "Bench",
                "description": "A bench by the pond.",
                "estimated_cost": "100",
            },
            content_type=J,
        ),
        "ballot": lambda: client.put(
            f"/api/budgeting/processes/{process.pk}/ballot",
            {"area_id": area.pk, "choices": [{"project_id": project.pk}]},
            content_type=J,
        ),
    }
    return calls[action]()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_permission_matrix(client, users, cities, manchester, role, action):
    from smartip.budgeting import services
    from tests.factories import make_user

    phase = Phase.PROPOSALS if action in ("proposal", "review") else Phase.VOTING
    process = make_process(manchester, phase=Phase.PROPOSALS)
    Proposal.objects.create(
        process=process,
        area=process.areas.get(),
        title="Seed",
        description="seed proposal",
        estimated_cost=10,
    )
    services.add_census(process=process, by=users["process_manager"], codes=[("C1", None, None)])
    Process.objects.filter(pk=process.pk).update(phase=phase)
    process.refresh_from_db()
    user = (
        make_user("ghent_admin", city=cities["ghent"], role="admin") if role == "other_city" else users[role]
    )
    _login(client, user)
    before = (
        Proposal.objects.count(),
        Ballot.objects.count(),
        ProcessAudit.objects.count(),
        Process.objects.get().phase,
    )
    resp = _request(client, action, process)
    if role in ALLOWED[action]:
        assert resp.status_code in (200, 201), (role, action, resp.content)
    else:
        assert resp.status_code in (401, 403), (role, action, resp.status_code, resp.content)
        after = (
            Proposal.objects.count(),
            Ballot.objects.count(),
            ProcessAudit.objects.count(),
            Process.objects.get().phase,
        )
        assert after == before
