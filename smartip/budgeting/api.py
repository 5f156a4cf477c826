"""The PB JSON API: the same services and permissions as the pages."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Router, Status, UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from smartip.accounts.auth import REQUIRED
from smartip.accounts.models import User
from smartip.budgeting import services
from smartip.budgeting.census import CensusRow
from smartip.budgeting.census import resolve as resolve_census
from smartip.budgeting.io import export_area, export_pabulib
from smartip.budgeting.models import (
    BudgetArea,
    Milestone,
    Outcome,
    Phase,
    Process,
    Project,
    Proposal,
    ProposalComment,
    ProposalPhoto,
)
from smartip.budgeting.process_admin import district_in
from smartip.budgeting.schemas import (
    AreaIn,
    AreaOut,
    AreaPatch,
    AssistedBallotIn,
    AuditOut,
    BallotIn,
    BallotOut,
    CensusIn,
    Choice,
    CommentIn,
    CommentOut,
    MergeIn,
    MilestoneIn,
    MilestoneOut,
    OutcomeOut,
    PhaseIn,
    PhotoOut,
    ProcessIn,
    ProcessOut,
    ProcessPatch,
    ProjectOut,
    ProposalIn,
    ProposalOut,
    ReviewIn,
)
from smartip.cities.models import City
from smartip.core.errors import Forbidden, Invalid, NotFound, gettext_noop

router = Router(tags=["budgeting"])
PUBLIC_RESULTS = (Phase.RESULTS, Phase.DELIVERY)


def _process(request: HttpRequest, process_id: int) -> Process:
    process = Process.objects.select_related("city").filter(pk=process_id).first()
    if process is None or (process.phase == Phase.DRAFT and not services.can_manage(request.user, process)):
        raise NotFound(gettext_noop("no such process"), field="process_id")
    return process


def _area(process: Process, area_id: int) -> BudgetArea:
    area = process.areas.filter(pk=area_id).first()
    if area is None:
        raise Invalid(gettext_noop("no such budget in this process"), field="area_id")
    return area


def process_out(p: Process) -> ProcessOut:
    return ProcessOut(
        id=p.pk,
        city=p.city.slug,
        slug=p.slug,
        title=p.title,
        description=p.description,
        phase=p.phase,
        ballot_kind=p.ballot_kind,
        min_projects=p.min_projects,
        max_projects=p.max_projects,
        total_points=p.total_points,
        max_points_per_project=p.max_points_per_project,
        rule=p.rule,
        verification=p.verification,
        currency=p.currency,
        district_id=p.district_id,
        min_age=p.min_age,
        proposals_open=p.proposals_open,
        review_open=p.review_open,
        voting_open=p.voting_open,
        voting_close=p.voting_close,
        results_on=p.results_on,
        areas=[_area_out(a) for a in p.areas.all()],
    )


def _area_out(a: BudgetArea) -> AreaOut:
    return AreaOut(id=a.pk, name=a.name, budget=a.budget, category=a.category, district_id=a.district_id)


def _proposal_out(p: Proposal) -> ProposalOut:
    return ProposalOut(
        id=p.pk,
        area_id=p.area_id,
        title=p.title,
        description=p.description,
        category=p.category,
        lat=p.lat,
        lon=p.lon,
        estimated_cost=p.estimated_cost,
        status=p.status,
        review_reason=p.review_reason,
        official_cost=p.official_cost,
        supporters=p.n_supporters if hasattr(p, "n_supporters") else p.supporters.count(),
        comments=p.n_comments if hasattr(p, "n_comments") else p.comments.visible().count(),
        photos=[_photo_out(ph) for ph in p.photos.all()],
    )


def _photo_out(photo: ProposalPhoto) -> PhotoOut:
    return PhotoOut(
        id=photo.pk,
        url=photo.image.url,
        thumbnail_url=photo.thumbnail.url,
        width=photo.width,
        height=photo.height,
    )


def _comment_out(c: ProposalComment) -> CommentOut:
    return CommentOut(
        id=c.pk, proposal_id=c.proposal_id, text=c.text, created_at=c.created_at, is_hidden=c.is_hidden
    )


@router.get("/processes", response=list[ProcessOut])
def list_processes(request: HttpRequest, city: str | None = None) -> list[ProcessOut]:
    qs = Process.objects.public().select_related("city").prefetch_related("areas")
    if city:
        qs = qs.filter(city__slug=city)
    return [process_out(p) for p in qs]


@router.get("/processes/{process_id}", response=ProcessOut)
def process_detail(request: HttpRequest, process_id: int) -> ProcessOut:
    return process_out(_process(request, process_id))


def _settings(city: City, given: dict[str, Any]) -> dict[str, Any]:
    """Payload fields as service keywords: `district_id` becomes the city's district."""
    if "district_id" in given:
        given["district"] = district_in(city, given.pop("district_id"))
    return given


