"""Participatory-budgeting workflows: phases, proposals and review, secret ballots (online and assisted),
counting, delivery. Every process action is audited; no audit entry names what a voter chose."""

import hashlib
import hmac
import time
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from smartip.accounts.models import Role, User
from smartip.accounts.permissions import has_role
from smartip.budgeting.ballots import BallotRules, validate_choices
from smartip.budgeting.census import old_enough
from smartip.budgeting.models import (
    PHASE_ORDER,
    Ballot,
    BallotEntry,
    BudgetArea,
    CensusEntry,
    Milestone,
    Outcome,
    Phase,
    Process,
    ProcessAudit,
    Project,
    Proposal,
    ProposalComment,
    ProposalPhoto,
    Verification,
)
from smartip.budgeting.process_admin import (  # noqa: F401 (re-exported: creating and editing processes)
    add_area,
    create_process,
    remove_area,
    update_area,
    update_process,
)
from smartip.core.errors import Conflict, Forbidden, Invalid, NotFound, gettext_noop
from smartip.core.uploads import photo_files, prepare_uploads
from smartip.reports.photos import PreparedPhoto

# Like Decidim's default proposal steps: the debate runs while ideas are collected and checked, and closes
# when the ballot is drawn up, so what voters read is not edited by the discussion during the vote.
COMMENT_PHASES = (Phase.PROPOSALS, Phase.REVIEW)
COMMENT_MIN_CHARS, COMMENT_MAX_CHARS = 2, 2000


def _audit(process: Process, actor: User | None, action: str, **details: Any) -> None:
    ProcessAudit.objects.create(process=process, actor=actor, action=action, details=details)


def process_audit(*, process: Process, by: User | None) -> Any:
    """The process's audit trail, newest first, for the people who run the process. Rows carry no voter:
    online ballots are audited without an actor, assisted ones name only the staff member."""
    _require_manager(by, process)
    return ProcessAudit.objects.filter(process=process).select_related("actor").order_by("-created_at", "-id")


def can_manage(user: User | None, process: Process) -> bool:
    """Process managers and city admins run a process (phases, review, assisted entry, counting, export)."""
    return has_role(user, process.city, Role.PROCESS_MANAGER, Role.ADMIN)


def _require_manager(user: User | None, process: Process) -> None:
    if not can_manage(user, process):
        raise Forbidden(gettext_noop("only the city's process managers may do this"))


def _hash_code(process: Process, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"census:{process.pk}:{code.strip().upper()}".encode(), hashlib.sha256
    ).hexdigest()


def voter_key(process: Process, *, user: User | None = None, census_code: str | None = None) -> str:
    """A keyed hash that identifies 'the same voter' within one process and nothing else."""
    subject = f"user:{user.pk}" if user is not None else f"census:{_hash_code(process, census_code or '')}"
    return hmac.new(
        settings.SECRET_KEY.encode(), f"ballot:{process.pk}:{subject}".encode(), hashlib.sha256
    ).hexdigest()


# phases ---------------------------------------------------------------------------------------------------


def set_phase(*, process: Process, by: User, phase: str) -> Process:
    _require_manager(by, process)
    if phase not in PHASE_ORDER:
        raise Invalid(gettext_noop("unknown phase %(phase)s"), field="phase", phase=repr(phase))
    if phase != Phase.DRAFT and not process.areas.exists():
        raise Invalid(gettext_noop("add a budget to the process first"), field="phase")
    if phase == Phase.VOTING and not process.projects.exists():
        raise Invalid(gettext_noop("there are no projects on the ballot yet"), field="phase")
    old = process.phase
    process.phase = phase
    process.save(update_fields=["phase"])
    _audit(process, by, "phase", old=old, new=phase)
    return process


# proposals ------------------------------------------------------------------------------------------------


