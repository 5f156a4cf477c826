import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from tqdm import tqdm

from smartip.core.demo import domain_loaders, load_demo


class Command(BaseCommand):
    help = "Load demo data for the five cities (idempotent) and print the demo accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--json", action="store_true", help="print the accounts as JSON on stdout")

    def handle(self, *args: Any, seed: int, json: bool, **opts: Any) -> None:
        steps = 5 * (1 + len(domain_loaders()))
        with tqdm(total=steps, desc="demo data", file=sys.stderr, disable=None) as bar:

            def progress(msg: str) -> None:
                bar.set_postfix_str(msg[:40])
                bar.update(1)

            with transaction.atomic():
                creds = load_demo(seed=seed, progress=progress)
        if json:
            self.stdout.write(_dumps([c.__dict__ for c in creds]))
            return
        self.stdout.write("\nDemo accounts (user name / password):")
        for c in creds:
            self.stdout.write(f"  {c.city:<11} {c.role:<17} {c.username:<30} {c.password}")
        self.stdout.write("\nOpen http://127.0.0.1:8000/ and log in with any of them.")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2)
