"""Mobility background jobs, on Django's tasks framework: the backend (in-process or a database queue worked by
`smartip worker`) is chosen by name in settings (TASK_BACKEND), never here.

A job is a thin edge like an API handler: it takes JSON-serialisable arguments (ids, not objects: the job
may run on another machine, later), calls one service and returns a small JSON summary that the queue keeps.
"""

from typing import Any

from django.tasks import task


@task()
def process_trace_job(*, trace_id: int) -> dict[str, Any]:
    """Derive a trace's stay points, trips, legs and matched segments (see `services.processing`)."""
    from smartip.mobility.services import run_processing

    return run_processing(trace_id=trace_id)
