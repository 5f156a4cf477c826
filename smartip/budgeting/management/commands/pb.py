import json as json_module
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smartip.core.cli import print_json, run_action

CREATE_OPTIONS = (
    "slug",
    "description",
    "currency",
    "ballot",
    "min_projects",
    "max_projects",
    "total_points",
    "max_points_per_project",
    "rule",
    "verification",
    "min_age",
    "proposals_open",
    "review_open",
    "voting_open",
    "voting_close",
    "results_on",
)


def _create_arguments(create: Any) -> None:
    from datetime import date

    from smartip.budgeting.counting import all_rule_names
    from smartip.budgeting.models import BallotKind, Verification

    create.add_argument("--file", help="a JSON file with the API's body (POST /api/budgeting/processes)")
    create.add_argument("--city")
    create.add_argument("--title")
    create.add_argument("--budget", help="the budget for the whole city, e.g. 250000")
    create.add_argument("--slug")
    create.add_argument("--description")
    create.add_argument("--currency", help="3-letter code (default EUR)")
    create.add_argument("--ballot", choices=BallotKind.values, help="default approval_budget")
    for name in ("min_projects", "max_projects", "total_points", "max_points_per_project", "min_age"):
        create.add_argument("--" + name.replace("_", "-"), type=int, dest=name)
    create.add_argument("--rule", choices=all_rule_names(), metavar="RULE", help="default mes-add1-greedy")
    create.add_argument("--verification", choices=Verification.values, help="default account")
    for name in ("proposals_open", "review_open", "voting_open", "voting_close", "results_on"):
        create.add_argument(
            "--" + name.replace("_", "-"), type=date.fromisoformat, dest=name, metavar="YYYY-MM-DD"
        )
    create.add_argument("--json", action="store_true", help="print the process as JSON")


