"""Demo data for the five cities: the composition root calls each domain's demo loader in turn."""

import importlib
import random
from collections.abc import Callable
from dataclasses import dataclass

from smartip.accounts.models import Role, User
from smartip.accounts.services import grant_role
from smartip.cities.demo import demo_neighbourhoods
from smartip.cities.models import City
from smartip.cities.services import import_neighbourhoods, load_cities


@dataclass
class DemoCredentials:
    city: str
    role: str
    username: str
    password: str


def demo_password(role: str) -> str:
    return f"demo-{role.replace('_', '-')}-2026"


def ensure_demo_users(city: City) -> tuple[dict[str, User], list[DemoCredentials]]:
    users: dict[str, User] = {}
    creds = []
    dept = city.departments.order_by("slug").first()
    for role in Role.values:
        username = f"{city.slug}-{role.replace('_', '-')}"
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@demo.smartip.local",
                "language": city.default_language,
                "home_city": city,
                "display_name": f"{city.name} {Role(role).label}",
            },
        )
        if created:
            user.set_password(demo_password(role))
            user.save(update_fields=["password"])
        grant_role(
            user=user, city=city, role=role, department=dept if role == Role.DEPARTMENT_STAFF else None
        )
        users[role] = user
        creds.append(DemoCredentials(city.slug, role, username, demo_password(role)))
    for i in range(12):  # more citizens, so reports and votes come from many people
        username = f"{city.slug}-resident-{i + 1}"
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@demo.smartip.local",
                "home_city": city,
                "language": city.default_language,
            },
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            grant_role(user=user, city=city, role=Role.CITIZEN)
        users[f"resident{i + 1}"] = user
    return users, creds


def domain_loaders() -> list[tuple[str, Callable[..., object]]]:
    """Demo loaders of the domains present: `smartip.<domain>.demo.load_demo(*, city, users, rng)`."""
    found = []
    for domain in ("reports", "budgeting", "sensing", "mobility", "opendata"):
        try:
            module = importlib.import_module(f"smartip.{domain}.demo")
        except ModuleNotFoundError:
            continue
        found.append((domain, module.load_demo))
    return found


def load_demo(
    *, seed: int = 2026, progress: Callable[[str], None] = lambda _msg: None
) -> list[DemoCredentials]:
    """Idempotent for cities, neighbourhoods and users; domain data is added only to cities that have none."""
    rng = random.Random(seed)
    creds: list[DemoCredentials] = []
    for city in load_cities():
        progress(f"{city.name}: neighbourhoods and users")
        if not city.neighbourhoods.exists():
            import_neighbourhoods(city=city, geojson=demo_neighbourhoods(city, rng))
        users, city_creds = ensure_demo_users(city)
        creds += city_creds
        for domain, loader in domain_loaders():
            progress(f"{city.name}: {domain}")
            loader(city=city, users=users, rng=random.Random(f"{seed}-{city.slug}-{domain}"))
    return creds
