"""The results page: what was funded, the rule, votes, and for every project why it was or was not funded."""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from smartip.budgeting import services
from smartip.budgeting.models import (
    BallotEntry,
    BallotKind,
    BudgetArea,
    Outcome,
    Process,
)
from smartip.budgeting.views.common import (
    COMPARED_RULES,
    PUBLIC_RESULTS,
    _areas,
    _get_process,
    _render,
    money,
)
from smartip.core.errors import DomainError


def rule_description(rule: str) -> str:
    """The human description of a counting rule (pabutools-compatible or a city's official rule)."""
    from smartip.budgeting.rules import RULES
    from smartip.budgeting.rules.official import OFFICIAL_RULES

    if rule in RULES:
        return RULES[rule].description
    return OFFICIAL_RULES.get(rule.removeprefix("official:"), "")


_RULE_NOTES = {  # knapsack and Phragmén: why a project was not funded, by the note's stage
    "knapsack-no-fit": gettext_noop(
        "Not funded: it did not fit in the budget left (it cost %(cost)s, %(available)s was left). "
        "The funded projects have the highest total support (cost × supporters) that fits the budget; "
        "making room for this one would have meant dropping funded projects worth at least as much."
    ),
    "knapsack-no-support": gettext_noop(
        "Not funded: nobody voted for it, so it adds nothing to the total support that the funded "
        "projects maximise within the budget."
    ),
    "knapsack-free": gettext_noop(
        "Not funded: it costs nothing, and this rule counts support as cost × supporters, so it adds "
        "nothing to the total support that the funded projects maximise within the budget."
    ),
    "phragmen-over-budget": gettext_noop(
        "Not funded: it cost %(cost)s, more than the whole budget of %(available)s."
    ),
    "phragmen-no-fit": gettext_noop(
        "Not funded: it was next in line (each of its supporters' load would have risen to %(rho)s) but did "
        "not fit in the budget left (it cost %(cost)s, %(available)s was left), so the counting stopped."
    ),
    "phragmen-tied": gettext_noop(
        "Not funded: it was tied for next in line with a project that did not fit in the budget left "
        "(%(available)s), so the counting stopped."
    ),
    "phragmen-load-no-fit": gettext_noop(
        "Not funded: it did not fit in the budget left when the counting stopped (it cost %(cost)s, "
        "%(available)s was left)."
    ),
    "phragmen-load": gettext_noop(
        "Not funded: each of its supporters' load would have risen to %(rho)s, more than the %(threshold)s "
        "of the next project in line; the counting stopped there because that project did not fit in the "
        "budget left (%(available)s)."
    ),
    "phragmen-no-support": gettext_noop("Not funded: nobody voted for it."),
}


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
        return (
            _("Funded: part of the set of projects with the highest total support that fits the budget.")
            % ctx
        )
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
    if stage in _RULE_NOTES:
        ctx.update(rho=m("rho"), threshold=m("threshold"))
        return _(_RULE_NOTES[stage]) % ctx
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
