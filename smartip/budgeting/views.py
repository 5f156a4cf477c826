"""Participatory-budgeting pages. Each view parses a form, calls one service and renders; htmx requests
(HX-Request) get the page's `_partial.html`, everything else the whole page, and every form also works as a
plain POST without JavaScript. Domain errors become form errors on the named field, with the error's 4xx status.

Reads that no service offers (the page lists, vote tallies, explanation sentences) are small private helpers
here; every change goes through `smartip.budgeting.services`.
"""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Prefetch, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartip.budgeting import services
from smartip.budgeting.forms import (
    AssistedBallotForm,
    BallotForm,
    CensusForm,
    CountForm,
    MergeForm,
    MilestoneForm,
    PhaseForm,
    ProposalForm,
    ReviewForm,
)
from smartip.budgeting.models import (
    PHASE_ORDER,
    Ballot,
    BallotEntry,
    BallotKind,
    BudgetArea,
    Milestone,
    Outcome,
    Phase,
    Process,
    Project,
    Proposal,
    ProposalComment,
    Verification,
)
from smartip.core.errors import DomainError

COMPARED_RULES = ("greedy", "mes-add1-greedy", "phragmen")
PUBLIC_RESULTS = (Phase.RESULTS, Phase.DELIVERY)
SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}


# --- helpers ----------------------------------------------------------------------------------------------


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