def create_from(payload: ProcessIn, by: User | None) -> Process:
    """Create the process and its budgets described by the API body (also `smartip pb create --file`).
    The caller owns the transaction: a refused budget must undo the process."""
    city = City.objects.filter(slug=payload.city).first()
    if city is None:
        raise NotFound(gettext_noop("no such city"), field="city")
    given = payload.model_dump(exclude_unset=True, exclude={"city", "title", "budget", "areas"})
    process = services.create_process(
        city=city, by=by, title=payload.title, budget=payload.budget, **_settings(city, given)
    )
    for area in payload.areas:
        _add_area(process, by, area)
    return process


@router.post("/processes", response={201: ProcessOut}, auth=REQUIRED)
def create_process(request: HttpRequest, payload: ProcessIn) -> Status[ProcessOut]:
    """A new process in the draft phase (the city's process managers); open proposals with .../phase."""
    return Status(201, process_out(create_from(payload, request.user)))


@router.patch("/processes/{process_id}", response=ProcessOut, auth=REQUIRED)
def update_process(request: HttpRequest, process_id: int, payload: ProcessPatch) -> ProcessOut:
    process = _process(request, process_id)
    changes = _settings(process.city, payload.model_dump(exclude_unset=True))
    return process_out(services.update_process(process=process, by=request.user, **changes))


def _add_area(process: Process, by: User | None, payload: AreaIn) -> BudgetArea:
    return services.add_area(
        process=process,
        by=by,
        name=payload.name,
        budget=payload.budget,
        district=district_in(process.city, payload.district_id),
        category=payload.category,
    )


@router.post("/processes/{process_id}/areas", response={201: AreaOut}, auth=REQUIRED)
def add_area(request: HttpRequest, process_id: int, payload: AreaIn) -> Status[AreaOut]:
    return Status(201, _area_out(_add_area(_process(request, process_id), request.user, payload)))


@router.patch("/processes/{process_id}/areas/{area_id}", response=AreaOut, auth=REQUIRED)
def update_area(request: HttpRequest, process_id: int, area_id: int, payload: AreaPatch) -> AreaOut:
    process = _process(request, process_id)
    changes = _settings(process.city, payload.model_dump(exclude_unset=True))
    area = services.update_area(area=_area(process, area_id), by=request.user, **changes)
    return _area_out(area)


@router.delete("/processes/{process_id}/areas/{area_id}", response={204: None}, auth=REQUIRED)
def remove_area(request: HttpRequest, process_id: int, area_id: int) -> Status[None]:
    process = _process(request, process_id)
    services.remove_area(area=_area(process, area_id), by=request.user)
    return Status(204, None)


@router.post("/processes/{process_id}/phase", response=ProcessOut, auth=REQUIRED)
def set_phase(request: HttpRequest, process_id: int, payload: PhaseIn) -> ProcessOut:
    """As on the manage page: voting → results publishes the results (every budget counted with the
    process's rule, official, its projects marked funded)."""
    process = _process(request, process_id)
    if payload.phase == Phase.RESULTS and process.phase == Phase.VOTING:
        services.publish_results(process=process, by=request.user)
    else:
        services.set_phase(process=process, by=request.user, phase=payload.phase)
    return process_out(process)


