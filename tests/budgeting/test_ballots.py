"""Ballots: limits, replacement, one ballot per voter, assisted entry, secrecy (hypothesis where it fits)."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartip.budgeting import services
from smartip.budgeting.ballots import BallotRules, validate_choices
from smartip.budgeting.io import export_pabulib
from smartip.budgeting.models import Ballot, BallotEntry, BallotKind, ProcessAudit, Verification
from smartip.core.errors import Conflict, Forbidden, Invalid
from tests.budgeting.factories import make_process

COSTS = {1: Decimal(300), 2: Decimal(400), 3: Decimal(500), 4: Decimal(200)}


@given(st.lists(st.sampled_from(sorted(COSTS)), min_size=1, max_size=4, unique=True))
def test_approval_within_budget_accepted_exactly_when_it_fits(chosen):
    rules = BallotRules(kind="approval_budget", budget=Decimal(1000))
    spent = sum(COSTS[p] for p in chosen)
    if spent <= 1000:
        assert validate_choices(rules, COSTS, [(p, 1) for p in chosen]) == [(p, 1) for p in chosen]
    else:
        with pytest.raises(Invalid, match="more than the budget"):
            validate_choices(rules, COSTS, [(p, 1) for p in chosen])


@given(
    st.lists(st.sampled_from(sorted(COSTS)), min_size=1, max_size=4, unique=True),
    st.integers(0, 4),
    st.integers(1, 4),
)
def test_min_max_projects(chosen, low, high):
    rules = BallotRules(kind="approval_minmax", budget=Decimal(0), min_projects=low, max_projects=high)
    ok = low <= len(chosen) <= high
    if ok:
        validate_choices(rules, COSTS, [(p, 1) for p in chosen])
    else:
        with pytest.raises(Invalid):
            validate_choices(rules, COSTS, [(p, 1) for p in chosen])


@given(st.dictionaries(st.sampled_from(sorted(COSTS)), st.integers(1, 12), min_size=1))
def test_cumulative_points(points):
    rules = BallotRules(kind="cumulative", budget=Decimal(0), total_points=10, max_points_per_project=5)
    choices = sorted(points.items())
    if sum(points.values()) <= 10 and max(points.values()) <= 5:
        assert validate_choices(rules, COSTS, choices) == choices
    else:
        with pytest.raises(Invalid, match="points"):
            validate_choices(rules, COSTS, choices)


@pytest.mark.parametrize(
    "choices,message",
    [
        ([(9, 1)], "not on this ballot"),
        ([(1, 1), (1, 1)], "twice"),
        ([], "at least one"),
        ([(1, 0)], "at least 1"),
    ],
)
def test_bad_choices(choices, message):
    with pytest.raises(Invalid, match=message):
        validate_choices(BallotRules(kind="k_approval", budget=Decimal(0)), COSTS, choices)


def test_ranking_positions_follow_order():
    rules = BallotRules(kind="ranking", budget=Decimal(0), max_projects=3)
    assert validate_choices(rules, COSTS, [(3, 1), (1, 1)]) == [(3, 1), (1, 2)]


@pytest.mark.django_db
class TestCasting:
    @pytest.fixture
    def process(self, manchester):
        return make_process(manchester)

    def _ids(self, process):
        return list(process.projects.order_by("id").values_list("pk", flat=True))

    def test_second_ballot_replaces_first(self, process, users):
        area, ids = process.areas.get(), self._ids(process)
        services.cast_ballot(process=process, voter=users["citizen"], area=area, choices=[(ids[0], 1)])
        services.cast_ballot(
            process=process, voter=users["citizen"], area=area, choices=[(ids[1], 1), (ids[3], 1)]
        )
        assert Ballot.objects.count() == 1
        assert sorted(BallotEntry.objects.values_list("project_id", flat=True)) == [ids[1], ids[3]]
        assert services.my_ballot(process=process, area=area, user=users["citizen"]) == [
            (ids[1], 1),
            (ids[3], 1),
        ]

    def test_over_budget_changes_nothing(self, process, users):
        area, ids = process.areas.get(), self._ids(process)
        services.cast_ballot(process=process, voter=users["citizen"], area=area, choices=[(ids[0], 1)])
        with pytest.raises(Invalid):
            services.cast_ballot(
                process=process, voter=users["citizen"], area=area, choices=[(i, 1) for i in ids]
            )
        assert list(BallotEntry.objects.values_list("project_id", flat=True)) == [ids[0]]

    @pytest.mark.parametrize("role", ["moderator", "analyst", "process_manager"])
    def test_only_residents_vote(self, process, users, role):
        with pytest.raises(Forbidden):
            services.cast_ballot(
                process=process,
                voter=users[role],
                area=process.areas.get(),
                choices=[(self._ids(process)[0], 1)],
            )
        assert Ballot.objects.count() == 0

    def test_voting_closed(self, process, users):
        process.phase = "results"
        process.save()
        with pytest.raises(Forbidden, match="not open"):
            services.cast_ballot(
                process=process,
                voter=users["citizen"],
                area=process.areas.get(),
                choices=[(self._ids(process)[0], 1)],
            )

    def test_census_code_cannot_vote_twice_online_or_assisted(self, process, users):
        process.verification = Verification.CENSUS
        process.save()
        area, ids = process.areas.get(), self._ids(process)
        services.add_census(process=process, by=users["process_manager"], codes=[("ABC-123", None, 1980)])
        services.cast_ballot(
            process=process, voter=users["citizen"], area=area, choices=[(ids[0], 1)], census_code="abc-123"
        )
        with pytest.raises(Conflict):
            services.cast_assisted_ballot(
                process=process,
                staff=users["process_manager"],
                area=area,
                census_code="ABC-123",
                choices=[(ids[1], 1)],
            )
        from tests.factories import make_user

        other = make_user("neighbour", city=process.city, role="citizen")
        with pytest.raises(Conflict):
            services.cast_ballot(
                process=process, voter=other, area=area, choices=[(ids[1], 1)], census_code="ABC-123"
            )
        assert Ballot.objects.count() == 1

    def test_assisted_ballot_is_marked_and_staff_only(self, process, users):
        area, ids = process.areas.get(), self._ids(process)
        services.add_census(process=process, by=users["process_manager"], codes=[("X1", None, None)])
        with pytest.raises(Forbidden):
            services.cast_assisted_ballot(
                process=process, staff=users["moderator"], area=area, census_code="X1", choices=[(ids[0], 1)]
            )
        ballot = services.cast_assisted_ballot(
            process=process,
            staff=users["process_manager"],
            area=area,
            census_code="X1",
            choices=[(ids[0], 1)],
        )
        assert ballot.channel == Ballot.Channel.ASSISTED

    def test_audit_and_export_never_link_voter_and_ballot(self, process, users):
        area, ids = process.areas.get(), self._ids(process)
        services.cast_ballot(process=process, voter=users["citizen"], area=area, choices=[(ids[2], 1)])
        entry = ProcessAudit.objects.get(action="ballot_cast")
        assert entry.actor is None and "project" not in str(entry.details)
        text = export_pabulib(process=process)
        ballot = Ballot.objects.get()
        assert users["citizen"].username not in text and users["citizen"].email not in text
        assert ballot.voter_key not in text and text.split("VOTES")[1].splitlines()[1:] == [
            "voter_id;vote",
            "1;3",
        ]


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    votes=st.lists(
        st.tuples(st.integers(0, 5), st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True)),
        min_size=1,
        max_size=12,
    )
)
def test_no_one_votes_twice_whatever_the_sequence(manchester, votes):
    from smartip.accounts.models import User
    from tests.factories import make_user

    process = make_process(manchester, kind=BallotKind.K_APPROVAL)
    area = process.areas.get()
    ids = list(process.projects.order_by("id").values_list("pk", flat=True))
    voters = [
        User.objects.filter(username=f"v{i}").first() or make_user(f"v{i}", city=manchester, role="citizen")
        for i in range(6)
    ]
    last: dict[int, list[int]] = {}
    for who, picks in votes:
        services.cast_ballot(
            process=process, voter=voters[who], area=area, choices=[(ids[p], 1) for p in picks]
        )
        last[who] = [ids[p] for p in picks]
    assert Ballot.objects.filter(process=process).count() == len(last)
    for who, picks in last.items():
        assert sorted(
            p for p, _ in services.my_ballot(process=process, area=area, user=voters[who])
        ) == sorted(picks)


@pytest.mark.django_db
def test_refused_ballot_does_not_use_up_the_census_code(client, manchester, users):
    from smartip.budgeting.models import CensusEntry

    process = make_process(manchester, verification=Verification.CENSUS)
    area = process.areas.get()
    ids = list(process.projects.values_list("pk", flat=True))
    services.add_census(process=process, by=users["process_manager"], codes=[("Q7", None, None)])
    client.force_login(users["citizen"])
    over = {"area_id": area.pk, "census_code": "Q7", "choices": [{"project_id": i} for i in ids]}
    resp = client.put(f"/api/budgeting/processes/{process.pk}/ballot", over, content_type="application/json")
    assert resp.status_code == 400
    assert not CensusEntry.objects.get().claimed and Ballot.objects.count() == 0
    ok = {**over, "choices": [{"project_id": ids[0]}]}
    assert (
        client.put(
            f"/api/budgeting/processes/{process.pk}/ballot", ok, content_type="application/json"
        ).status_code
        == 200
    )


@pytest.mark.django_db
class TestBudgetsPerDistrict:
    """A process with a city-wide budget and one budget per district (as Paris or Łódź run them)."""

    @pytest.fixture
    def process(self, manchester):
        from smartip.budgeting.models import BudgetArea, Project
        from tests.budgeting.test_process_admin import district

        process = make_process(manchester, verification=Verification.CENSUS)
        for name in ("Ancoats", "Hulme"):
            area = BudgetArea.objects.create(
                process=process, name=name, district=district(manchester, name), budget=Decimal(1000)
            )
            Project.objects.create(process=process, area=area, code=name, title=name, cost=Decimal(100))
        return process

    def _area(self, process, name):
        return process.areas.get(name=name)

    def _vote(self, process, voter, name, code=None):
        area = self._area(process, name)
        choice = [(area.projects.values_list("pk", flat=True)[0], 1)]
        return services.cast_ballot(process=process, voter=voter, area=area, choices=choice, census_code=code)

    def test_a_census_voter_votes_city_wide_and_in_their_own_district_only(self, process, users):
        hulme = self._area(process, "Hulme").district
        services.add_census(process=process, by=users["process_manager"], codes=[("H-1", hulme.pk, None)])
        self._vote(process, users["citizen"], process.city.name, "H-1")
        self._vote(process, users["citizen"], "Hulme", "H-1")
        self._vote(process, users["citizen"], "Hulme", "H-1")  # changing a ballot is still allowed
        with pytest.raises(Forbidden, match="another district") as refused:
            self._vote(process, users["citizen"], "Ancoats", "H-1")
        assert refused.value.field == "area"
        assert sorted(Ballot.objects.values_list("area__name", flat=True)) == ["Hulme", process.city.name]

    def test_a_used_code_is_bound_to_its_first_voter(self, process, users):
        from smartip.budgeting.models import CensusEntry
        from tests.factories import make_user

        services.add_census(process=process, by=users["process_manager"], codes=[("C-9", None, None)])
        self._vote(process, users["citizen"], process.city.name, "C-9")
        other = make_user("neighbour", city=process.city, role="citizen")
        with pytest.raises(Conflict, match="already been used"):
            self._vote(process, other, process.city.name, "C-9")
        entry = CensusEntry.objects.get()
        assert entry.claimed and entry.claimed_by == services.voter_key(process, user=users["citizen"])
        assert Ballot.objects.count() == 1

    def test_assisted_entry_covers_each_budget_once(self, process, users):
        ancoats = self._area(process, "Ancoats")
        services.add_census(
            process=process, by=users["process_manager"], codes=[("P-2", ancoats.district.pk, None)]
        )

        def enter(name):
            area = self._area(process, name)
            return services.cast_assisted_ballot(
                process=process,
                staff=users["process_manager"],
                area=area,
                census_code="P-2",
                choices=[(area.projects.values_list("pk", flat=True)[0], 1)],
            )

        enter(process.city.name)
        enter("Ancoats")
        with pytest.raises(Conflict, match="already voted"):
            enter("Ancoats")
        with pytest.raises(Forbidden, match="another district"):
            enter("Hulme")
        assert Ballot.objects.filter(channel=Ballot.Channel.ASSISTED).count() == 2

    def test_with_accounts_only_a_voter_chooses_one_district(self, process, users):
        process.verification = Verification.ACCOUNT
        process.save()
        self._vote(process, users["citizen"], "Ancoats")
        self._vote(process, users["citizen"], process.city.name)
        with pytest.raises(Conflict, match="one district") as refused:
            self._vote(process, users["citizen"], "Hulme")
        assert refused.value.field == "area"
        assert Ballot.objects.count() == 2
