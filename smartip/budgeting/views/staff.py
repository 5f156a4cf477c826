"""Process managers' page: phase, review queue and merges, assisted ballots, census, counting, export."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from smartip.budgeting import services
from smartip.budgeting.forms import (
    AreaForm,
    AssistedBallotForm,
    CensusForm,
    CountForm,
    MergeForm,
    PhaseForm,
    ReviewForm,
)
from smartip.budgeting.models import (
    Ballot,
    BudgetArea,
    Phase,
    Process,
    Project,
    Proposal,
)
from smartip.budgeting.process_admin import voting_has_opened
from smartip.budgeting.views.ballot import _slots
from smartip.budgeting.views.common import (
    _area_from,
    _areas,
    _form_error,
    _get_process,
    _is_htmx,
    _phases,
    _process_url,
    _render,
    _require_manager,
    city_districts,
    money,
)
from smartip.budgeting.views.results import rule_description
from smartip.core.errors import DomainError


def _rule_choices() -> list[tuple[str, str]]:
    from smartip.budgeting.counting import all_rule_names

    return [
        (name, f"{name} — {rule_description(name)}" if rule_description(name) else name)
        for name in all_rule_names()
    ]


def _area_rows(process: Process, frozen: bool, forms_in: dict[str, Any]) -> dict[str, Any]:
    """The budgets section: each budget with its edit form (none once voting has opened), and an add form."""
    districts = [] if frozen else city_districts(process.city)
    areas = process.areas.select_related("district").annotate(
        in_use=Exists(Proposal.objects.filter(area=OuterRef("pk")))
        | Exists(Project.objects.filter(area=OuterRef("pk")))
    )
    rows = []
    for area in areas:
        form = None
        if not frozen:
            form = forms_in.get(f"area_{area.pk}") or AreaForm(
                prefix=f"a{area.pk}", districts=districts, initial=_area_initial(area)
            )
        rows.append({"area": area, "budget": money(area.budget, process.currency), "form": form})
    new = None if frozen else forms_in.get("area_new") or AreaForm(prefix="area", districts=districts)
    return {"area_rows": rows, "area_form": new, "areas_frozen": frozen}


def _area_initial(area: BudgetArea) -> dict[str, Any]:
    return {"name": area.name, "budget": area.budget, "district": area.district_id, "category": area.category}


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
        "export_links": [(a, f"/api/budgeting/processes/{process.pk}/export.pb?area={a.pk}") for a in areas],
        "total_budget": money(sum((a.budget for a in areas), 0), process.currency),
        **_area_rows(process, voting_has_opened(process), forms_in),
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
                n = services.add_census(process=process, by=request.user, codes=form.code_rows(process))
        except DomainError as exc:
            status = _form_error(form, exc)
        else:
            return _done(
                request,
                process,
                ngettext("%(n)d census code loaded.", "%(n)d census codes loaded.", n) % {"n": n},
                "#census",
            )
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
            funded = len(outcome.selected_codes)
            text = ngettext(
                "Counted %(area)s with %(rule)s: %(n)d project funded.",
                "Counted %(area)s with %(rule)s: %(n)d projects funded.",
                funded,
            ) % {"area": area.name, "rule": data["rule"], "n": funded}
            messages.success(request, text)
            return redirect(_process_url(process, "results"))
    return _manage_response(request, process, status, count=form)


@login_required
def manage_audit(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    """The process audit trail, newest first, 50 rows a page: for the people who run the process."""
    process = _staff_process(request, city, slug)
    rows = services.process_audit(process=process, by=request.user)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return _render(request, "budgeting/audit.html", {"process": process, "page": page})