@router.get("/processes/{process_id}/proposals", response=list[ProposalOut])
@paginate(PageNumberPagination, page_size=50)
def list_proposals(request: HttpRequest, process_id: int, status: str | None = None) -> list[ProposalOut]:
    from django.db.models import Count, Q

    qs = (
        _process(request, process_id)
        .proposals.annotate(
            n_supporters=Count("supporters", distinct=True),
            n_comments=Count("comments", filter=Q(comments__is_hidden=False), distinct=True),
        )
        .prefetch_related("photos")
        .order_by("-id")
    )
    if status:
        qs = qs.filter(status=status)
    return [_proposal_out(p) for p in qs]


@router.post("/processes/{process_id}/proposals", response={201: ProposalOut}, auth=REQUIRED)
def submit_proposal(request: HttpRequest, process_id: int, payload: ProposalIn) -> Status[ProposalOut]:
    process = _process(request, process_id)
    proposal = services.submit_proposal(
        process=process,
        author=request.user,
        area=_area(process, payload.area_id),
        title=payload.title,
        description=payload.description,
        estimated_cost=payload.estimated_cost,
        category=payload.category,
        lat=payload.lat,
        lon=payload.lon,
    )
    return Status(201, _proposal_out(proposal))


def _proposal(request: HttpRequest, proposal_id: int) -> Proposal:
    proposal = Proposal.objects.select_related("process__city", "area").filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFound(gettext_noop("no such proposal"), field="proposal_id")
    _process(request, proposal.process_id)
    return proposal


def _process_proposal(request: HttpRequest, process_id: int, proposal_id: int) -> Proposal:
    process = _process(request, process_id)
    proposal = process.proposals.select_related("process__city").filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFound(gettext_noop("no such proposal"), field="proposal_id")
    return proposal


@router.post(
    "/processes/{process_id}/proposals/{proposal_id}/photos", response={201: list[PhotoOut]}, auth=REQUIRED
)
def add_photos(
    request: HttpRequest, process_id: int, proposal_id: int, photos: File[list[UploadedFile]]
) -> Status[list[PhotoOut]]:
    """Multipart: files named `photos` (JPEG, PNG or WebP; metadata is removed). The author, while proposals
    are open; a proposal has at most REPORT_MAX_PHOTOS photos."""
    proposal = _process_proposal(request, process_id, proposal_id)
    stored = services.add_proposal_photos(proposal=proposal, user=request.user, photos=photos)
    return Status(201, [_photo_out(p) for p in stored])


@router.get("/processes/{process_id}/proposals/{proposal_id}/comments", response=list[CommentOut])
@paginate(PageNumberPagination, page_size=50)
def list_comments(request: HttpRequest, process_id: int, proposal_id: int) -> list[CommentOut]:
    """The proposal's comments, oldest first; comments hidden by staff are left out."""
    proposal = _process_proposal(request, process_id, proposal_id)
    return [_comment_out(c) for c in proposal.comments.visible().order_by("created_at", "id")]


@router.post(
    "/processes/{process_id}/proposals/{proposal_id}/comments", response={201: CommentOut}, auth=REQUIRED
)
def add_comment(
    request: HttpRequest, process_id: int, proposal_id: int, payload: CommentIn
) -> Status[CommentOut]:
    """People of the process's city, while proposals are collected or reviewed."""
    proposal = _process_proposal(request, process_id, proposal_id)
    comment = services.comment_on_proposal(proposal=proposal, user=request.user, text=payload.text)
    return Status(201, _comment_out(comment))


@router.post(
    "/processes/{process_id}/proposals/{proposal_id}/comments/{comment_id}/hide",
    response=CommentOut,
    auth=REQUIRED,
)
def hide_comment(request: HttpRequest, process_id: int, proposal_id: int, comment_id: int) -> CommentOut:
    """The city's process managers hide a comment from the public."""
    proposal = _process_proposal(request, process_id, proposal_id)
    comment = proposal.comments.select_related("proposal__process__city").filter(pk=comment_id).first()
    if comment is None:
        raise NotFound(gettext_noop("no such comment"), field="comment_id")
    return _comment_out(services.hide_comment(comment=comment, by=request.user))


