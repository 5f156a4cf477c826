"""Demo reports for one city, through the real services: every state, updates, notes, supports, a duplicate,
a flagged report and small generated photos. Deterministic for a given rng; skipped if the city has reports."""

import io
import random
from datetime import timedelta
from typing import Any

from django.test.utils import override_settings
from django.utils import timezone
from PIL import Image, ImageDraw

from smartip.accounts.models import User
from smartip.cities.models import City
from smartip.reports import services
from smartip.reports.models import Category, CloseReason, Report

DESCRIPTIONS = {
    "waste": "The bins on this street were not emptied this week.",
    "flytipping": "Someone has dumped a mattress and bags of rubbish here.",
    "litter": "Lots of cans and bottles left on the grass.",
    "graffiti": "Fresh graffiti on the wall by the bus stop.",
    "parks": "The swing in the playground is broken.",
    "streetlight": "The street light outside number 12 has been off for days.",
    "pothole": "A deep pothole in the cycle lane.",
    "noise": "Loud music from the warehouse every night after midnight.",
}
PLAN = [
    "open",
    "open",
    "acknowledged",
    "in_progress",
    "fixed",
    "closed",
    "reopened",
    "fixed",
    "open",
    "in_progress",
]


def _photo(rng: random.Random) -> bytes:
    img = Image.new("RGB", (160, 120), tuple(rng.randrange(60, 200) for _ in range(3)))  # type: ignore[arg-type]
    draw = ImageDraw.Draw(img)
    for _ in range(4):
        x, y = rng.randrange(0, 140), rng.randrange(0, 100)
        draw.rectangle([x, y, x + 20, y + 15], fill=tuple(rng.randrange(0, 255) for _ in range(3)))  # type: ignore[arg-type]
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def _answers(category: Category, rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr in category.attributes:
        if attr.get("datatype") in ("singlevaluelist", "multivaluelist") and attr.get("values"):
            out[attr["code"]] = rng.choice(attr["values"])["key"]
    return out


def _advance(report: Report, state: str, staff: User, reporter: User | None, rng: random.Random) -> None:
    steps = {
        "acknowledged": ["acknowledged"],
        "in_progress": ["acknowledged", "in_progress"],
        "fixed": ["in_progress", "fixed"],
        "closed": ["closed"],
        "reopened": ["fixed"],
    }.get(state, [])
    for step in steps:
        reason = rng.choice([r for r in CloseReason.values if r != "duplicate"]) if step == "closed" else ""
        services.change_status(
            report=report,
            by=staff,
            status=step,
            reason=reason,
            text="Thank you, we are looking into it." if step != "fixed" else "Done.",
        )
    if state == "reopened" and reporter is not None:
        services.reopen(report=report, by=reporter, text="It is back again.")


def load_demo(*, city: City, users: dict[str, User], rng: random.Random, n_reports: int = 30) -> int:
    """Create n_reports reports in `city`; returns how many were made (0 if the city already has reports)."""
    if Report.objects.filter(city=city).exists():
        return 0
    categories = services.ensure_categories(city)
    residents = [u for k, u in users.items() if k.startswith("resident") or k == "citizen"] or list(
        users.values()
    )
    moderator = users.get("moderator")
    made: list[Report] = []
    now = timezone.now()
    with override_settings(NOTIFIER="console"):
        for i in range(n_reports):
            category = rng.choice(categories)
            reporter = rng.choice(residents)
            lat = rng.uniform(
                city.min_lat + 0.1 * (city.max_lat - city.min_lat),
                city.max_lat - 0.1 * (city.max_lat - city.min_lat),
            )
            lon = rng.uniform(
                city.min_lon + 0.1 * (city.max_lon - city.min_lon),
                city.max_lon - 0.1 * (city.max_lon - city.min_lon),
            )
            report = services.create_report(
                city=city,
                category=category,
                lat=lat,
                lon=lon,
                reporter=reporter,
                description=DESCRIPTIONS.get(category.service_code, category.name),
                photos=[_photo(rng)] if i % 3 == 0 else [],
                is_anonymous=i % 5 == 0,
                attributes=_answers(category, rng),
            )
            age = timedelta(days=rng.uniform(0, 60))
            Report.objects.filter(pk=report.pk).update(created_at=now - age, updated_at=now - age)
            if moderator is not None:
                _advance(report, PLAN[i % len(PLAN)], moderator, reporter, rng)
                if i % 4 == 1:
                    services.add_update(
                        report=report, by=moderator, text="Asked the contractor for a date.", public=False
                    )
            for supporter in rng.sample(residents, k=min(len(residents), rng.randrange(0, 4))):
                if supporter != reporter and report.is_open:
                    services.support(report=report, user=supporter)
            made.append(report)
        open_reports = [r for r in made if r.is_open]
        if moderator is not None and len(open_reports) >= 2:
            services.mark_duplicate(report=open_reports[-1], by=moderator, original=open_reports[0])
        flaggers = [u for u in residents if open_reports and u.pk != open_reports[0].reporter_id][:1]
        for user in flaggers:
            services.flag(report=open_reports[0], by=user, reason="Contains a car number plate")
    return len(made)
