"""The `smartip` command: serve, demo, migrate, createadmin, and each domain's subcommands.

Domain commands are Django management commands named `<domain>` (e.g. `smartip cities import-neighbourhoods`
runs the `cities` management command); this entry point only sets up Django and dispatches.
"""

import os
import sys

TOP_LEVEL = {
    "serve": "Run the web server (default 127.0.0.1:8000)",
    "demo": "Load demo data for the five cities",
    "migrate": "Create or update the database tables",
    "createadmin": "Create a platform administrator",
    "cities": "Cities and neighbourhoods (import-neighbourhoods CITY FILE, list)",
    "worker": "Run background jobs from the database queue (TASK_BACKEND=database; --batch to drain and exit)",
}
#: `smartip worker` is django-tasks-db's `db_worker` on every queue, without the code reloader; options given
#: after it win (argparse keeps the last), e.g. `smartip worker --queue-name default --max-tasks 100`.
WORKER_DEFAULTS = ["--queue-name", "*", "--no-reload"]


def _usage() -> str:
    lines = ["usage: smartip COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<12} {text}" for name, text in TOP_LEVEL.items()]
    lines += ["", "Any Django management command also works (smartip help for the list)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartip.settings")
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    from django.core.management import execute_from_command_line

    command, rest = args[0], args[1:]
    if command == "serve":
        command = "runserver"
        if not rest or rest[0].startswith("-"):
            rest = ["127.0.0.1:8000", *rest]
    if command == "worker":
        problem = _worker_problem()
        if problem:
            print(f"smartip worker: {problem}", file=sys.stderr)
            return 2
        command, rest = "db_worker", [*WORKER_DEFAULTS, *rest]
    try:
        execute_from_command_line(["smartip", command, *rest])
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 1
    return 0


def _worker_problem() -> str:
    """Why there is no queue to work on, or "" (the immediate backend runs each job where it is enqueued)."""
    import django
    from django.apps import apps
    from django.conf import settings

    if not apps.ready:
        django.setup()
    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    if backend != "django_tasks_db.DatabaseBackend":
        return (
            f"the job queue is {backend.rsplit('.', 1)[-1] or 'not set'}, which runs each job where it is "
            "enqueued: there is nothing for a worker to do. Set TASK_BACKEND=database for a queue in the "
            "database, then run `smartip migrate` and `smartip worker`."
        )
    return ""


if __name__ == "__main__":
    sys.exit(main())
