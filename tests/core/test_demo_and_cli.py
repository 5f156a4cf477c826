import pytest
from django.core.management import call_command

from smartip.accounts.models import Membership, Role, User
from smartip.cities.models import City
from smartip.cli import main

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent_and_gives_every_role_in_every_city(capsys):
    from smartip.core.demo import load_demo

    load_demo(seed=1)
    load_demo(seed=1)
    assert City.objects.count() == 5
    for city in City.objects.all():
        assert city.neighbourhoods.count() == 9
        roles = set(Membership.objects.filter(city=city).values_list("role", flat=True))
        assert roles == set(Role.values)
    assert User.objects.get(username="oulu-moderator").check_password("demo-moderator-2026")


def test_demo_budgets_one_phase_per_city_and_results():
    from smartip.budgeting.models import Outcome, Process
    from smartip.core.demo import load_demo

    load_demo(seed=3)
    phases = dict(Process.objects.values_list("city__slug", "phase"))
    assert len(phases) == 5 and len(set(phases.values())) == 5
    outcome = Outcome.objects.get(area__process__city__slug="manchester", is_official=True)
    assert outcome.selected_codes and outcome.total_cost <= outcome.area.budget


def test_cli_usage_and_bad_command(capsys):
    assert main([]) == 2
    assert "usage: smartip" in capsys.readouterr().out
    assert main(["no-such-command"]) == 1


def test_createadmin_refuses_short_password():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="8 characters"):
        call_command("createadmin", "root", password="short")
    call_command("createadmin", "root", password="long-enough-pw")
    assert User.objects.get(username="root").is_superuser
