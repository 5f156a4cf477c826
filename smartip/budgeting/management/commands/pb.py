import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from smartip.core.cli import print_json, run_action


class Command(BaseCommand):
    help = "Participatory budgeting: count FILE.pb --rule RULE; import FILE.pb --city CITY; export PROCESS"

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
        exp = sub.add_parser("export", help="export a process's ballots as a pabulib file")
        exp.add_argument("process", help="process id or CITY/SLUG")
        exp.add_argument("--output", "-o", help="file to write (default: standard output)")

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
        from smartip.cities.services import get_city

        with transaction.atomic():
            process = import_pabulib(path=Path(file), city=get_city(city), progress=sys.stderr)
        self.stdout.write(
            f"imported process {process.pk} ({process.city.slug}/{process.slug}): "
            f"{process.projects.count()} projects, {process.ballots.count()} ballots"
        )

    def do_export(self, process: str, output: str | None, **_: Any) -> None:
        from smartip.budgeting.io import export_pabulib, find_process

        text = export_pabulib(process=find_process(process))
        if output:
            Path(output).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