@router.post("/proposals/{proposal_id}/support", response=ProposalOut, auth=REQUIRED)
def support(request: HttpRequest, proposal_id: int) -> ProposalOut:
    return _proposal_out(
        services.support_proposal(proposal=_proposal(request, proposal_id), user=request.user)
    )


@router.post("/proposals/{proposal_id}/review", response=ProposalOut, auth=REQUIRED)
def review(request: HttpRequest, proposal_id: int, payload: ReviewIn) -> ProposalOut:
    proposal = services.review_proposal(
        proposal=_proposal(request, proposal_id),
        by=request.user,
        feasible=payload.feasible,
        reason=payload.reason,
        official_cost=payload.official_cost,
    )
    return _proposal_out(proposal)


@router.post("/proposals/{proposal_id}/merge", response=ProposalOut, auth=REQUIRED)
def merge(request: HttpRequest, proposal_id: int, payload: MergeIn) -> ProposalOut:
    duplicate = _proposal(request, proposal_id)
    into = _proposal(request, payload.into)
    return _proposal_out(services.merge_proposals(duplicate=duplicate, into=into, by=request.user))


@router.get("/processes/{process_id}/projects", response=list[ProjectOut])
def list_projects(request: HttpRequest, process_id: int) -> list[Project]:
    return list(_process(request, process_id).projects.all())


@router.get("/processes/{process_id}/ballot", response=BallotOut, auth=REQUIRED)
def my_ballot(request: HttpRequest, process_id: int, area_id: int) -> BallotOut:
    process = _process(request, process_id)
    choices = services.my_ballot(process=process, area=_area(process, area_id), user=request.user)
    return BallotOut(
        area_id=area_id, choices=[Choice(project_id=p, value=v) for p, v in choices], channel="online"
    )


@router.put("/processes/{process_id}/ballot", response=BallotOut, auth=REQUIRED)
def cast(request: HttpRequest, process_id: int, payload: BallotIn) -> BallotOut:
    process = _process(request, process_id)
    services.cast_ballot(
        process=process,
        voter=request.user,
        area=_area(process, payload.area_id),
        choices=[(c.project_id, c.value) for c in payload.choices],
        census_code=payload.census_code,
    )
    return my_ballot(request, process_id, payload.area_id)


@router.get("/processes/{process_id}/audit", response=list[AuditOut], auth=REQUIRED)
@paginate(PageNumberPagination, page_size=50)
def audit(request: HttpRequest, process_id: int) -> list[AuditOut]:
    """The process audit trail, newest first: process managers and city admins only."""
    process = _process(request, process_id)
    return [
        AuditOut(
            at=row.created_at,
            actor=row.actor.public_name if row.actor else None,
            action=row.action,
            details=row.details,
        )
        for row in services.process_audit(process=process, by=request.user)
    ]


@router.post("/processes/{process_id}/assisted-ballots", response={201: dict}, auth=REQUIRED)
def assisted(request: HttpRequest, process_id: int, payload: AssistedBallotIn) -> Status[dict]:
    process = _process(request, process_id)
    ballot = services.cast_assisted_ballot(
        process=process,
        staff=request.user,
        area=_area(process, payload.area_id),
        census_code=payload.census_code,
        choices=[(c.project_id, c.value) for c in payload.choices],
    )
    return Status(201, {"channel": ballot.channel})


@router.post("/processes/{process_id}/census", response={201: dict}, auth=REQUIRED)
def census(request: HttpRequest, process_id: int, payload: CensusIn) -> Status[dict]:
    """Codes as strings or as {code, district, birth_year} (district by id, name or code); errors name the
    code's position in the list as its line (1 = first), and a refused list stores nothing."""
    process = _process(request, process_id)
    rows = [
        CensusRow(i, c) if isinstance(c, str) else CensusRow(i, c.code, c.district, c.birth_year)
        for i, c in enumerate(payload.codes, start=1)
    ]
    n = services.add_census(process=process, by=request.user, codes=resolve_census(process, rows))
    return Status(201, {"loaded": n})