def _create_payload(
    city: str | None, title: str | None, budget: str | None, file: str | None, opts: dict[str, Any]
) -> Any:
    """The API's ProcessIn from a JSON file (the API body) and/or the options (options win)."""
    from pydantic import ValidationError

    from smartip.budgeting.schemas import ProcessIn

    try:
        data = json_module.loads(Path(file).read_text(encoding="utf-8")) if file else {}
    except json_module.JSONDecodeError as exc:
        raise CommandError(f"{file}: line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, dict):
        raise CommandError(f"{file}: expected a JSON object (the API's body)")
    given = {"city": city, "title": title, "budget": budget, **{k: opts.get(k) for k in CREATE_OPTIONS}}
    if given.pop("ballot") is not None:
        given["ballot_kind"] = opts["ballot"]
    data.update({k: v for k, v in given.items() if v is not None})
    try:
        return ProcessIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CommandError(f"{file or 'options'}: field {where}: {first['msg']}") from None


class Command(BaseCommand):
    help = (
        "Participatory budgeting: count FILE.pb --rule RULE; import FILE.pb --city CITY; "
        "export PROCESS [--area ID]; create --city CITY --title TITLE --budget AMOUNT; "
        "census PROCESS --file CODES"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        from smartip.budgeting.counting import all_rule_names

        sub = parser.add_subparsers(dest="action", required=True)
        count = sub.add_parser("count", help="count a pabulib file with a rule")
        count.add_argument("file")
        count.add_argument(
            "--rule",
            required=True,
            choices=all_rule_names(),
            metavar="RULE",
            help="one of: " + ", ".join(all_rule_names()),
        )
        count.add_argument("--json", action="store_true")
        imp = sub.add_parser("import", help="import a pabulib file as a process with its anonymous ballots")
        imp.add_argument("file")
        imp.add_argument("--city", required=True)
        _create_arguments(sub.add_parser("create", help="create a process (draft) with one budget"))
        exp = sub.add_parser("export", help="export a process's ballots as a pabulib file")
        exp.add_argument("process", help="process id or CITY/SLUG")
        exp.add_argument("--output", "-o", help="file to write (default: standard output)")
        exp.add_argument("--area", help="the budget's id (needed when the process has several budgets)")
        census = sub.add_parser(
            "census", help="load census codes (CODE or CODE;DISTRICT;BIRTH_YEAR per line)"
        )
        census.add_argument("process", help="process id or CITY/SLUG")
        census.add_argument("--file", required=True, help="a text/CSV file, one code per line ('-': stdin)")
        census.add_argument("--json", action="store_true")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        run_action(self, action, opts)

    def do_count(self, file: str, rule: str, json: bool, **_: Any) -> None:
        import time

        from smartip.budgeting.counting import count
        from smartip.budgeting.pabulib import load_election

        started = time.perf_counter()
        election = load_election(Path(file))
        parsed_s = time.perf_counter() - started
        result = count(election, rule)
        if json:
            out = result.as_dict()
            out["parse_s"] = round(parsed_s, 6)
            print_json(out)
            return
        self.stdout.write(f"rule:       {result.rule}")
        self.stdout.write(f"selected:   {' '.join(result.selected) or '(none)'}")
        self.stdout.write(
            f"projects:   {len(result.selected)} of {election.n_projects}, {election.n_voters} voters"
        )
        self.stdout.write(f"total cost: {result.total_cost:,.2f} of {result.budget:,.2f}")
        self.stdout.write(f"time:       {result.duration_s:.3f} s counting, {parsed_s:.3f} s reading")

    def do_import(self, file: str, city: str, **_: Any) -> None:
        from django.db import transaction

        from smartip.budgeting.io import import_pabulib
        from smartip.budgeting.services import audit_import
        from smartip.cities.services import get_city

        with transaction.atomic():
            process = import_pabulib(path=Path(file), city=get_city(city), progress=sys.stderr)
            audit_import(process=process, source=Path(file).name)
        self.stdout.write(
            f"imported process {process.pk} ({process.city.slug}/{process.slug}): "
            f"{process.projects.count()} projects, {process.ballots.count()} ballots"
        )

    def do_create(
        self,
        city: str | None,
        title: str | None,
        budget: str | None,
        file: str | None,
        json: bool,
        **opts: Any,
    ) -> None:
        from django.db import transaction

        from smartip.budgeting.api import create_from, process_out

        with transaction.atomic():
            process = create_from(_create_payload(city, title, budget, file, opts), None)
        if json:
            print_json(process_out(process).model_dump(mode="json"))
            return
        self.stdout.write(
            f"created process {process.pk} ({process.city.slug}/{process.slug}) in preparation, "
            f"budget {process.total_budget} {process.currency}; open proposals on its manage page"
        )

    def do_export(self, process: str, output: str | None, area: str | None, **_: Any) -> None:
        from smartip.budgeting.io import export_area, export_pabulib, find_process
        from smartip.budgeting.services import audit_export

        found = find_process(process)
        chosen = export_area(found, area)
        text = export_pabulib(process=found, area=chosen)
        audit_export(process=found, by=None, area=chosen)
        if output:
            Path(output).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")

    def do_census(self, process: str, file: str, json: bool, **_: Any) -> None:
        """The page's format; the whole file is checked first and a bad line stores nothing."""
        from django.db import transaction

        from smartip.budgeting import census
        from smartip.budgeting.io import find_process
        from smartip.budgeting.services import add_census
        from smartip.core.errors import Invalid

        found = find_process(process)
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file}: not UTF-8 text (byte {exc.start})") from None
        try:
            with transaction.atomic():
                n = add_census(
                    process=found, by=None, codes=census.resolve(found, census.rows_from_text(text))
                )
        except Invalid as exc:
            raise CommandError(f"{file}: {exc.message}") from None
        if json:
            print_json({"process": found.pk, "loaded": n, "census_size": found.census.count()})
            return
        self.stdout.write(f"loaded {n} census codes into process {found.pk} ({found.city.slug}/{found.slug})")
