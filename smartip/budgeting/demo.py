"""Demo participatory budgets: each of the five cities has a process in a different phase."""

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from smartip.accounts.models import User
from smartip.budgeting import services
from smartip.budgeting.models import BallotKind, BudgetArea, Phase, Process, Project, Proposal
from smartip.cities.models import City

PHASE_BY_CITY = {
    "manchester": Phase.RESULTS,
    "ghent": Phase.VOTING,
    "cologne": Phase.PROPOSALS,
    "bologna": Phase.REVIEW,
    "oulu": Phase.DELIVERY,
}
KIND_BY_CITY = {
    "manchester": BallotKind.APPROVAL_BUDGET,
    "ghent": BallotKind.CUMULATIVE,
    "cologne": BallotKind.APPROVAL_BUDGET,
    "bologna": BallotKind.K_APPROVAL,
    "oulu": BallotKind.APPROVAL_BUDGET,
}
TITLES = {
    "en": [
        "Trees on Oxford Road",
        "Safer crossing at the school",
        "Community garden",
        "Bike parking in the centre",
        "Playground renewal",
        "Benches along the canal",
        "Library evening hours",
        "Street art on the underpass",
    ],
    "nl": [
        "Bomen in de Veldstraat",
        "Veilige oversteek aan de school",
        "Buurtmoestuin",
        "Fietsenstalling centrum",
        "Vernieuwing speeltuin",
        "Banken langs de Leie",
        "Avondopening bibliotheek",
        "Muurschildering tunnel",
    ],
    "de": [
        "Bäume in der Schildergasse",
        "Sicherer Schulweg",
        "Gemeinschaftsgarten",
        "Fahrradstellplätze Innenstadt",
        "Neuer Spielplatz",
        "Bänke am Rheinufer",
        "Abendöffnung der Bibliothek",
        "Street-Art an der Unterführung",
    ],
    "it": [
        "Alberi in via Indipendenza",
        "Attraversamento sicuro davanti alla scuola",
        "Orto di quartiere",
        "Parcheggio bici in centro",
        "Nuovo parco giochi",
        "Panchine lungo il canale",
        "Biblioteca aperta la sera",
        "Murale nel sottopasso",
    ],
    "fi": [
        "Puita Kirkkokadulle",
        "Turvallinen suojatie koululle",
        "Yhteisöpuutarha",
        "Pyöräparkki keskustaan",
        "Leikkipuiston uudistus",
        "Penkkejä joenrantaan",
        "Kirjasto auki iltaisin",
        "Katutaidetta alikulkuun",
    ],
}


def _keep_vote_open(city: City, today: date) -> None:
    """Ballots are refused after the voting-close day: a demo loaded long ago gets its vote reopened."""
    Process.objects.filter(city=city, slug="pb-2026", phase=Phase.VOTING, voting_close__lt=today).update(
        voting_open=today - timedelta(days=20), voting_close=today + timedelta(days=10)
    )


def load_demo(*, city: City, users: dict[str, User], rng: random.Random) -> None:
    today = timezone.localtime(timezone.now(), city.tz).date()  # the city's day: voting closes by it
    if Process.objects.filter(city=city).exists():
        _keep_vote_open(city, today)
        return
    phase = PHASE_BY_CITY.get(city.slug, Phase.VOTING)
    manager = users["process_manager"]
    process = Process.objects.create(
        city=city,
        slug="pb-2026",
        title=f"{city.name} 2026",
        phase=Phase.PROPOSALS,
        description="Demo participatory budget.",
        ballot_kind=KIND_BY_CITY.get(city.slug, BallotKind.APPROVAL_BUDGET),
        max_projects=3 if KIND_BY_CITY.get(city.slug) == BallotKind.K_APPROVAL else None,
        total_points=10 if KIND_BY_CITY.get(city.slug) == BallotKind.CUMULATIVE else None,
        proposals_open=today - timedelta(days=60),
        review_open=today - timedelta(days=40),
        voting_open=today - timedelta(days=20),
        voting_close=today + timedelta(days=10),
    )
    area = BudgetArea.objects.create(process=process, name=city.name, budget=Decimal(500_000))
    residents = [u for key, u in users.items() if key.startswith("resident") or key == "citizen"]
    proposals = _proposals(process, area, residents, city, rng)
    if phase in (Phase.PROPOSALS,):
        return
    services.set_phase(process=process, by=manager, phase=Phase.REVIEW)
    for i, proposal in enumerate(proposals):
        if phase == Phase.REVIEW and i % 2:
            continue  # half still waiting for review
        feasible = i != 5
        services.review_proposal(
            proposal=proposal, by=manager, feasible=feasible, reason="" if feasible else "Not on city land."
        )
    if phase == Phase.REVIEW:
        return
    services.set_phase(process=process, by=manager, phase=Phase.VOTING)
    _votes(process, area, residents, rng)
    if phase == Phase.VOTING:
        return
    services.publish_results(process=process, by=manager)
    if phase == Phase.DELIVERY:
        services.set_phase(process=process, by=manager, phase=Phase.DELIVERY)
        for project in Project.objects.filter(process=process, is_funded=True):
            services.add_milestone(
                project=project,
                by=manager,
                title="Design agreed",
                done_on=today,
                status=Project.Delivery.IN_PROGRESS,
            )


def _proposals(
    process: Process, area: BudgetArea, residents: list[User], city: City, rng: random.Random
) -> list[Proposal]:
    titles = TITLES.get(city.default_language, TITLES["en"])
    out = []
    for i, title in enumerate(titles):
        lat = rng.uniform(city.min_lat, city.max_lat)
        lon = rng.uniform(city.min_lon, city.max_lon)
        proposal = services.submit_proposal(
            process=process,
            author=residents[i % len(residents)],
            area=area,
            title=title,
            description=f"{title}: a proposal from the neighbourhood.",
            estimated_cost=Decimal(rng.randrange(40, 220) * 1000),
            lat=lat,
            lon=lon,
        )
        for user in rng.sample(residents, k=rng.randint(1, len(residents))):
            services.support_proposal(proposal=proposal, user=user)
        out.append(proposal)
    return out


def _votes(process: Process, area: BudgetArea, residents: list[User], rng: random.Random) -> None:
    projects: list[Any] = list(area.projects.order_by("id"))
    for voter in residents:
        rng.shuffle(projects)
        if process.ballot_kind == BallotKind.CUMULATIVE:
            picks = projects[:3]
            choices = [(picks[0].pk, 5), (picks[1].pk, 3), (picks[2].pk, 2)]
        elif process.ballot_kind == BallotKind.K_APPROVAL:
            choices = [(p.pk, 1) for p in projects[: rng.randint(1, 3)]]
        else:
            choices, spent = [], Decimal(0)
            for p in projects:
                if spent + p.cost <= area.budget and rng.random() < 0.6:
                    choices.append((p.pk, 1))
                    spent += p.cost
            choices = choices or [(projects[0].pk, 1)]
        services.cast_ballot(process=process, voter=voter, area=area, choices=choices)
