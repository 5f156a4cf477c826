import random

import pytest

from smartip.reports.demo import load_demo
from smartip.reports.models import Report, ReportPhoto, ReportUpdate
from tests.factories import role_users

pytestmark = pytest.mark.django_db


def test_demo_reports_in_every_state_and_deterministic(cities, users):
    n = load_demo(city=cities["manchester"], users=users, rng=random.Random(1), n_reports=12)
    assert n == 12
    statuses = set(Report.objects.filter(city=cities["manchester"]).values_list("status", flat=True))
    assert statuses == {"open", "acknowledged", "in_progress", "fixed", "closed"}
    assert ReportPhoto.objects.exists() and ReportUpdate.objects.filter(kind="reopen").exists()
    assert ReportUpdate.objects.filter(kind="note").exists() and Report.objects.filter(
        duplicate_of__isnull=False
    )
    assert load_demo(city=cities["manchester"], users=users, rng=random.Random(1), n_reports=12) == 0
    load_demo(city=cities["ghent"], users=role_users(cities["ghent"]), rng=random.Random(1), n_reports=12)

    def plan(city):
        return list(
            Report.objects.filter(city=city).order_by("pk").values_list("category__service_code", "status")
        )

    assert plan(cities["manchester"]) == plan(cities["ghent"])