def submit_proposal(
    *,
    process: Process,
    author: User,
    area: BudgetArea,
    title: str,
    description: str,
    estimated_cost: Decimal,
    category: str = "",
    lat: float | None = None,
    lon: float | None = None,
    photos: Sequence[Any] = (),
) -> Proposal:
    """Validate everything, photos included, then store the proposal and its cleaned photos."""
    if process.phase != Phase.PROPOSALS:
        raise Forbidden(gettext_noop("proposals are not open in this process"))
    _require_participant(
        author, process, gettext_noop("only people registered in %(city)s can make proposals")
    )
    if area.process_id != process.pk:
        raise Invalid(gettext_noop("that budget belongs to another process"), field="area")
    title, description = title.strip(), description.strip()
    if not 3 <= len(title) <= 200:
        raise Invalid(gettext_noop("the title needs 3 to 200 characters"), field="title")
    if not 10 <= len(description) <= 5000:
        raise Invalid(gettext_noop("the description needs 10 to 5000 characters"), field="description")
    if estimated_cost <= 0 or estimated_cost > area.budget:
        raise Invalid(
            gettext_noop("the cost must be above 0 and at most the budget (%(budget)s)"),
            field="estimated_cost",
            budget=area.budget,
        )
    if (lat is None) != (lon is None):
        raise Invalid(gettext_noop("give both latitude and longitude, or neither"), field="lat")
    if lat is not None and lon is not None and not process.city.contains(lat, lon):
        raise Invalid(gettext_noop("the location is outside the city"), field="lat")
    prepared = _prepare_proposal_photos(photos)  # every photo checked before anything is stored
    proposal = Proposal.objects.create(
        process=process,
        area=area,
        author=author,
        title=title,
        description=description,
        estimated_cost=estimated_cost,
        category=category,
        lat=lat,
        lon=lon,
    )
    _store_photos(proposal, prepared)
    _audit(process, author, "proposal_submitted", proposal=proposal.pk, photos=len(prepared))
    return proposal


def _prepare_proposal_photos(photos: Sequence[Any]) -> list[PreparedPhoto]:
    """The report-photo pipeline and limits (REPORT_MAX_PHOTOS, REPORT_PHOTO_MAX_BYTES)."""
    return prepare_uploads(
        photos,
        max_count=settings.REPORT_MAX_PHOTOS,
        max_bytes=settings.REPORT_PHOTO_MAX_BYTES,
        too_many=gettext_noop("at most %(maximum)s photos per proposal (%(sent)s sent)"),
    )


def _store_photos(proposal: Proposal, prepared: Sequence[PreparedPhoto]) -> list[ProposalPhoto]:
    return [ProposalPhoto.objects.create(proposal=proposal, **photo_files(p)) for p in prepared]


def add_proposal_photos(*, proposal: Proposal, user: User, photos: Sequence[Any]) -> list[ProposalPhoto]:
    """The author adds photos to their proposal while proposals are collected, up to the same limit in all."""
    process = proposal.process
    if process.phase != Phase.PROPOSALS:
        raise Forbidden(gettext_noop("proposals are not open in this process"))
    if user is None or not user.is_authenticated or proposal.author_id != user.pk:
        raise Forbidden(gettext_noop("only the author may add photos to a proposal"))
    if not photos:
        raise Invalid(gettext_noop("send at least one photo"), field="photos")
    already = proposal.photos.count()
    if already + len(photos) > settings.REPORT_MAX_PHOTOS:
        raise Invalid(
            gettext_noop("a proposal has at most %(maximum)s photos (it has %(already)s, %(sent)s sent)"),
            field="photos",
            maximum=settings.REPORT_MAX_PHOTOS,
            already=already,
            sent=len(photos),
        )
    stored = _store_photos(proposal, _prepare_proposal_photos(photos))
    _audit(process, user, "proposal_photos_added", proposal=proposal.pk, photos=len(stored))
    return stored


def support_proposal(*, proposal: Proposal, user: User) -> Proposal:
    if proposal.process.phase != Phase.PROPOSALS:
        raise Forbidden(gettext_noop("support is open only while proposals are collected"))
    _require_participant(
        user, proposal.process, gettext_noop("only people registered in %(city)s can support")
    )
    if proposal.status == Proposal.Status.MERGED:
        raise Conflict(
            gettext_noop("this proposal was merged into another one: support that one instead"),
            field="proposal",
        )
    if proposal.status == Proposal.Status.NOT_FEASIBLE:
        raise Conflict(
            gettext_noop("this proposal was found not feasible and cannot be supported"), field="proposal"
        )
    proposal.supporters.add(user)
    return proposal


# comments ---------------------------------------------------------------------------------------------------


def is_resident(user: User | None, process: Process) -> bool:
    """People of the process's city: an account registered there, or any role in its platform."""
    if user is None or not user.is_authenticated:
        return False
    return user.home_city_id == process.city_id or bool(user.roles_in(process.city))


def _require_participant(user: User | None, process: Process, message: str) -> None:
    """Proposals and support, like comments, are for people of the process's city (`is_resident`)."""
    if not is_resident(user, process):
        raise Forbidden(message, city=process.city.name)


