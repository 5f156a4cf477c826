"""Bulk import of trace folders from the command line (GeoLife-style: one sub-folder per person)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction

from smartip.accounts.models import User
from smartip.cities.models import City
from smartip.core.errors import Invalid
from smartip.mobility.models import Trace, TraceStatus
from smartip.mobility.services.upload import upload_trace

IMPORT_SUFFIXES = (".plt", ".gpx")


def import_folder(
    *,
    folder: Path,
    city: City,
    purpose: str,
    process: bool = True,
    progress: Any = None,
    total: Any = None,
) -> dict[str, Any]:
    """Import `folder/<user>/**/*.plt|*.gpx`: one user per sub-folder (username `<city>-import-<folder>`), one
    trace per file, each in its own transaction; files the readers refuse or that leave the city are skipped
    and reported, never half-stored. Each trace's processing job is enqueued as its transaction commits:
    `trips` counts the trips derived by the end of the import, `queued` the traces still waiting for a worker
    (none with the immediate backend)."""
    from smartip.mobility.readers import read_trace

    people = sorted(p for p in folder.iterdir() if p.is_dir())
    files = [
        (person, f)
        for person in people
        for f in sorted(person.rglob("*"))
        if f.suffix.lower() in IMPORT_SUFFIXES
    ]
    if total is not None:
        total(len(files))
    report: dict[str, Any] = {"users": 0, "traces": 0, "fixes": 0, "trips": 0, "queued": 0, "skipped": []}
    users: dict[Path, User] = {}
    for person, path in files:
        if person not in users:
            users[person], _ = User.objects.get_or_create(username=f"{city.slug}-import-{person.name}"[:150])
        try:
            with transaction.atomic():
                trace = upload_trace(
                    owner=users[person],
                    city=city,
                    fixes=read_trace(path),
                    source_format=path.suffix.lower().lstrip("."),
                    consent=True,
                    purpose=purpose,
                    name=f"{person.name}/{path.name}",
                    process=process,
                )
            report["traces"] += 1
            report["fixes"] += trace.n_fixes
            # after the commit: with the immediate backend the job has run, otherwise it waits for a worker
            report["trips"] += trace.trips.count()
            report["queued"] += Trace.objects.filter(pk=trace.pk, status=TraceStatus.QUEUED).count()
        except Invalid as exc:
            report["skipped"].append({"file": str(path.relative_to(folder)), "reason": exc.message})
        if progress is not None:
            progress(1)
    report["users"] = len(users)
    return report
