"""Test data builders shared by every domain's tests (named users per role, cities)."""

from smartip.accounts.models import Role, User
from smartip.accounts.services import grant_role
from smartip.cities.models import City, Department

PASSWORD = "correct-horse-battery-staple"


def make_user(
    username: str,
    *,
    city: City | None = None,
    role: str | None = None,
    department: Department | None = None,
    **extra: object,
) -> User:
    user = User.objects.create_user(
        username=username, email=f"{username}@example.org", password=PASSWORD, **extra
    )
    if city is not None and role is not None:
        grant_role(user=user, city=city, role=role, department=department)
    return user


def role_users(city: City) -> dict[str, User]:
    """One named user per role in `city` (department staff in the city's first department)."""
    dept = city.departments.order_by("slug").first()
    users = {"anonymous": None}
    for role in Role.values:
        users[role] = make_user(
            f"{city.slug}_{role}",
            city=city,
            role=role,
            department=dept if role == Role.DEPARTMENT_STAFF else None,
        )
    return users  # type: ignore[return-value]