def can_comment(user: User | None, process: Process) -> bool:
    return process.phase in COMMENT_PHASES and is_resident(user, process)


def comment_on_proposal(*, proposal: Proposal, user: User, text: str) -> ProposalComment:
    process = proposal.process
    if proposal.status == Proposal.Status.WITHDRAWN:  # not shown anywhere: the page answers 404 too
        raise NotFound(gettext_noop("no such proposal"), field="proposal_id")
    if process.phase not in COMMENT_PHASES:
        raise Forbidden(gettext_noop("comments are open only while proposals are collected and reviewed"))
    if not is_resident(user, process):
        raise Forbidden(
            gettext_noop("only people registered in %(city)s can comment"), city=process.city.name
        )
    text = text.strip()
    if not COMMENT_MIN_CHARS <= len(text) <= COMMENT_MAX_CHARS:
        raise Invalid(
            gettext_noop("a comment needs %(min)s to %(max)s characters"),
            field="text",
            min=COMMENT_MIN_CHARS,
            max=COMMENT_MAX_CHARS,
        )
    comment = ProposalComment.objects.create(proposal=proposal, author=user, text=text)
    _audit(process, user, "comment_added", proposal=proposal.pk, comment=comment.pk)
    return comment


def hide_comment(*, comment: ProposalComment, by: User) -> ProposalComment:
    """Staff moderation: the comment stays on record (and in the audit) but is no longer shown."""
    process = comment.proposal.process
    _require_manager(by, process)
    if not comment.is_hidden:
        comment.is_hidden = True
        comment.save(update_fields=["is_hidden"])
        _audit(process, by, "comment_hidden", proposal=comment.proposal_id, comment=comment.pk)
    return comment


def review_proposal(
    *, proposal: Proposal, by: User, feasible: bool, reason: str = "", official_cost: Decimal | None = None
) -> Proposal:
    process = proposal.process
    _require_manager(by, process)
    if process.phase not in (Phase.PROPOSALS, Phase.REVIEW):
        raise Forbidden(gettext_noop("proposals are reviewed before voting starts"))
    if not feasible and not reason.strip():
        raise Invalid(gettext_noop("say why the proposal is not feasible"), field="reason")
    cost = official_cost if official_cost is not None else proposal.estimated_cost
    if feasible and (cost <= 0 or cost > proposal.area.budget):
        raise Invalid(
            gettext_noop("the official cost must be above 0 and within the budget"), field="official_cost"
        )
    proposal.status = Proposal.Status.FEASIBLE if feasible else Proposal.Status.NOT_FEASIBLE
    proposal.review_reason = reason.strip()
    proposal.official_cost = cost if feasible else None
    proposal.save(update_fields=["status", "review_reason", "official_cost"])
    if feasible:
        Project.objects.update_or_create(
            proposal=proposal,
            defaults=dict(
                process=process,
                area=proposal.area,
                code=f"P{proposal.pk}",
                title=proposal.title,
                description=proposal.description,
                category=proposal.category,
                cost=cost,
                lat=proposal.lat,
                lon=proposal.lon,
            ),
        )
    else:
        Project.objects.filter(proposal=proposal).delete()
    _audit(process, by, "proposal_reviewed", proposal=proposal.pk, feasible=feasible, cost=str(cost))
    return proposal


def merge_proposals(*, duplicate: Proposal, into: Proposal, by: User) -> Proposal:
    _require_manager(by, duplicate.process)
    if duplicate.pk == into.pk or duplicate.process_id != into.process_id:
        raise Invalid(gettext_noop("merge into another proposal of the same process"), field="into")
    into.supporters.add(*duplicate.supporters.all())
    duplicate.status, duplicate.merged_into = Proposal.Status.MERGED, into
    duplicate.save(update_fields=["status", "merged_into"])
    Project.objects.filter(proposal=duplicate).delete()
    _audit(duplicate.process, by, "proposal_merged", proposal=duplicate.pk, into=into.pk)
    return into


# eligibility and ballots ----------------------------------------------------------------------------------


def ballot_rules(process: Process, area: BudgetArea) -> BallotRules:
    return BallotRules(
        kind=process.ballot_kind,
        budget=area.budget,
        min_projects=process.min_projects,
        max_projects=process.max_projects,
        total_points=process.total_points,
        max_points_per_project=process.max_points_per_project,
    )


