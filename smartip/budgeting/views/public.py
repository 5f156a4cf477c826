"""The public pages: the list of processes, a process, proposals, delivery of funded projects."""

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartip.budgeting import services
from smartip.budgeting.forms import (
    CommentForm,
    MilestoneForm,
    ProposalForm,
)
from smartip.budgeting.models import (
    Milestone,
    Phase,
    Process,
    Project,
    Proposal,
    ProposalComment,
    ProposalPhoto,
)
from smartip.budgeting.views.common import (
    PUBLIC_RESULTS,
    _areas,
    _form_error,
    _get_process,
    _is_htmx,
    _phases,
    _process_url,
    _render,
    _require_manager,
    money,
)
from smartip.core.errors import DomainError


def process_list(request: HttpRequest) -> HttpResponse:
    city = getattr(request, "city", None)
    if city is None:
        raise Http404(_("No city is set up yet."))
    qs = Process.objects.for_city(city).select_related("city").prefetch_related("areas")
    manager = services.can_manage(request.user, Process(city=city))
    if not manager:
        qs = qs.public()
    rows = [(p, money(p.total_budget, p.currency)) for p in qs]
    return _render(request, "budgeting/list.html", {"rows": rows, "city": city, "can_create": manager})


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
        "project_photos": _project_photos(process),
    }
    return _render(request, "budgeting/detail.html", ctx)


def _project_photos(process: Process) -> list[tuple[Project, list[ProposalPhoto]]]:
    """Projects that came from a citizen's proposal, with that proposal's photos (those that have any)."""
    photos = Prefetch("proposal__photos", queryset=ProposalPhoto.objects.order_by("id"))
    projects = (
        process.projects.filter(proposal__photos__isnull=False)
        .distinct()
        .select_related("proposal")
        .prefetch_related(photos)
        .order_by("id")
    )
    return [(p, list(p.proposal.photos.all())) for p in projects]  # type: ignore[union-attr]


# --- proposals --------------------------------------------------------------------------------------------


def _proposal_rows(
    request: HttpRequest, process: Process, failed: CommentForm | None = None
) -> list[dict[str, Any]]:
    """Each proposal with its visible comments and photos; a comment form where the visitor may comment
    (or the refused one, bound, with its errors)."""
    comments = Prefetch("comments", queryset=ProposalComment.objects.visible())
    qs = (
        process.proposals.exclude(status__in=[Proposal.Status.WITHDRAWN])
        .select_related("area")
        .prefetch_related(comments, "photos")
        .annotate(n_support=Count("supporters", distinct=True))
    )
    mine: set[int] = set()
    if request.user.is_authenticated:
        mine = set(
            Proposal.supporters.through.objects.filter(
                proposal__process=process, user_id=request.user.pk
            ).values_list("proposal_id", flat=True)
        )
    commenting = services.can_comment(request.user, process)

    def comment_form(p: Proposal) -> CommentForm | None:
        if failed is not None and failed.prefix == f"c{p.pk}":
            return failed
        return CommentForm(prefix=f"c{p.pk}") if commenting else None

    return [
        {
            "proposal": p,
            "cost": money(p.official_cost or p.estimated_cost, process.currency),
            "supported": p.pk in mine,
            "comments": list(p.comments.all()),
            "photos": list(p.photos.all()),
            "comment_form": comment_form(p),
        }
        for p in qs
    ]


def _proposals_ctx(
    request: HttpRequest, process: Process, failed: CommentForm | None = None
) -> dict[str, Any]:
    return {
        "process": process,
        "rows": _proposal_rows(request, process, failed),
        "open": process.phase == Phase.PROPOSALS,
        "comments_open": process.phase in services.COMMENT_PHASES,
        "manager": services.can_manage(request.user, process),
    }


def proposals(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _get_process(request, city, slug)
    return _render(request, "budgeting/proposals.html", _proposals_ctx(request, process))


@login_required
def proposal_new(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _get_process(request, city, slug)
    areas = _areas(process)
    form = ProposalForm(request.POST or None, request.FILES or None, areas=areas)
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
                        photos=data["photos"],
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
        return _render(request, "budgeting/proposals.html", _proposals_ctx(request, process), status=status)
    return redirect(_process_url(process, "proposals") + f"#proposal-{proposal.pk}")


def _proposal_of(process: Process, pk: int) -> Proposal:
    proposal = process.proposals.exclude(status=Proposal.Status.WITHDRAWN).filter(pk=pk).first()
    if proposal is None:
        raise Http404(_("No such proposal."))
    return proposal


@login_required
@require_POST
def comment(request: HttpRequest, city: str, slug: str, pk: int) -> HttpResponse:
    """Post a comment: back to the proposal on success, or the page again with the error next to the field."""
    process = _get_process(request, city, slug)
    proposal = _proposal_of(process, pk)
    form = CommentForm(request.POST, prefix=f"c{proposal.pk}")
    status = 400
    if form.is_valid():
        try:
            with transaction.atomic():  # a refused change leaves nothing half-written
                services.comment_on_proposal(
                    proposal=proposal, user=request.user, text=form.cleaned_data["text"]
                )
        except DomainError as exc:
            status = _form_error(form, exc)
        else:
            messages.success(request, _("Thank you. Your comment is published."))
            if _is_htmx(request):
                return _render(request, "budgeting/proposals.html", _proposals_ctx(request, process))
            return redirect(_process_url(process, "proposals") + f"#comments-{proposal.pk}")
    ctx = _proposals_ctx(request, process, failed=form)
    return _render(request, "budgeting/proposals.html", ctx, status=status)


@login_required
@require_POST
def comment_hide(request: HttpRequest, city: str, slug: str, pk: int, comment_pk: int) -> HttpResponse:
    process = _get_process(request, city, slug)
    proposal = _proposal_of(process, pk)
    target = proposal.comments.filter(pk=comment_pk).first()
    if target is None:
        raise Http404(_("No such comment."))
    try:
        with transaction.atomic():
            services.hide_comment(comment=target, by=request.user)
    except DomainError as exc:
        raise PermissionDenied(exc.message) from None
    messages.success(request, _("The comment is hidden."))
    if _is_htmx(request):
        return _render(request, "budgeting/proposals.html", _proposals_ctx(request, process))
    return redirect(_process_url(process, "proposals") + f"#comments-{proposal.pk}")


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
    project = process.projects.filter(pk=pk, is_funded=True).first()
    if project is None:  # only funded projects are delivered, followed and given milestones
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
