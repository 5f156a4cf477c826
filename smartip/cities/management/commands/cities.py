import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from smartip.cities import services
from smartip.cities.models import City
from smartip.core.errors import DomainError


class Command(BaseCommand):
    help = "Cities and neighbourhoods: list, add FILE.json, import-neighbourhoods CITY FILE.geojson"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        lst = sub.add_parser("list", help="list cities")
        lst.add_argument("--json", action="store_true")
        add = sub.add_parser(
            "add", help="add or update cities from a JSON file (a list like data/cities.json)"
        )
        add.add_argument("file")
        imp = sub.add_parser(
            "import-neighbourhoods", help="import neighbourhoods from a GeoJSON FeatureCollection"
        )
        imp.add_argument("city")
        imp.add_argument("file")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        try:
            getattr(self, "do_" + action.replace("-", "_"))(**opts)
        except DomainError as exc:
            where = f" (field {exc.field})" if exc.field else ""
            raise CommandError(f"{exc.message}{where}") from None

    def do_list(self, json: bool = False, **_: Any) -> None:
        rows = [
            {
                "slug": c.slug,
                "name": c.name,
                "timezone": c.timezone,
                "languages": c.languages,
                "neighbourhoods": c.neighbourhoods.count(),
            }
            for c in City.objects.all()
        ]
        if json:
            self.stdout.write(_json_dumps(rows))
            return
        for r in rows:
            self.stdout.write(
                f"{r['slug']:<14} {r['name']:<14} {r['timezone']:<18} "
                f"{','.join(r['languages']):<8} {r['neighbourhoods']} neighbourhoods"
            )

    def do_add(self, file: str, **_: Any) -> None:
        data = _read_json(file)
        with transaction.atomic():
            cities = [services.upsert_city(item) for item in (data if isinstance(data, list) else [data])]
        self.stdout.write(f"{len(cities)} cities saved")

    def do_import_neighbourhoods(self, city: str, file: str, **_: Any) -> None:
        target = services.get_city(city)
        with transaction.atomic():
            n = services.import_neighbourhoods(city=target, geojson=_read_json(file))
        self.stdout.write(f"{n} neighbourhoods imported into {target.name}")


def _read_json(file: str) -> Any:
    path = Path(file)
    if not path.is_file():
        raise CommandError(f"{file}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"{file}: not valid JSON ({exc})") from None


def _json_dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)
