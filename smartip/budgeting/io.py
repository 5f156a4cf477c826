"""pabulib import and export of whole processes (the Django side of `pabulib.py`)."""

import hashlib
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.db.models import Prefetch
from django.utils.text import slugify
from tqdm import tqdm

from smartip.budgeting.models import Ballot, BallotEntry, BallotKind, BudgetArea, Phase, Process, Project
from smartip.budgeting.pabulib import PabulibFile, build_pb, dumps, read_pb
from smartip.cities.models import City
from smartip.core.errors import Invalid, NotFound, gettext_noop

KIND_FOR_VOTE_TYPE = {
    "approval": BallotKind.APPROVAL_BUDGET,
    "choose-1": BallotKind.K_APPROVAL,
    "cumulative": BallotKind.CUMULATIVE,
    "scoring": BallotKind.CUMULATIVE,
    "ordinal": BallotKind.RANKING,
}
VOTE_TYPE_FOR_KIND = {
    BallotKind.APPROVAL_BUDGET: "approval",
    BallotKind.APPROVAL_MINMAX: "approval",
    BallotKind.K_APPROVAL: "approval",
    BallotKind.CUMULATIVE: "cumulative",
    BallotKind.RANKING: "ordinal",
}
BATCH = 5000


def _decimal(text: str, field: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise Invalid(f"{text!r} is not a number", field=field) from None


def _unique_slug(city: City, base: str) -> str:
    slug = slugify(base)[:100] or "process"
    candidate, n = slug, 1
    while Process.objects.filter(city=city, slug=candidate).exists():
        n += 1
        candidate = f"{slug}-{n}"
    return candidate


def import_pabulib(*, path: Path, city: City, progress: IO[str] | None = None) -> Process:
    """Read and validate the whole file first (nothing is written if it is malformed), then store it."""
    pb = read_pb(path)
    meta = pb.meta
    title = " ".join(filter(None, [meta.get("unit"), meta.get("subunit"), meta.get("instance")])) or path.stem
    max_length = meta.get("max_length")
    process = Process.objects.create(
        city=city,
        slug=_unique_slug(city, title),
        title=title[:200],
        description=meta.get("description", ""),
        currency=meta.get("currency", "EUR")[:3],
        phase=Phase.RESULTS,
        ballot_kind=KIND_FOR_VOTE_TYPE.get(pb.vote_type, BallotKind.APPROVAL_BUDGET),
        min_projects=int(meta.get("min_length", 0) or 0),
        max_projects=int(max_length) if max_length else None,
        total_points=int(meta["max_sum_points"]) if meta.get("max_sum_points") else None,
        rule="official" if meta.get("rule", "unknown") != "unknown" else "mes-add1-greedy",
        source=path.name,
        pabulib_meta={
            **meta,
            "_project_columns": list(pb.project_columns),
            "_vote_columns": list(pb.vote_columns),
            "_newline": pb.newline,
            "_final_newline": pb.final_newline,
            "_missing_cell": pb.missing_cell,
        },
    )
    area = BudgetArea.objects.create(
        process=process, name=meta.get("district") or city.name, budget=_decimal(meta["budget"], "budget")
    )
    Project.objects.bulk_create(
        [
            Project(
                process=process,
                area=area,
                code=row["project_id"],
                title=(row.get("name") or row["project_id"])[:300],
                description=row.get("description", ""),
                category=row.get("category", "")[:200],
                cost=_decimal(row["cost"], "cost"),
                lat=_float(row.get("latitude")),
                lon=_float(row.get("longitude")),
                extra=row,
                is_funded=row.get("selected") == "1",
            )
            for row in pb.projects
        ]
    )
    by_code = {p.code: p for p in Project.objects.filter(process=process)}
    _import_votes(pb, process, area, by_code, progress)
    return process


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _import_votes(
    pb: PabulibFile, process: Process, area: BudgetArea, by_code: dict[str, Project], progress: IO[str] | None
) -> None:
    columns = pb.vote_columns
    i_vote = columns.index("vote")
    i_points = columns.index("points") if "points" in columns else None
    salt = f"import:{process.pk}:"
    ballots: list[Ballot] = []
    pending: list[tuple[Ballot, list[str], list[str] | None]] = []
    bar = tqdm(total=len(pb.votes), desc="ballots", file=progress, disable=progress is None, unit="ballot")
    for row in pb.votes:
        extra = {
            c: v for c, v in zip(columns, row, strict=True) if c not in ("vote", "points") and v is not None
        }
        key = hashlib.sha256((salt + str(extra.get("voter_id"))).encode()).hexdigest()
        ballot = Ballot(
            process=process, area=area, voter_key=key, channel=Ballot.Channel.IMPORTED, extra=extra
        )
        ballots.append(ballot)
        vote = [v for v in (row[i_vote] or "").split(",") if v]
        points = (row[i_points] or "").split(",") if i_points is not None and row[i_points] else None
        pending.append((ballot, vote, points))
        if len(pending) >= BATCH:
            _flush(pending, by_code)
            bar.update(len(pending))
            pending = []
    _flush(pending, by_code)
    bar.update(len(pending))
    bar.close()


def _flush(pending: list[tuple[Ballot, list[str], list[str] | None]], by_code: dict[str, Project]) -> None:
    if not pending:
        return
    Ballot.objects.bulk_create([b for b, _, _ in pending], batch_size=BATCH)
    entries = []
    for ballot, vote, points in pending:
        seen = set()
        for position, code in enumerate(vote):
            if code in seen:  # pabulib duplicates inside one approval vote count once
                continue
            seen.add(code)
            pts = int(Decimal(points[position])) if points else 1
            entries.append(BallotEntry(ballot=ballot, project=by_code[code], points=pts, rank=position + 1))
    BallotEntry.objects.bulk_create(entries, batch_size=BATCH)


def find_process(ref: str) -> Process:
    """A process by id or by CITY/SLUG."""
    query = Process.objects.select_related("city")
    found = query.filter(pk=int(ref)).first() if ref.isdigit() else None
    if found is None and "/" in ref:
        city, slug = ref.split("/", 1)
        found = query.filter(city__slug=city, slug=slug).first()
    if found is None:
        raise NotFound(f"no process {ref!r} (give an id or CITY/SLUG)", field="process")
    return found


def export_area(process: Process, area_id: int | str | None) -> BudgetArea:
    """The budget to export: the one asked for, or the process's only one (a file holds one budget)."""
    areas = list(process.areas.order_by("id"))
    if area_id is not None and str(area_id) != "":
        found = next((a for a in areas if str(a.pk) == str(area_id).strip()), None)
        if found is None:
            raise Invalid(
                gettext_noop("no budget %(area)s in this process (its budgets: %(areas)s)"),
                field="area",
                area=repr(str(area_id)),
                areas=_listing(areas),
            )
        return found
    if not areas:
        raise Invalid(gettext_noop("the process has no budget"), field="area")
    if len(areas) > 1:
        raise Invalid(
            gettext_noop("the process has %(n)s budgets: choose one with area (%(areas)s)"),
            field="area",
            n=len(areas),
            areas=_listing(areas),
        )
    return areas[0]


def _listing(areas: list[BudgetArea]) -> str:
    return ", ".join(f"{a.pk} = {a.name}" for a in areas) or "-"


def export_pabulib(*, process: Process, area: BudgetArea | None = None) -> str:
    """The projects and anonymous ballots of one budget as a .pb text (the only budget when not given).

    Ballots entered on the platform get fresh sequential voter ids and are written in a cryptographically
    random order (`secrets.SystemRandom`), so neither the ids nor the row order follow the order in which
    people voted and the file cannot be joined to anything else; imported ballots come first, in their file's
    order, with their (already anonymous) ids and columns."""
    area = area if area is not None else export_area(process, None)
    meta_in = {k: v for k, v in process.pabulib_meta.items() if not k.startswith("_")}
    vote_type = meta_in.get("vote_type") or VOTE_TYPE_FOR_KIND.get(process.ballot_kind, "approval")
    meta: dict[str, Any] = {
        "description": process.description or process.title,
        "country": process.city.country,
        "unit": process.city.name,
        "instance": process.title,
        "budget": _money(area.budget),
        "vote_type": vote_type,
        "rule": meta_in.get("rule", process.rule),
        "date_begin": str(process.voting_open or process.created_at.date()),
        "date_end": str(process.voting_close or process.created_at.date()),
    }
    if meta_in:  # an imported process: its own META, in its own order (counts are recomputed in place)
        meta = {**meta_in, **{k: v for k, v in meta.items() if k not in meta_in}}
    projects = [_project_row(p) for p in area.projects.order_by("id")]
    entries = Prefetch(
        "entries", queryset=BallotEntry.objects.select_related("project").order_by("rank", "id")
    )
    ballots = list(area.ballots.prefetch_related(entries).order_by("id"))
    imported = [b for b in ballots if "voter_id" in b.extra]
    fresh = [b for b in ballots if "voter_id" not in b.extra]
    secrets.SystemRandom().shuffle(fresh)
    fresh_ids = {b.pk: str(i + 1) for i, b in enumerate(fresh)}
    ballots = imported + fresh
    cardinal = vote_type in ("cumulative", "scoring")
    order = process.pabulib_meta.get("_vote_columns") or [
        "voter_id",
        "vote",
        *(["points"] if cardinal else []),
    ]
    with_points = cardinal or "points" in order
    votes = [_in_order(_vote_row(b, fresh_ids.get(b.pk), with_points), order) for b in ballots]
    saved = process.pabulib_meta
    pb = build_pb(
        meta,
        projects,
        votes,
        project_columns=saved.get("_project_columns", ()),
        vote_columns=saved.get("_vote_columns", ()),
        newline=saved.get("_newline", "\n"),
        final_newline=saved.get("_final_newline", True),
        missing_cell=saved.get("_missing_cell", ""),
    )
    return dumps(pb)


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value.normalize())


def _project_row(p: Project) -> dict[str, Any]:
    row = dict(p.extra) if p.extra else {}
    if "cost" not in row or _decimal(row["cost"], "cost") != p.cost:
        row["cost"] = _money(p.cost)
    row["project_id"] = p.code
    if "name" not in row and p.title != p.code:
        row["name"] = p.title
    return row


def _in_order(row: dict[str, Any], order: list[str]) -> dict[str, Any]:
    known = {c: row[c] for c in order if c in row}
    return {**known, **{c: v for c, v in row.items() if c not in known}}


def _vote_row(ballot: Ballot, fresh_id: str | None, with_points: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"voter_id": fresh_id} if fresh_id else dict(ballot.extra)
    entries = list(ballot.entries.all())
    row["vote"] = [e.project.code for e in entries]
    if with_points:
        row["points"] = [str(e.points) for e in entries]
    return row
