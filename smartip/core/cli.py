"""Helpers shared by the domain management commands: sub-commands, --json output, errors with where."""

import json
import sys
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from smartip.core.errors import DomainError


def run_action(command: BaseCommand, action: str, opts: dict[str, Any]) -> None:
    """Dispatch `action` to `command.do_<action>`; domain errors become CommandError (exit 1)."""
    handler: Callable[..., None] = getattr(command, "do_" + action.replace("-", "_"))
    try:
        handler(**opts)
    except DomainError as exc:
        where = f" (field {exc.field})" if exc.field and exc.field not in exc.message else ""
        raise CommandError(f"{exc.message}{where}") from None
    except FileNotFoundError as exc:
        raise CommandError(f"{exc.filename}: no such file") from None


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True))]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)