def _render(
    request: HttpRequest, page: str, ctx: dict[str, Any], status: int = 200, partial: str | None = None
) -> HttpResponse:
    """The whole page, or (for htmx) `budgeting/_<page>.html`."""
    name = partial or page.replace("budgeting/", "budgeting/_")
    htmx = _is_htmx(request)
    response = render(request, name if htmx else page, {**ctx, "is_htmx": htmx}, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _form_error(form: forms.Form, exc: DomainError) -> int:
    """Attach a service error to the field it names (or to the whole form) and return its HTTP status."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)
    return exc.status


def money(amount: Decimal | float | int | None, currency: str) -> str:
    """`€1,250` in the active language's number format (cents only when there are any)."""
    if amount is None:
        return ""
    value = Decimal(str(amount))
    places = 0 if value == value.to_integral_value() else 2
    number = formats.number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def _get_process(request: HttpRequest, city: str, slug: str) -> Process:
    try:
        process = services.get_process(city, slug)
    except DomainError:
        raise Http404(_("No such budgeting process.")) from None
    if process.phase == Phase.DRAFT and not services.can_manage(request.user, process):
        raise Http404(_("No such budgeting process."))
    return process


def _require_manager(request: HttpRequest, process: Process) -> None:
    if not services.can_manage(request.user, process):
        raise PermissionDenied(_("Only this city's process managers may do this."))


def _process_url(process: Process, name: str = "detail") -> str:
    return reverse(f"budgeting:{name}", args=[process.city.slug, process.slug])


def _phases(process: Process) -> list[dict[str, Any]]:
    dates = {
        Phase.PROPOSALS: process.proposals_open,
        Phase.REVIEW: process.review_open,
        Phase.VOTING: process.voting_open,
        Phase.RESULTS: process.results_on,
    }
    current = PHASE_ORDER.index(process.phase)
    return [
        {
            "value": value,
            "label": Phase(value).label,
            "date": dates.get(Phase(value)),
            "until": process.voting_close if value == Phase.VOTING else None,
            "current": i == current,
            "past": i < current,
        }
        for i, value in enumerate(PHASE_ORDER)
        if value != Phase.DRAFT
    ]


def _areas(process: Process) -> list[BudgetArea]:
    return list(process.areas.all())


def _area_from(request: HttpRequest, areas: list[BudgetArea]) -> BudgetArea:
    wanted = request.POST.get("area") or request.GET.get("area")
    for area in areas:
        if str(area.pk) == wanted:
            return area
    if not areas:
        raise Http404(_("This process has no budget yet."))
    return areas[0]


# --- list and process page --------------------------------------------------------------------------------


def process_list(request: HttpRequest) -> HttpResponse:
    city = getattr(request, "city", None)
    if city is None:
        raise Http404(_("No city is set up yet."))
    qs = Process.objects.for_city(city).select_related("city").prefetch_related("areas")
    if not services.can_manage(request.user, Process(city=city)):
        qs = qs.public()
    rows = [(p, money(p.total_budget, p.currency)) for p in qs]
    return _render(request, "budgeting/list.html", {"rows": rows, "city": city})


def _actions(request: HttpRequest, process: Process) -> list[tuple[str, str, str]]:
    """What the visitor can do now: (url, label, help)."""
    out = []
    if process.phase == Phase.PROPOSALS:
        out.append(
            (
                _process_url(process, "proposal_new"),
                _("Propose a project"),
                _("Say what the money should do."),
            )
        )
        out.append(
            (_process_url(process, "proposals"), _("Support proposals"), _("Back the ideas you like."))
        )
    elif process.phase == Phase.REVIEW:
        out.append(
            (_process_url(process, "proposals"), _("See the proposals"), _("The city is checking them now."))
        )
    elif process.phase == Phase.VOTING:
        out.append((_process_url(process, "ballot"), _("Vote"), _("Choose the projects you want funded.")))
    if process.phase in PUBLIC_RESULTS or services.can_manage(request.user, process):
        out.append((_process_url(process, "results"), _("See the results"), _("What was funded, and why.")))
    if process.phase in PUBLIC_RESULTS:
        out.append(
            (_process_url(process, "delivery"), _("Follow delivery"), _("Progress of the funded projects."))
        )
    return out


def process_detail(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _get_process(request, city, slug)
    areas = _areas(process)
    ctx = {
        "process": process,
        "phases": _phases(process),
        "areas": [(a, money(a.budget, process.currency)) for a in areas],
        "total": money(sum((a.budget for a in areas), Decimal(0)), process.currency),
        "actions": _actions(request, process),
        "can_manage": services.can_manage(request.user, process),
    }
    return _render(request, "budgeting/detail.html", ctx)


# --- proposals --------------------------------------------------------------------------------------------


def _proposal_rows(request: HttpRequest, process: Process) -> list[dict[str, Any]]:
    comments = Prefetch("comments", queryset=ProposalComment.objects.filter(is_hidden=False))
    qs = (
        process.proposals.exclude(status__in=[Proposal.Status.WITHDRAWN])
        .select_related("area")
        .prefetch_related(comments)
        .annotate(n_support=Count("supporters", distinct=True))
    )
    mine: set[int] = set()
    if request.user.is_authenticated:
        mine = set(
            Proposal.supporters.through.objects.filter(
                proposal__process=process, user_id=request.user.pk
            ).values_list("proposal_id", flat=True)
        )
    return [
        {
            "proposal": p,
            "cost": money(p.official_cost or p.estimated_cost, process.currency),
            "supported": p.pk in mine,
            "comments": list(p.comments.all()),
        }
        for p in qs
    ]


def proposals(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _get_process(request, city, slug)
    ctx = {
        "process": process,
        "rows": _proposal_rows(request, process),
        "open": process.phase == Phase.PROPOSALS,
    }
    return _render(request, "budgeting/proposals.html", ctx)


@login_required
def proposal_new(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _get_process(request, city, slug)
    areas = _areas(process)
    form = ProposalForm(request.POST or None, areas=areas)
    status = 200
    if process.phase != Phase.PROPOSALS:
        form.add_error(None, _("Proposals are not open in this process."))
        status = 403
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():  # a refused change leaves nothing half-written
                    services.submit_proposal(
                        process=process,
                        author=request.user,
                        area=form.areas[data["area"]],
                        title=data["title"],
                        description=data["description"],
                        estimated_cost=data["estimated_cost"],
                        category=data["category"],
                        lat=data["lat"],
                        lon=data["lon"],
                    )
            except DomainError as exc:
                status = _form_error(form, exc)
            else:
                messages.success(request, _("Thank you. Your proposal has been submitted."))
                return redirect(_process_url(process, "proposals"))
    ctx = {"process": process, "form": form, "city": process.city}
    return render(request, "budgeting/proposal_new.html", ctx, status=status)


@login_required
@require_POST
def support(request: HttpRequest, city: str, slug: str, pk: int) -> HttpResponse:
    process = _get_process(request, city, slug)
    proposal = process.proposals.filter(pk=pk).first()
    if proposal is None:
        raise Http404(_("No such proposal."))
    try:
        with transaction.atomic():  # a refused change leaves nothing half-written
            services.support_proposal(proposal=proposal, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        status = exc.status
    else:
        messages.success(request, _("You support “%(title)s”.") % {"title": proposal.title})
        status = 200
    if _is_htmx(request):
        ctx = {
            "process": process,
            "rows": _proposal_rows(request, process),
            "open": process.phase == Phase.PROPOSALS,
        }
        return _render(request, "budgeting/proposals.html", ctx, status=status)
    return redirect(_process_url(process, "proposals") + f"#proposal-{proposal.pk}")


# --- ballot -----------------------------------------------------------------------------------------------


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
    if request.method == "POST":
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
                messages.success(request, _("Your vote is saved. You can change it until voting closes."))
                return redirect(_process_url(process, "ballot") + f"?area={area.pk}&saved=1#confirmation")
    else:
        form = _ballot_form(process, projects)
        chosen = current
    saved = request.GET.get("saved") == "1" and bool(current)
    ctx = {
        "process": process,
        "area": area,
        "areas": areas,
        "form": form,
        "kind": process.ballot_kind,
        "bar": _bar(process, area, projects, chosen),
        "current": [(p, money(p.cost, process.currency)) for p in projects if p.pk in current],
        "saved": saved,
        **_ballot_rows(process, projects, chosen, _slots(process, projects)),
    }
    return _render(request, "budgeting/ballot.html", ctx, status=status)


# --- results ----------------------------------------------------------------------------------------------


def rule_description(rule: str) -> str:
    """The human description of a counting rule (pabutools-compatible or a city's official rule)."""
    from smartip.budgeting.rules import RULES
    from smartip.budgeting.rules.official import OFFICIAL_RULES

    if rule in RULES:
        return RULES[rule].description
    return OFFICIAL_RULES.get(rule.removeprefix("official:"), "")


def explain(note: dict[str, Any] | None, currency: str, rule: str = "") -> str:
    """One sentence saying why a project was or was not funded, from an Outcome.details["projects"] entry
    (`rule`: the counted rule, to tell a greedy completion after Equal Shares from plain greedy)."""
    completion = "mes" in rule or "equalshares" in rule
    if not note:
        return _("Not funded: the counting stopped before this project was reached.")

    found: dict[str, Any] = note

    def m(key: str) -> str:
        return money(found.get(key), currency)

    selected, stage = bool(note.get("selected")), note.get("stage", "")
    ctx = {
        "cost": m("cost"),
        "available": m("available"),
        "short": m("shortfall"),
        "step": (note.get("step") or 0) + 1,
    }
    if "supporters_money" in note or "budget_left" in note:  # a city's official rule
        ctx.update(available=m("supporters_money") or m("budget_left"))
        if "supporters_money" in note:
            stage = "mes" if selected else ""
            note = {
                **note,
                "shortfall": max(0.0, float(note.get("cost", 0)) - float(note["supporters_money"])),
            }
            ctx["short"] = m("shortfall")
        else:
            stage = "greedy" if selected else "greedy-skip"
    if stage == "zero-cost":
        return _("Funded: it costs nothing.")
    if selected and stage == "mes":
        return (
            _(
                "Funded in round %(step)s: its supporters could still pay %(available)s, "
                "enough for its cost of %(cost)s."
            )
            % ctx
        )
    if selected and stage == "phragmen":
        return _("Funded in round %(step)s of Phragmén's method; it cost %(cost)s.") % ctx
    if selected and stage == "knapsack":
        return _("Funded: part of the set of projects with the most support per money spent.") % ctx
    if selected and stage == "greedy" and completion:
        return (
            _(
                "Funded in the completion step (by votes): %(available)s of the budget was still unspent; "
                "it cost %(cost)s."
            )
            % ctx
        )
    if selected:
        return (
            _("Funded: %(available)s of the budget was left when it was considered; it cost %(cost)s.") % ctx
        )
    if "shortfall" in note:
        return (
            _(
                "Not funded: its supporters could pay only %(available)s of the %(cost)s it needed "
                "(%(short)s short)."
            )
            % ctx
        )
    if "available" in note or stage == "greedy-skip":
        return (
            _(
                "Not funded: only %(available)s of the budget was left when it was considered; it needed %(cost)s."
            )
            % ctx
        )
    return _("Not funded: the counting stopped before this project was reached.")


def _tallies(process: Process) -> dict[int, tuple[int, int]]:
    """Per project: (ballots that chose it, points given)."""
    rows = (
        BallotEntry.objects.filter(ballot__process=process)
        .values("project_id")
        .annotate(n=Count("id"), pts=Sum("points"))
    )
    return {r["project_id"]: (r["n"], r["pts"] or 0) for r in rows}


def _shown_outcome(outcomes: list[Outcome], rule: str) -> Outcome | None:
    """The official outcome, else the process rule's, else the newest."""
    for outcome in outcomes:
        if outcome.is_official:
            return outcome
    for outcome in outcomes:
        if outcome.rule == rule:
            return outcome
    return outcomes[0] if outcomes else None


def _compare(
    request: HttpRequest,
    area: BudgetArea,
    shown: Outcome | None,
    outcomes: list[Outcome],
    titles: dict[str, str],
) -> list[dict[str, Any]]:
    """Staff view: what other rules fund, computing the missing outcomes (stored, not official)."""
    by_rule = {o.rule: o for o in outcomes}
    out = []
    base = set(shown.selected_codes) if shown else set()
    for rule in COMPARED_RULES:
        outcome, error = by_rule.get(rule), ""
        if outcome is None:
            try:
                with transaction.atomic():  # a refused change leaves nothing half-written
                    outcome = services.count_area(area=area, rule=rule, by=request.user)
            except DomainError as exc:
                error = exc.message
        codes = set(outcome.selected_codes) if outcome else set()
        out.append(
            {
                "rule": rule,
                "description": rule_description(rule),
                "error": error,
                "funded": [titles[c] for c in (outcome.selected_codes if outcome else []) if c in titles],
                "added": sorted(titles[c] for c in codes - base if c in titles),
                "dropped": sorted(titles[c] for c in base - codes if c in titles),
                "same": outcome is not None and codes == base,
                "cost": money(outcome.total_cost, area.process.currency) if outcome else "",
            }
        )
    return out


def _area_results(
    request: HttpRequest,
    process: Process,
    area: BudgetArea,
    outcomes: list[Outcome],
    tallies: dict[int, tuple[int, int]],
    manager: bool,
) -> dict[str, Any]:
    projects = list(area.projects.all())
    shown = _shown_outcome(outcomes, process.rule)
    funded = set(shown.selected_codes) if shown else set()
    notes = (shown.details or {}).get("projects", {}) if shown else {}
    most = max((tallies.get(p.pk, (0, 0))[0] for p in projects), default=0) or 1
    rows = []
    for p in sorted(projects, key=lambda p: (p.code not in funded, -tallies.get(p.pk, (0, 0))[0], p.pk)):
        votes, points = tallies.get(p.pk, (0, 0))
        rows.append(
            {
                "project": p,
                "cost": money(p.cost, process.currency),
                "funded": p.code in funded,
                "votes": votes,
                "points": points,
                "percent": round(votes * 100 / most),
                "why": explain(notes.get(p.code), process.currency, shown.rule) if shown else "",
            }
        )
    spent = sum((p.cost for p in projects if p.code in funded), Decimal(0))
    titles = {p.code: p.title for p in projects}
    counted = (shown.details or {}).get("counted_rule", shown.rule) if shown else ""
    return {
        "area": area,
        "outcome": shown,
        "rule": counted,
        "rule_description": rule_description(shown.rule if shown else "") or rule_description(counted),
        "rows": rows,
        "budget": money(area.budget, process.currency),
        "spent": money(spent, process.currency),
        "left": money(area.budget - spent, process.currency),
        "percent": min(100, int(spent * 100 / area.budget)) if area.budget else 0,
        "compare": _compare(request, area, shown, outcomes, titles) if manager else [],
        "points": process.ballot_kind == BallotKind.CUMULATIVE,
    }


def results(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _get_process(request, city, slug)
    manager = services.can_manage(request.user, process)
    if process.phase not in PUBLIC_RESULTS and not manager:
        raise PermissionDenied(_("The results are published when voting has closed."))
    areas = _areas(process)
    outcomes: dict[int, list[Outcome]] = defaultdict(list)
    for outcome in Outcome.objects.filter(area__process=process):
        outcomes[outcome.area_id].append(outcome)
    tallies = _tallies(process)
    blocks = [_area_results(request, process, a, outcomes[a.pk], tallies, manager) for a in areas]
    points = [
        {"lat": r["project"].lat, "lon": r["project"].lon, "title": r["project"].title, "funded": r["funded"]}
        for b in blocks
        for r in b["rows"]
        if r["project"].lat is not None and r["project"].lon is not None
    ]
    ctx = {"process": process, "blocks": blocks, "map_points": points, "manager": manager}
    return _render(request, "budgeting/results.html", ctx)


# --- delivery ---------------------------------------------------------------------------------------------


def _delivery_rows(
    request: HttpRequest, process: Process, manager: bool, failed: MilestoneForm | None = None
) -> list[dict[str, Any]]:
    qs = process.projects.filter(is_funded=True).prefetch_related(
        Prefetch("milestones", queryset=Milestone.objects.order_by("due_on", "id"))
    )
    mine: set[int] = set()
    if request.user.is_authenticated:
        mine = set(
            Project.subscribers.through.objects.filter(
                project__process=process, user_id=request.user.pk
            ).values_list("project_id", flat=True)
        )
    return [
        {
            "project": p,
            "cost": money(p.cost, process.currency),
            "milestones": list(p.milestones.all()),
            "subscribed": p.pk in mine,
            "milestone_form": (
                failed
                if failed is not None and failed.prefix == f"ms{p.pk}"
                else MilestoneForm(prefix=f"ms{p.pk}")
            )
            if manager
            else None,
        }
        for p in qs
    ]


def _delivery_ctx(
    request: HttpRequest, process: Process, failed: MilestoneForm | None = None
) -> dict[str, Any]:
    manager = services.can_manage(request.user, process)
    return {"process": process, "rows": _delivery_rows(request, process, manager, failed), "manager": manager}


def delivery(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _get_process(request, city, slug)
    if process.phase not in PUBLIC_RESULTS and not services.can_manage(request.user, process):
        raise PermissionDenied(_("Delivery is followed once the results are published."))
    return _render(request, "budgeting/delivery.html", _delivery_ctx(request, process))


def _funded_project(process: Process, pk: int) -> Project:
    project = process.projects.filter(pk=pk).first()
    if project is None:
        raise Http404(_("No such project."))
    return project


@login_required
@require_POST
def subscribe(request: HttpRequest, city: str, slug: str, pk: int) -> HttpResponse:
    process = _get_process(request, city, slug)
    project = _funded_project(process, pk)
    on = request.POST.get("on") != "0"
    services.subscribe(project=project, user=request.user, on=on)
    if on:
        messages.success(
            request, _("You will get an email when “%(title)s” moves on.") % {"title": project.title}
        )
    else:
        messages.success(request, _("You no longer follow “%(title)s”.") % {"title": project.title})
    if _is_htmx(request):
        return _render(request, "budgeting/delivery.html", _delivery_ctx(request, process))
    return redirect(_process_url(process, "delivery") + f"#project-{project.pk}")


@login_required
@require_POST
def milestone(request: HttpRequest, city: str, slug: str, pk: int) -> HttpResponse:
    process = _get_process(request, city, slug)
    _require_manager(request, process)
    project = _funded_project(process, pk)
    form = MilestoneForm(request.POST, prefix=f"ms{project.pk}")
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():  # a refused change leaves nothing half-written
                services.add_milestone(project=project, by=request.user, **data)
        except DomainError as exc:
            status = _form_error(form, exc)
        else:
            messages.success(request, _("Milestone added; followers are told by email."))
            return redirect(_process_url(process, "delivery") + f"#project-{project.pk}")
    ctx = _delivery_ctx(request, process, failed=form)
    return _render(request, "budgeting/delivery.html", ctx, status=status)


# --- staff ------------------------------------------------------------------------------------------------


def _rule_choices() -> list[tuple[str, str]]:
    from smartip.budgeting.counting import all_rule_names

    return [
        (name, f"{name} — {rule_description(name)}" if rule_description(name) else name)
        for name in all_rule_names()
    ]


def _manage_ctx(request: HttpRequest, process: Process, **forms_in: Any) -> dict[str, Any]:
    """The staff page; `forms_in` replaces one default form by a bound one carrying errors."""
    areas = _areas(process)
    queue = list(
        process.proposals.filter(status__in=[Proposal.Status.SUBMITTED, Proposal.Status.FEASIBLE])
        .select_related("area")
        .annotate(n_support=Count("supporters", distinct=True))
        .order_by("created_at", "id")
    )
    reviewing = process.phase in (Phase.PROPOSALS, Phase.REVIEW)
    review_rows = []
    for p in queue:
        review = forms_in.get(f"review_{p.pk}") or ReviewForm(
            prefix=f"r{p.pk}", initial={"feasible": "yes" if p.status == Proposal.Status.FEASIBLE else None}
        )
        merge = forms_in.get(f"merge_{p.pk}") or MergeForm(prefix=f"m{p.pk}", proposals=queue, exclude=p.pk)
        review_rows.append(
            {
                "proposal": p,
                "cost": money(p.official_cost or p.estimated_cost, process.currency),
                "review": review,
                "merge": merge,
            }
        )
    assisted = None
    assisted_area = _area_from(request, areas) if areas else None
    if process.phase == Phase.VOTING and assisted_area is not None:
        projects = list(assisted_area.projects.order_by("id"))
        assisted = forms_in.get("assisted") or AssistedBallotForm(
            prefix="assisted", kind=process.ballot_kind, projects=projects, slots=_slots(process, projects)
        )
    return {
        "process": process,
        "areas": areas,
        "phases": _phases(process),
        "phase_form": forms_in.get("phase") or PhaseForm(initial={"phase": process.phase}),
        "review_rows": review_rows,
        "reviewing": reviewing,
        "assisted": assisted,
        "assisted_area": assisted_area,
        "census_form": forms_in.get("census") or CensusForm(),
        "census_size": process.census.count(),
        "census_claimed": process.census.filter(claimed=True).count(),
        "n_ballots": process.ballots.count(),
        "n_assisted": process.ballots.filter(channel=Ballot.Channel.ASSISTED).count(),
        "count_form": forms_in.get("count")
        or CountForm(rules=_rule_choices(), areas=areas, initial={"rule": process.rule}),
        "export_url": f"/api/budgeting/processes/{process.pk}/export.pb",
    }


def _manage_response(request: HttpRequest, process: Process, status: int, **forms_in: Any) -> HttpResponse:
    return _render(request, "budgeting/manage.html", _manage_ctx(request, process, **forms_in), status=status)


def _staff_process(request: HttpRequest, city: str, slug: str) -> Process:
    process = _get_process(request, city, slug)
    _require_manager(request, process)
    return process


def _done(request: HttpRequest, process: Process, text: str, anchor: str = "") -> HttpResponse:
    messages.success(request, text)
    if _is_htmx(request):
        return _manage_response(request, process, 200)
    return redirect(_process_url(process, "manage") + anchor)


@login_required
def manage(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _staff_process(request, city, slug)
    return _manage_response(request, process, 200)


@login_required
@require_POST
def manage_phase(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _staff_process(request, city, slug)
    form = PhaseForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            with transaction.atomic():  # a refused change leaves nothing half-written
                if form.cleaned_data["phase"] == Phase.RESULTS and process.phase == Phase.VOTING:
                    services.publish_results(process=process, by=request.user)
                else:
                    services.set_phase(process=process, by=request.user, phase=form.cleaned_data["phase"])
        except DomainError as exc:
            status = _form_error(form, exc)
        else:
            label = Phase(process.phase).label
            return _done(
                request, process, _("The process is now in the phase “%(phase)s”.") % {"phase": label}
            )
    return _manage_response(request, process, status, phase=form)


def _queued(process: Process, pk: int) -> Proposal:
    proposal = process.proposals.select_related("area", "process").filter(pk=pk).first()
    if proposal is None:
        raise Http404(_("No such proposal."))
    return proposal


@login_required
@require_POST
def manage_review(request: HttpRequest, city: str, slug: str, pk: int) -> HttpResponse:
    process = _staff_process(request, city, slug)
    proposal = _queued(process, pk)
    form = ReviewForm(request.POST, prefix=f"r{pk}")
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():  # a refused change leaves nothing half-written
                services.review_proposal(
                    proposal=proposal,
                    by=request.user,
                    feasible=data["feasible"],
                    reason=data["reason"],
                    official_cost=data["official_cost"],
                )
        except DomainError as exc:
            status = _form_error(form, exc)
        else:
            return _done(
                request, process, _("Review of “%(title)s” saved.") % {"title": proposal.title}, "#review"
            )
    return _manage_response(request, process, status, **{f"review_{pk}": form})


@login_required
@require_POST
def manage_merge(request: HttpRequest, city: str, slug: str, pk: int) -> HttpResponse:
    process = _staff_process(request, city, slug)
    duplicate = _queued(process, pk)
    form = MergeForm(request.POST, prefix=f"m{pk}", proposals=list(process.proposals.all()), exclude=pk)
    status = 400
    if form.is_valid():
        into = _queued(process, form.cleaned_data["into"])
        try:
            with transaction.atomic():  # a refused change leaves nothing half-written
                services.merge_proposals(duplicate=duplicate, into=into, by=request.user)
        except DomainError as exc:
            status = _form_error(form, exc)
        else:
            text = _("“%(dup)s” merged into “%(into)s”.") % {"dup": duplicate.title, "into": into.title}
            return _done(request, process, text, "#review")
    return _manage_response(request, process, status, **{f"merge_{pk}": form})


@login_required
@require_POST
def manage_assisted(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _staff_process(request, city, slug)
    area = _area_from(request, _areas(process))
    projects = list(area.projects.order_by("id"))
    form = AssistedBallotForm(
        request.POST,
        prefix="assisted",
        kind=process.ballot_kind,
        projects=projects,
        slots=_slots(process, projects),
    )
    status = 400
    if form.is_valid():
        try:
            with transaction.atomic():  # a refused change leaves nothing half-written
                services.cast_assisted_ballot(
                    process=process,
                    staff=request.user,
                    area=area,
                    census_code=form.cleaned_data["census_code"],
                    choices=form.choices(),
                )
        except DomainError as exc:
            status = _form_error(form, exc)
        else:
            return _done(
                request, process, _("The paper ballot is saved and marked as assisted."), "#assisted"
            )
    return _manage_response(request, process, status, assisted=form)


@login_required
@require_POST
def manage_census(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _staff_process(request, city, slug)
    form = CensusForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            with transaction.atomic():  # a refused change leaves nothing half-written
                n = services.add_census(process=process, by=request.user, codes=form.code_rows())
        except DomainError as exc:
            status = _form_error(form, exc)
        else:
            return _done(request, process, _("%(n)d census codes loaded.") % {"n": n}, "#census")
    return _manage_response(request, process, status, census=form)


@login_required
@require_POST
def manage_count(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _staff_process(request, city, slug)
    areas = _areas(process)
    form = CountForm(request.POST, rules=_rule_choices(), areas=areas)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        area = next(a for a in areas if a.pk == data["area"])
        try:
            with transaction.atomic():  # a refused change leaves nothing half-written
                outcome = services.count_area(
                    area=area, rule=data["rule"], by=request.user, official=data["official"]
                )
        except DomainError as exc:
            status = _form_error(form, exc)
        else:
            text = _("Counted %(area)s with %(rule)s: %(n)d projects funded.") % {
                "area": area.name,
                "rule": data["rule"],
                "n": len(outcome.selected_codes),
            }
            messages.success(request, text)
            return redirect(_process_url(process, "results"))
    return _manage_response(request, process, status, count=form)
