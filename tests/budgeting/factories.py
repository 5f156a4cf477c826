from decimal import Decimal

from smartip.budgeting.models import BallotKind, BudgetArea, Phase, Process, Project


def make_process(
    city,
    *,
    kind=BallotKind.APPROVAL_BUDGET,
    budget=1000,
    costs=(300, 400, 500, 200),
    phase=Phase.VOTING,
    **fields,
) -> Process:
    process = Process.objects.create(
        city=city,
        slug=f"pb-{Process.objects.count() + 1}",
        title="Green streets",
        ballot_kind=kind,
        phase=phase,
        **fields,
    )
    area = BudgetArea.objects.create(process=process, name=city.name, budget=Decimal(budget))
    for i, cost in enumerate(costs):
        Project.objects.create(
            process=process, area=area, code=str(i + 1), title=f"Project {i + 1}", cost=Decimal(cost)
        )
    return process
