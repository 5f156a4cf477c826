"""The ballot page: works as a plain POST; the server names every mistake and re-renders what was ticked."""

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from smartip.budgeting import services
from smartip.budgeting.forms import (
    BallotForm,
)
from smartip.budgeting.models import (
    BallotKind,
    BudgetArea,
    Phase,
    Process,
    Project,
    Verification,
)
from smartip.budgeting.views.common import (
    _area_from,
    _areas,
    _form_error,
    _get_process,
    _process_url,
    _render,
    money,
)
from smartip.core.errors import DomainError, Forbidden


def _slots(process: Process, projects: list[Project]) -> int:
    return min(process.max_projects or len(projects), len(projects))


def _ballot_form(process: Process, projects: list[Project], data: Any = None, **kw: Any) -> BallotForm:
    return BallotForm(
        data,
        kind=process.ballot_kind,
        projects=projects,
        needs_code=process.verification != Verification.ACCOUNT,
        slots=_slots(process, projects),
        **kw,
    )


def _ballot_rows(
    process: Process, projects: list[Project], chosen: dict[int, int], slots: int
) -> dict[str, Any]:
    """What the ballot shows: each project with its state, the places of a ranking, and the budget bar."""
    rows = [
        {"project": p, "cost": money(p.cost, process.currency), "value": chosen.get(p.pk, 0)}
        for p in projects
    ]
    by_place = {place: pid for pid, place in chosen.items()}
    places = [{"n": n, "value": by_place.get(n)} for n in range(1, slots + 1)]
    return {"rows": rows, "places": places}


def _bar(
    process: Process, area: BudgetArea, projects: list[Project], chosen: dict[int, int]
) -> dict[str, Any]:
    spent = sum((p.cost for p in projects if p.pk in chosen), Decimal(0))
    left = area.budget - spent
    points = sum(chosen.values()) if process.ballot_kind == BallotKind.CUMULATIVE else None
    return {
        "spent": money(spent, process.currency),
        "budget": money(area.budget, process.currency),
        "left": money(abs(left), process.currency),
        "over": left < 0,
        "limit": process.ballot_kind == BallotKind.APPROVAL_BUDGET,  # only this ballot kind caps the money
        "percent": min(100, int(spent * 100 / area.budget)) if area.budget else 0,
        "points": points,
        "points_left": (process.total_points - points)
        if points is not None and process.total_points
        else None,
    }


def _posted_choices(form: BallotForm) -> dict[int, int]:
    """What the voter ticked, even when the form is invalid (to re-render it as they left it)."""
    if form.is_valid():
        return dict(form.choices())
    data = form.data
    if process_kind := form.kind:
        if process_kind == BallotKind.CUMULATIVE:
            out = {}
            for p in form.projects:
                raw = data.get(f"points_{p.pk}", "")
                if str(raw).isdigit() and int(raw) > 0:
                    out[p.pk] = int(raw)
            return out
        if process_kind == BallotKind.RANKING:
            picked = [data.get(f"rank_{n}") for n in range(1, form.slots + 1)]
            return {int(v): n for n, v in enumerate(picked, start=1) if v and str(v).isdigit()}
    return {int(v): 1 for v in data.getlist("project") if str(v).isdigit()}


def _ballot_problem(
    process: Process, area: BudgetArea, projects: list[Project], chosen: dict[int, int]
) -> str:
    """The common ballot mistakes in the voter's language, with amounts in money (the service then checks
    everything again, so a mistake missed here is still refused, in the service's words)."""
    cur = process.currency
    n, k, least = len(chosen), process.max_projects, process.min_projects
    if n == 0:
        return _("Choose at least one project.")
    if n < least:
        return _("Choose at least %(k)d projects; you chose %(n)d.") % {"k": least, "n": n}
    if k is not None and n > k:
        return _("Choose at most %(k)d projects; you chose %(n)d.") % {"k": k, "n": n}
    if process.ballot_kind == BallotKind.APPROVAL_BUDGET:
        spent = sum((p.cost for p in projects if p.pk in chosen), Decimal(0))
        if spent > area.budget:
            return _(
                "Your choices cost %(spent)s, more than the budget of %(budget)s. "
                "Untick projects worth at least %(over)s."
            ) % {
                "spent": money(spent, cur),
                "budget": money(area.budget, cur),
                "over": money(spent - area.budget, cur),
            }
    if process.ballot_kind == BallotKind.CUMULATIVE:
        total, cap = sum(chosen.values()), process.max_points_per_project
        if process.total_points is not None and total > process.total_points:
            return _("You gave %(n)d points; you have %(total)d.") % {
                "n": total,
                "total": process.total_points,
            }
        if cap is not None and any(v > cap for v in chosen.values()):
            return _("Give at most %(cap)d points to one project.") % {"cap": cap}
    return ""


def _not_eligible(process: Process, user: Any) -> str:
    """Why this account cannot vote, said before the voter fills in the ballot ("" when it may, or when only
    the census code, checked on saving, decides)."""
    try:
        services.check_eligibility(process=process, user=user, census_code=None)
    except Forbidden as exc:
        return exc.message
    except DomainError:
        return ""
    return ""


def _window_closed(process: Process) -> str:
    """Why ballots are not accepted today (before the voting-open or after the voting-close day), or ""."""
    try:
        services.check_voting_window(process)
    except Forbidden as exc:
        return exc.message
    return ""


@login_required
def ballot(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _get_process(request, city, slug)
    areas = _areas(process)
    area = _area_from(request, areas)
    projects = list(area.projects.order_by("id"))
    user = request.user
    status = 200
    if process.phase != Phase.VOTING:
        messages.info(request, _("Voting is not open in this process."))
        return redirect(_process_url(process))
    current = dict(services.my_ballot(process=process, area=area, user=user))
    closed = _window_closed(process)
    if request.method == "POST" and closed:
        status = 403  # the page below says why; nothing is saved
    if request.method == "POST" and not closed:
        form = _ballot_form(process, projects, request.POST)
        chosen = _posted_choices(form)
        status = 400
        problem = _ballot_problem(process, area, projects, chosen) if form.is_valid() else ""
        if problem:
            form.add_error(None, problem)
        elif form.is_valid():
            try:
                with transaction.atomic():  # a refused change leaves nothing half-written
                    services.cast_ballot(
                        process=process,
                        voter=user,
                        area=area,
                        choices=form.choices(),
                        census_code=form.cleaned_data.get("census_code") or None,
                    )
            except DomainError as exc:
                status = _form_error(form, exc)
            else:
                # the page shows the confirmation with the choices (#confirmation), no flash message
                return redirect(_process_url(process, "ballot") + f"?area={area.pk}&saved=1#confirmation")
    else:
        form = _ballot_form(process, projects)
        chosen = current
    saved = request.GET.get("saved") == "1" and bool(current)
    kind_ranks = process.ballot_kind == BallotKind.RANKING  # list the current ballot in ranked order
    ctx = {
        "process": process,
        "area": area,
        "areas": areas,
        "form": form,
        "kind": process.ballot_kind,
        "bar": _bar(process, area, projects, chosen),
        "current": [
            (p, money(p.cost, process.currency), current[p.pk])
            for p in sorted(projects, key=lambda p: current.get(p.pk, 0) if kind_ranks else 0)
            if p.pk in current
        ],
        "saved": saved,
        "closed": closed,
        "not_eligible": "" if closed else _not_eligible(process, user),
        **_ballot_rows(process, projects, chosen, _slots(process, projects)),
    }
    return _render(request, "budgeting/ballot.html", ctx, status=status)
