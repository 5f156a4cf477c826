"""Creating and editing a process and its budget areas (the city's process managers).

One validation serves the pages, the API and the command line, so they refuse the same input with the same
field and reason. A new process starts in the draft phase (not public); the manager opens proposals with the
phase control. Once voting has opened, what voters were shown is fixed: the ballot and its parameters, the
counting rule, who may vote, the currency and the budgets. Title, description, slug and dates stay editable.

`by=None` is the operator at the command line (like `count_area`); pages and the API always pass the user.
"""

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from smartip.accounts.models import Role, User
from smartip.accounts.permissions import has_role
from smartip.budgeting.models import (
    PHASE_ORDER,
    BallotKind,
    BudgetArea,
    Phase,
    Process,
    ProcessAudit,
    Verification,
)
from smartip.cities.models import City, Neighbourhood
from smartip.core.errors import Conflict, Forbidden, Invalid, gettext_noop

DATE_FIELDS = ("proposals_open", "review_open", "voting_open", "voting_close", "results_on")
BALLOT_FIELDS = ("ballot_kind", "min_projects", "max_projects", "total_points", "max_points_per_project")
ELIGIBILITY_FIELDS = ("verification", "district", "min_age")
#: what voters were shown: fixed once voting has opened
FROZEN_FIELDS = (*BALLOT_FIELDS, *ELIGIBILITY_FIELDS, "rule", "currency")
EDITABLE_FIELDS = ("title", "description", "slug", *DATE_FIELDS, *FROZEN_FIELDS)
DEFAULTS: dict[str, Any] = {
    "description": "",
    "slug": "",
    **dict.fromkeys(DATE_FIELDS),
    "ballot_kind": BallotKind.APPROVAL_BUDGET,
    "min_projects": 0,
    "max_projects": None,
    "total_points": None,
    "max_points_per_project": None,
    "rule": "mes-add1-greedy",
    "verification": Verification.ACCOUNT,
    "district": None,
    "min_age": 0,
    "currency": "EUR",
}
AREA_FIELDS = ("name", "budget", "district", "category")
SLUG_RE = re.compile(r"^[-a-z0-9_]{1,120}$")
MAX_BUDGET = Decimal(10) ** 14  # the column holds 16 digits, 2 after the point
MAX_DESCRIPTION = 20_000


def _audit(process: Process, actor: User | None, action: str, **details: Any) -> None:
    ProcessAudit.objects.create(process=process, actor=actor, action=action, details=details)


def _require(by: User | None, city: City) -> None:
    if by is not None and not has_role(by, city, Role.PROCESS_MANAGER, Role.ADMIN):
        raise Forbidden(gettext_noop("only the city's process managers may do this"))


def voting_has_opened(process: Process) -> bool:
    return PHASE_ORDER.index(process.phase) >= PHASE_ORDER.index(Phase.VOTING)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Neighbourhood):
        return value.pk
    return value


def _label(name: str) -> Any:
    """The field's name for people (lazy: shown in the reader's language when the message is rendered)."""
    return Process._meta.get_field(name).verbose_name