def _census_entry(process: Process, code: str | None) -> CensusEntry:
    if not code:
        raise Invalid(gettext_noop("enter the code from your letter or the census list"), field="census_code")
    entry = CensusEntry.objects.filter(process=process, code_hash=_hash_code(process, code)).first()
    if entry is None:
        raise Invalid(gettext_noop("this code is not on the list for this process"), field="census_code")
    return entry


def check_voting_window(process: Process) -> None:
    """Ballots are accepted only between the voting dates the process shows (whole days in the city's time
    zone), whatever the phase says: a manager who changes the phase late does not keep the vote open."""
    today = timezone.localtime(timezone.now(), process.city.tz).date()
    if process.voting_close and today > process.voting_close:
        raise Forbidden(gettext_noop("voting closed on %(day)s"), day=date_format(process.voting_close))
    if process.voting_open and today < process.voting_open:
        raise Forbidden(gettext_noop("voting opens on %(day)s"), day=date_format(process.voting_open))


def check_eligibility(*, process: Process, user: User, census_code: str | None = None) -> CensusEntry | None:
    if process.phase != Phase.VOTING:
        raise Forbidden(gettext_noop("voting is not open"))
    check_voting_window(process)
    if not has_role(user, process.city, Role.CITIZEN):
        raise Forbidden(
            gettext_noop("only residents registered in %(city)s can vote"), city=process.city.name
        )
    if process.verification == Verification.ACCOUNT:
        return None
    entry = _census_entry(process, census_code)
    _check_census_entry(process, entry)
    return entry


def _check_census_entry(process: Process, entry: CensusEntry) -> None:
    if process.district_id and entry.district_id != process.district_id:
        raise Forbidden(gettext_noop("this vote is for residents of another district"))
    if not process.min_age:
        return
    if entry.birth_year is None:
        raise Forbidden(
            gettext_noop(
                "voters must be at least %(age)s years old and the census list has no birth year for this code: "
                "ask the city to complete it"
            ),
            age=process.min_age,
        )
    if not old_enough(entry.birth_year, process.min_age, timezone.localdate().year):
        raise Forbidden(gettext_noop("voters must be at least %(age)s years old"), age=process.min_age)


def _claim(entry: CensusEntry, key: str) -> None:
    """Bind the census code to the voter who uses it first; anyone else using it later gets a Conflict."""
    legacy = entry.claimed and not entry.claimed_by  # claimed before codes were bound to a voter
    if (entry.claimed_by and entry.claimed_by != key) or (
        legacy and not Ballot.objects.filter(process_id=entry.process_id, voter_key=key).exists()
    ):
        raise Conflict(gettext_noop("this code has already been used to vote"), field="census_code")
    if not entry.claimed_by:
        entry.claimed, entry.claimed_by = True, key
        entry.save(update_fields=["claimed", "claimed_by"])


def _check_area_district(process: Process, area: BudgetArea, entry: CensusEntry | None, key: str) -> None:
    """A district's budget is for its residents: checked on the census entry when there is one; with
    account-only verification (no address known) a voter chooses one district's budget, like Paris's."""
    if not area.district_id:
        return
    if entry is not None:
        if entry.district_id != area.district_id:
            raise Forbidden(gettext_noop("this budget is for residents of another district"), field="area")
        return
    elsewhere = Ballot.objects.filter(process=process, voter_key=key, area__district__isnull=False)
    if elsewhere.exclude(area=area).exists():
        raise Conflict(
            gettext_noop("you have voted for another district's budget: a voter chooses one district"),
            field="area",
        )


