"""Census lists: each entry is a code, optionally with the resident's district and birth year.

Every entry point (the staff page, the API, `smartip pb census`) parses its input into `CensusRow`s and
`resolve` turns them into what `services.add_census` stores, or refuses the whole list with an error naming
the line (the Nth code for the API), so a bad line stores nothing."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone
from django.utils.text import slugify

from smartip.budgeting.models import Process
from smartip.cities.models import Neighbourhood
from smartip.core.errors import Invalid, gettext_noop

OLDEST_BIRTH_YEAR = 1900
SEPARATOR = ";"


@dataclass(frozen=True)
class CensusRow:
    line: int  # 1-based: the line of the text, or the position in the API's list
    code: str
    district: str | int | None = None  # a district's id, name, code or slugified name
    birth_year: str | int | None = None


def rows_from_text(text: str) -> list[CensusRow]:
    """`CODE` or `CODE;DISTRICT;BIRTH_YEAR` per line (either of the last two may be empty); blank lines and
    lines starting with # are skipped."""
    rows = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(SEPARATOR)]
        if len(parts) > 3:
            raise Invalid(
                gettext_noop("line %(line)s: write CODE or CODE;DISTRICT;BIRTH_YEAR (found %(n)s fields)"),
                field="codes",
                line=number,
                n=len(parts),
            )
        code, district, year = (parts + ["", ""])[:3]
        rows.append(CensusRow(number, code, district or None, year or None))
    return rows


def resolve(process: Process, rows: Iterable[CensusRow]) -> list[tuple[str, int | None, int | None]]:
    """(code, district id, birth year) for `services.add_census`; the first bad row refuses the list."""
    districts = list(Neighbourhood.objects.filter(city_id=process.city_id).only("pk", "code", "name"))
    this_year = timezone.localdate().year
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        code = row.code.strip()
        if not code:
            raise Invalid(gettext_noop("line %(line)s: the code is missing"), field="codes", line=row.line)
        if len(code) > 64:
            raise Invalid(
                gettext_noop("line %(line)s: a code has at most 64 characters"), field="codes", line=row.line
            )
        key = code.upper()
        if key in seen:
            raise Invalid(
                gettext_noop("line %(line)s: the code is listed twice (first on line %(first)s)"),
                field="codes",
                line=row.line,
                first=seen[key],
            )
        seen[key] = row.line
        out.append((code, _district(districts, row), _birth_year(row, this_year)))
    return out


def _district(districts: Sequence[Neighbourhood], row: CensusRow) -> int | None:
    if row.district is None or row.district == "":
        return None
    wanted = str(row.district).strip()
    for d in districts:
        if wanted == str(d.pk) or wanted.casefold() in (
            d.name.casefold(),
            d.code.casefold(),
            slugify(d.name),
        ):
            return d.pk
    raise Invalid(
        gettext_noop("line %(line)s: no district %(district)s in this city"),
        field="codes",
        line=row.line,
        district=repr(wanted),
    )


def _birth_year(row: CensusRow, this_year: int) -> int | None:
    if row.birth_year is None or row.birth_year == "":
        return None
    text = str(row.birth_year).strip()
    if not (len(text) == 4 and text.isdigit() and OLDEST_BIRTH_YEAR <= int(text) <= this_year):
        raise Invalid(
            gettext_noop("line %(line)s: the birth year %(year)s is not a year from %(first)s to %(last)s"),
            field="codes",
            line=row.line,
            year=repr(text),
            first=OLDEST_BIRTH_YEAR,
            last=this_year,
        )
    return int(text)


def old_enough(birth_year: int, min_age: int, year: int) -> bool:
    """Only the birth year is known, so the rule is the conservative one: the voter had turned `min_age` by
    1 January of the voting year (born in `year - min_age - 1` or before). Someone who turns `min_age`
    during the voting year is refused, since the list cannot show they already have."""
    return birth_year <= year - min_age - 1