def _reject_unknown(given: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for name in sorted(set(given) - set(allowed)):
        raise Invalid(gettext_noop("%(name)s cannot be set here"), field=name, name=name)


# validation -----------------------------------------------------------------------------------------------


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for name in ("title", "description", "slug"):
        out[name] = (out.get(name) or "").strip()
    out["currency"] = (out.get("currency") or "").strip().upper()
    out["min_projects"] = out.get("min_projects") or 0
    out["min_age"] = out.get("min_age") or 0
    return out


def _check_text(values: Mapping[str, Any]) -> None:
    if not 3 <= len(values["title"]) <= 200:
        raise Invalid(gettext_noop("the title needs 3 to 200 characters"), field="title")
    if len(values["description"]) > MAX_DESCRIPTION:
        raise Invalid(
            gettext_noop("the description is longer than %(limit)s characters"),
            field="description",
            limit=MAX_DESCRIPTION,
        )


def _check_slug(city: City, slug: str, pk: int | None) -> None:
    if not SLUG_RE.match(slug):
        raise Invalid(
            gettext_noop("the web address may use only a-z, 0-9, - and _ (at most 120)"), field="slug"
        )
    if Process.objects.filter(city=city, slug=slug).exclude(pk=pk).exists():
        raise Invalid(
            gettext_noop("another process of %(city)s already uses the address %(slug)s"),
            field="slug",
            city=city.name,
            slug=slug,
        )


def free_slug(city: City, title: str) -> str:
    """A web address made from the title, numbered when the city already has it."""
    base = slugify(title)[:100] or "process"
    taken = set(Process.objects.filter(city=city, slug__startswith=base).values_list("slug", flat=True))
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _check_dates(values: Mapping[str, Any]) -> None:
    """Each given date is on or after every earlier phase's date (empty dates are skipped)."""
    latest: tuple[str, date] | None = None
    for name in DATE_FIELDS:
        day = values[name]
        if day is None:
            continue
        if latest is not None and day < latest[1]:
            raise Invalid(
                gettext_noop("the dates must follow the phases: “%(later)s” is before “%(earlier)s”"),
                field=name,
                later=_label(name),
                earlier=_label(latest[0]),
            )
        latest = (name, day)


def _positive_or_none(values: Mapping[str, Any], name: str) -> int | None:
    value = values[name]
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise Invalid(gettext_noop("give a whole number of at least 1, or nothing"), field=name)
    return value


def _check_ballot(values: Mapping[str, Any]) -> None:
    kind = values["ballot_kind"]
    if kind not in BallotKind.values:
        raise Invalid(gettext_noop("unknown ballot kind %(kind)s"), field="ballot_kind", kind=repr(kind))
    least = values["min_projects"]
    if isinstance(least, bool) or not isinstance(least, int) or least < 0:
        raise Invalid(gettext_noop("give a whole number of at least 0"), field="min_projects")
    most = _positive_or_none(values, "max_projects")
    points = _positive_or_none(values, "total_points")
    cap = _positive_or_none(values, "max_points_per_project")
    if kind == BallotKind.K_APPROVAL and most is None:
        raise Invalid(gettext_noop("a k-approval ballot needs the maximum number k"), field="max_projects")
    if most is not None and least > most:
        raise Invalid(
            gettext_noop("the minimum (%(least)s) is above the maximum (%(most)s)"),
            field="min_projects",
            least=least,
            most=most,
        )
    if kind != BallotKind.CUMULATIVE:
        for name in ("total_points", "max_points_per_project"):
            if values[name] is not None:
                raise Invalid(gettext_noop("points are used only by cumulative ballots"), field=name)
        return
    if points is None:
        raise Invalid(gettext_noop("a cumulative ballot needs the points to share out"), field="total_points")
    if cap is not None and cap > points:
        raise Invalid(
            gettext_noop("the points for one project (%(cap)s) exceed the points to share out (%(total)s)"),
            field="max_points_per_project",
            cap=cap,
            total=points,
        )


def _check_rule_and_currency(values: Mapping[str, Any]) -> None:
    from smartip.budgeting.counting import all_rule_names

    if values["rule"] not in all_rule_names():
        raise Invalid(gettext_noop("unknown counting rule %(rule)s"), field="rule", rule=repr(values["rule"]))
    currency = values["currency"]
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        raise Invalid(gettext_noop("the currency is a 3-letter code such as EUR"), field="currency")


def _check_district(city: City, district: Neighbourhood | None, field: str) -> None:
    if district is not None and district.city_id != city.pk:
        raise Invalid(gettext_noop("that district is not in %(city)s"), field=field, city=city.name)


def _check_eligibility(city: City, values: Mapping[str, Any]) -> None:
    if values["verification"] not in Verification.values:
        raise Invalid(gettext_noop("unknown voter verification"), field="verification")
    _check_district(city, values["district"], "district")
    age = values["min_age"]
    if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 120:
        raise Invalid(gettext_noop("the minimum age is a whole number from 0 to 120"), field="min_age")
    if values["verification"] == Verification.ACCOUNT and (values["district"] is not None or age):
        raise Invalid(
            gettext_noop(
                "accounts carry no address or age, so residence in a district and a minimum age cannot be "
                "checked: choose the census list or code letters as verification"
            ),
            field="verification",
        )


def _validate(city: City, values: Mapping[str, Any], pk: int | None, changed: set[str]) -> None:
    """Check the groups of settings touched by `changed` (all of them for a new process)."""
    if changed & {"title", "description"}:
        _check_text(values)
    if "slug" in changed:
        _check_slug(city, values["slug"], pk)
    if changed & set(DATE_FIELDS):
        _check_dates(values)
    if changed & set(BALLOT_FIELDS):
        _check_ballot(values)
    if changed & {"rule", "currency"}:
        _check_rule_and_currency(values)
    if changed & set(ELIGIBILITY_FIELDS):
        _check_eligibility(city, values)


def _money(value: Any, field: str = "budget") -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Invalid(gettext_noop("the budget is a number such as 250000"), field=field) from None
    if not amount.is_finite() or amount <= 0 or amount >= MAX_BUDGET or amount != round(amount, 2):
        raise Invalid(gettext_noop("the budget must be above 0, with at most 2 decimals"), field=field)
    return amount.quantize(Decimal("0.01"))  # as stored, so answers and audit show what the database holds


# processes ------------------------------------------------------------------------------------------------


def create_process(
    *, city: City, by: User | None, title: str, budget: Any = None, **settings: Any
) -> Process:
    """A new process in the draft phase. `settings` are any of EDITABLE_FIELDS (defaults in DEFAULTS);
    `budget`, if given, opens one budget for the whole city (or the process's district)."""
    _require(by, city)
    _reject_unknown(settings, EDITABLE_FIELDS)
    values = _normalised({**DEFAULTS, **settings, "title": title})
    changed = set(EDITABLE_FIELDS)
    if not values["slug"]:
        values["slug"] = free_slug(city, values["title"])
    _validate(city, values, None, changed)
    amount = _money(budget) if budget is not None else None
    try:
        with transaction.atomic():
            process = Process.objects.create(city=city, phase=Phase.DRAFT, **values)
    except IntegrityError:  # a process with that address was created meanwhile
        raise Invalid(gettext_noop("another process already uses this address"), field="slug") from None
    _audit(process, by, "process_created", **{k: _jsonable(v) for k, v in values.items()})
    if amount is not None:
        district = values["district"]
        area = BudgetArea.objects.create(
            process=process, name=district.name if district else city.name, district=district, budget=amount
        )
        _audit(process, by, "area_added", area=area.pk, name=area.name, budget=str(amount))
    return process


def update_process(*, process: Process, by: User | None, **changes: Any) -> Process:
    """Change any of EDITABLE_FIELDS. Only what actually changes is checked and audited (old and new value);
    an empty slug keeps the current one."""
    _require(by, process.city)
    _reject_unknown(changes, EDITABLE_FIELDS)
    current = {name: getattr(process, name) for name in EDITABLE_FIELDS}
    proposed = _normalised({**current, **changes})
    proposed["slug"] = proposed["slug"] or current["slug"]
    changed = {name for name in EDITABLE_FIELDS if proposed[name] != current[name]}
    frozen = sorted(changed & set(FROZEN_FIELDS))
    if frozen and voting_has_opened(process):
        raise Conflict(
            gettext_noop(
                "“%(setting)s” cannot change once voting has opened: the ballot, the rule, who may vote "
                "and the budgets stay as voters saw them"
            ),
            field=frozen[0],
            setting=_label(frozen[0]),
        )
    _validate(process.city, proposed, process.pk, changed)
    if not changed:
        return process
    for name in changed:
        setattr(process, name, proposed[name])
    try:
        with transaction.atomic():
            process.save(update_fields=sorted(changed))
    except IntegrityError:
        raise Invalid(gettext_noop("another process already uses this address"), field="slug") from None
    diff = {name: [_jsonable(current[name]), _jsonable(proposed[name])] for name in sorted(changed)}
    _audit(process, by, "process_updated", **diff)
    return process


# budget areas ---------------------------------------------------------------------------------------------


def _areas_open(process: Process) -> None:
    if voting_has_opened(process):
        raise Conflict(gettext_noop("the budgets cannot change once voting has opened"), field="area")


def _check_area(process: Process, values: dict[str, Any], pk: int | None) -> dict[str, Any]:
    name = (values.get("name") or "").strip()
    category = (values.get("category") or "").strip()
    if not 1 <= len(name) <= 200:
        raise Invalid(gettext_noop("the budget needs a name of 1 to 200 characters"), field="name")
    if process.areas.filter(name__iexact=name).exclude(pk=pk).exists():
        raise Invalid(
            gettext_noop("this process already has a budget named %(name)s"), field="name", name=name
        )
    if len(category) > 100:
        raise Invalid(gettext_noop("the category has at most 100 characters"), field="category")
    _check_district(process.city, values.get("district"), "district")
    return {**values, "name": name, "category": category, "budget": _money(values.get("budget"))}


def add_area(
    *,
    process: Process,
    by: User | None,
    name: str,
    budget: Any,
    district: Neighbourhood | None = None,
    category: str = "",
) -> BudgetArea:
    """A budget counted on its own: for a district, a category, or the whole city."""
    _require(by, process.city)
    _areas_open(process)
    values = _check_area(
        process, {"name": name, "budget": budget, "district": district, "category": category}, None
    )
    area = BudgetArea.objects.create(process=process, **values)
    _audit(process, by, "area_added", area=area.pk, **{k: _jsonable(v) for k, v in values.items()})
    return area


def update_area(*, area: BudgetArea, by: User | None, **changes: Any) -> BudgetArea:
    """Change any of AREA_FIELDS; the budget cannot drop below the cost of a project already on it."""
    process = area.process
    _require(by, process.city)
    _reject_unknown(changes, AREA_FIELDS)
    _areas_open(process)
    current = {name: getattr(area, name) for name in AREA_FIELDS}
    proposed = _check_area(process, {**current, **changes}, area.pk)
    dearest = area.projects.order_by("-cost").values_list("cost", flat=True).first()
    if dearest is not None and proposed["budget"] < dearest:
        raise Invalid(
            gettext_noop("a project on this budget costs %(cost)s, more than %(budget)s"),
            field="budget",
            cost=dearest,
            budget=proposed["budget"],
        )
    changed = sorted(name for name in AREA_FIELDS if proposed[name] != current[name])
    if not changed:
        return area
    for name in changed:
        setattr(area, name, proposed[name])
    area.save(update_fields=changed)
    diff = {name: [_jsonable(current[name]), _jsonable(proposed[name])] for name in changed}
    _audit(process, by, "area_updated", area=area.pk, **diff)
    return area


def area_in_use(area: BudgetArea) -> bool:
    return area.proposals.exists() or area.projects.exists()


def remove_area(*, area: BudgetArea, by: User | None) -> None:
    """Remove a budget nobody has used yet (no proposals, no projects)."""
    process = area.process
    _require(by, process.city)
    _areas_open(process)
    if area_in_use(area):
        raise Conflict(
            gettext_noop("proposals or projects use the budget %(name)s: it cannot be removed"),
            field="area",
            name=area.name,
        )
    details = {"area": area.pk, "name": area.name, "budget": str(area.budget)}
    area.delete()
    _audit(process, by, "area_removed", **details)


def district_in(city: City, district_id: int | None, field: str = "district") -> Neighbourhood | None:
    """The city's district with that id (None for none); the edges resolve ids with this."""
    if district_id is None:
        return None
    district = Neighbourhood.objects.filter(pk=district_id).first()
    if district is None:
        raise Invalid(gettext_noop("no such district"), field=field)
    _check_district(city, district, field)
    return district