def _validated(
    process: Process, area: BudgetArea, choices: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    if area.process_id != process.pk:
        raise Invalid(gettext_noop("that budget belongs to another process"), field="area")
    costs = dict(area.projects.values_list("pk", "cost"))
    return validate_choices(ballot_rules(process, area), costs, choices)


def _store_ballot(
    *, process: Process, area: BudgetArea, key: str, channel: str, normalised: list[tuple[int, int]]
) -> Ballot:
    ballot, created = Ballot.objects.select_for_update().get_or_create(
        area=area, voter_key=key, defaults={"process": process, "channel": channel}
    )
    if not created:
        ballot.entries.all().delete()
        ballot.cast_on = timezone.localdate()
        ballot.save(update_fields=["cast_on"])
    ranked = process.ballot_kind == "ranking"
    BallotEntry.objects.bulk_create(
        [
            BallotEntry(ballot=ballot, project_id=pid, points=value, rank=value if ranked else None)
            for pid, value in normalised
        ]
    )
    return ballot


def cast_ballot(
    *,
    process: Process,
    voter: User,
    area: BudgetArea,
    choices: Sequence[tuple[int, int]],
    census_code: str | None = None,
) -> Ballot:
    """Cast or replace the voter's ballot. The census code, if needed, is bound to the first account using it."""
    entry = check_eligibility(process=process, user=voter, census_code=census_code)
    normalised = _validated(process, area, choices)  # before anything is written
    key = voter_key(process, user=voter)
    with transaction.atomic():
        _check_area_district(process, area, entry, key)
        if entry is not None:
            _claim(entry, key)
        ballot = _store_ballot(
            process=process, area=area, key=key, channel=Ballot.Channel.ONLINE, normalised=normalised
        )
    _audit(
        process, None, "ballot_cast", channel="online"
    )  # no actor: the audit must not link voter and ballot
    return ballot


def cast_assisted_ballot(
    *, process: Process, staff: User, area: BudgetArea, census_code: str, choices: Sequence[tuple[int, int]]
) -> Ballot:
    """Staff enter a paper ballot (or help at a session) for a voter identified by their census code."""
    _require_manager(staff, process)
    if process.phase != Phase.VOTING:
        raise Forbidden(gettext_noop("voting is not open"))
    check_voting_window(process)
    entry = _census_entry(process, census_code)
    _check_census_entry(process, entry)
    normalised = _validated(process, area, choices)  # before anything is written
    key = voter_key(process, census_code=census_code)
    with transaction.atomic():
        _check_area_district(process, area, entry, key)
        _claim(entry, key)
        if Ballot.objects.filter(area=area, voter_key=key).exists():  # a paper ballot is entered once
            raise Conflict(gettext_noop("this voter has already voted"), field="census_code")
        ballot = _store_ballot(
            process=process, area=area, key=key, channel=Ballot.Channel.ASSISTED, normalised=normalised
        )
    _audit(process, staff, "ballot_assisted")
    return ballot


def has_voted(*, process: Process, user: User) -> bool:
    return Ballot.objects.filter(process=process, voter_key=voter_key(process, user=user)).exists()


def my_ballot(*, process: Process, area: BudgetArea, user: User) -> list[tuple[int, int]]:
    """The voter's own current choices (for changing them), found by the keyed hash."""
    ballot = Ballot.objects.filter(area=area, voter_key=voter_key(process, user=user)).first()
    if ballot is None:
        return []
    return list(ballot.entries.order_by("rank", "id").values_list("project_id", "points"))


def add_census(
    *, process: Process, by: User | None, codes: Sequence[tuple[str, int | None, int | None]]
) -> int:
    """Load census codes: (code, district id, birth year); `census.resolve` makes them from each interface's
    input. Codes are stored only as keyed hashes. `by` None is the command line (`smartip pb census`)."""
    if by is not None:
        _require_manager(by, process)
    rows = [
        CensusEntry(
            process=process, code_hash=_hash_code(process, code), district_id=district, birth_year=year
        )
        for code, district, year in codes
        if code.strip()
    ]
    try:
        with transaction.atomic():
            CensusEntry.objects.bulk_create(rows)
    except IntegrityError:
        raise Invalid(gettext_noop("a code is listed twice or already loaded"), field="codes") from None
    _audit(process, by, "census_loaded", count=len(rows))
    return len(rows)


# counting -------------------------------------------------------------------------------------------------


def election_for(area: BudgetArea) -> Any:
    """The area's ballots as the counting core's plain Election (project ids = project codes)."""
    import numpy as np

    from smartip.budgeting.rules.election import Election

    projects = list(area.projects.order_by("id").values_list("pk", "code", "cost"))
    index = {pk: i for i, (pk, _, _) in enumerate(projects)}
    rows = (
        BallotEntry.objects.filter(ballot__area=area)
        .order_by("ballot_id", "rank", "id")
        .values_list("ballot_id", "project_id", "points")
    )
    ptr, proj, score, last = [0], [], [], None
    for ballot_id, project_id, points in rows.iterator(chunk_size=20000):
        if last is not None and ballot_id != last:
            ptr.append(len(proj))
        last = ballot_id
        proj.append(index[project_id])
        score.append(float(points))
    if proj:
        ptr.append(len(proj))
    costs = [c for _, _, c in projects]
    integral = (
        all(c == c.to_integral_value() for c in costs) and area.budget == area.budget.to_integral_value()
    )
    kind = {"cumulative": "cumulative", "ranking": "ordinal"}.get(area.process.ballot_kind, "approval")
    meta = {k: str(v) for k, v in area.process.pabulib_meta.items() if not k.startswith("_")}
    return Election(
        project_ids=tuple(code for _, code, _ in projects),
        costs=np.array(
            [int(c) if integral else float(c) for c in costs], dtype=np.int64 if integral else np.float64
        ),
        budget=int(area.budget) if integral else float(area.budget),
        ballot_kind=kind,  # type: ignore[arg-type]
        voter_ptr=np.array(ptr, dtype=np.int64),
        entry_project=np.array(proj, dtype=np.int32),
        entry_score=np.array(score, dtype=np.float64),
        meta=meta,
    )


def count_area(*, area: BudgetArea, rule: str, by: User | None = None, official: bool = False) -> Outcome:
    from smartip.budgeting.counting import count

    process = area.process
    if by is not None:
        _require_manager(by, process)
    started = time.perf_counter()
    election = election_for(area)
    result = count(election, rule)
    outcome, _ = Outcome.objects.update_or_create(
        area=area,
        rule=rule,
        defaults=dict(
            selected_codes=list(result.selected),
            total_cost=Decimal(str(result.total_cost)),
            details={"counted_rule": result.rule, "projects": result.explanations},
            n_ballots=election.n_voters,
            duration_ms=(time.perf_counter() - started) * 1000,
            is_official=official,
            computed_at=timezone.now(),
        ),
    )
    if official:
        Outcome.objects.filter(area=area).exclude(pk=outcome.pk).update(is_official=False)
        area.projects.update(is_funded=False)
        area.projects.filter(code__in=result.selected).update(is_funded=True)
    _audit(process, by, "counted", area=area.pk, rule=rule, official=official, selected=list(result.selected))
    return outcome


def publish_results(*, process: Process, by: User) -> list[Outcome]:
    """Close voting, count every area with the process's rule (official) and move to the results phase."""
    _require_manager(by, process)
    if process.phase != Phase.VOTING:
        raise Invalid(gettext_noop("results are counted when voting closes"), field="phase")
    outcomes = [count_area(area=a, rule=process.rule, by=by, official=True) for a in process.areas.all()]
    set_phase(process=process, by=by, phase=Phase.RESULTS)
    return outcomes


# delivery -------------------------------------------------------------------------------------------------


def add_milestone(
    *,
    project: Project,
    by: User,
    title: str,
    text: str = "",
    due_on: date | None = None,
    done_on: date | None = None,
    status: str | None = None,
) -> Milestone:
    _require_manager(by, project.process)
    if not project.is_funded:
        raise Invalid(gettext_noop("only funded projects are delivered"), field="project")
    if not title.strip():
        raise Invalid(gettext_noop("give the milestone a title"), field="title")
    milestone = Milestone.objects.create(
        project=project, title=title.strip(), text=text, due_on=due_on, done_on=done_on
    )
    if status:
        if status not in Project.Delivery.values:
            raise Invalid(
                gettext_noop("unknown delivery status %(status)s"), field="status", status=repr(status)
            )
        project.delivery_status = status
        project.save(update_fields=["delivery_status"])
    _audit(project.process, by, "milestone", project=project.code, title=title)
    _notify_subscribers(project, milestone)
    return milestone


def _notify_subscribers(project: Project, milestone: Milestone) -> None:
    from smartip.reports.notify import Message, get_notifier

    recipients = [u.email for u in project.subscribers.all() if u.email]
    if recipients:
        subject = f"{project.title}: {milestone.title}"
        body = milestone.text or milestone.title
        get_notifier().send([Message(to=r, subject=subject, body=body) for r in recipients])


def subscribe(*, project: Project, user: User, on: bool = True) -> None:
    if on:
        project.subscribers.add(user)
    else:
        project.subscribers.remove(user)


def get_process(city_slug: str, slug: str) -> Process:
    process = Process.objects.select_related("city").filter(city__slug=city_slug, slug=slug).first()
    if process is None:
        raise NotFound(gettext_noop("no such process"), field="process")
    return process


def audit_export(*, process: Process, by: User | None, area: BudgetArea | None = None) -> None:
    actor = by if by is not None and by.is_authenticated else None
    _audit(process, actor, "exported", **({"area": area.pk} if area is not None else {}))


def audit_import(*, process: Process, source: str) -> None:
    """A pabulib file imported from the command line (no actor: the operator of the server)."""
    _audit(process, None, "imported", source=source, ballots=process.ballots.count())