def _outcome_out(o: Outcome) -> OutcomeOut:
    return OutcomeOut(
        area_id=o.area_id,
        rule=o.rule,
        is_official=o.is_official,
        selected=o.selected_codes,
        total_cost=o.total_cost,
        n_ballots=o.n_ballots,
        duration_ms=o.duration_ms,
        details=o.details,
    )


@router.post("/areas/{area_id}/count", response=OutcomeOut, auth=REQUIRED)
def count(request: HttpRequest, area_id: int, rule: str, official: bool = False) -> OutcomeOut:
    """`official=true`, as the manage page's choice: this count becomes the official result and marks the
    funded projects."""
    area = get_object_or_404(BudgetArea.objects.select_related("process__city"), pk=area_id)
    return _outcome_out(services.count_area(area=area, rule=rule, by=request.user, official=official))


@router.get("/processes/{process_id}/results", response=list[OutcomeOut])
def results(request: HttpRequest, process_id: int) -> list[OutcomeOut]:
    process = _process(request, process_id)
    manager = services.can_manage(request.user, process)
    if process.phase not in PUBLIC_RESULTS and not manager:
        raise Forbidden(gettext_noop("results are published after voting closes"))
    qs = Outcome.objects.filter(area__process=process)
    if not manager:
        qs = qs.filter(is_official=True)
    return [_outcome_out(o) for o in qs]


@router.get("/processes/{process_id}/export.pb")
def export(request: HttpRequest, process_id: int, area: str | None = None) -> HttpResponse:
    """One budget's ballots as a pabulib file, so anyone can recount (public once results are out).
    `area` is the budget's id; it may be left out when the process has a single budget."""
    process = _process(request, process_id)
    if process.phase not in PUBLIC_RESULTS and not services.can_manage(request.user, process):
        raise Forbidden(gettext_noop("ballots are published with the results"))
    chosen = export_area(process, area)
    text = export_pabulib(process=process, area=chosen)
    services.audit_export(process=process, by=request.user, area=chosen)
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    suffix = f"_{chosen.pk}" if area else ""
    response["Content-Disposition"] = f'attachment; filename="{process.city.slug}_{process.slug}{suffix}.pb"'
    return response


def _funded_project(request: HttpRequest, project_id: int, process_id: int | None = None) -> Project:
    """Only funded projects of a visible process are delivered and followed (the same 404 as the page)."""
    project = Project.objects.select_related("process__city").filter(pk=project_id, is_funded=True).first()
    if project is None or (process_id is not None and project.process_id != process_id):
        raise NotFound(gettext_noop("no such project"), field="project_id")
    _process(request, project.process_id)  # a draft process is invisible but to its managers
    return project


@router.get("/processes/{process_id}/projects/{project_id}/milestones", response=list[MilestoneOut])
def list_milestones(request: HttpRequest, process_id: int, project_id: int) -> list[Milestone]:
    """A funded project's delivery milestones, in the page's order (due date, then as entered)."""
    project = _funded_project(request, project_id, process_id)
    return list(project.milestones.order_by("due_on", "id"))


@router.post("/projects/{project_id}/milestones", response={201: MilestoneOut}, auth=REQUIRED)
def add_milestone(request: HttpRequest, project_id: int, payload: MilestoneIn) -> Status[Milestone]:
    project = get_object_or_404(Project.objects.select_related("process__city"), pk=project_id)
    milestone = services.add_milestone(
        project=project,
        by=request.user,
        title=payload.title,
        text=payload.text,
        due_on=payload.due_on,
        done_on=payload.done_on,
        status=payload.status,
    )
    return Status(201, milestone)


@router.post("/projects/{project_id}/subscribe", response=dict, auth=REQUIRED)
def subscribe(request: HttpRequest, project_id: int, on: bool = True) -> dict:
    """Follow a funded project's delivery (email per milestone); like the page, 404 for any other project."""
    project = _funded_project(request, project_id)
    services.subscribe(project=project, user=request.user, on=on)
    return {"subscribed": on}
