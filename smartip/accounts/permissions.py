"""Who may do what: the role checks every page and API share (one rule per object type lives in its domain)."""

from django.contrib.auth.models import AnonymousUser

from smartip.accounts.models import Role, User
from smartip.cities.models import City

STAFF_ROLES = frozenset({Role.MODERATOR, Role.DEPARTMENT_STAFF, Role.ADMIN})


def has_role(user: User | AnonymousUser | None, city: City, *roles: str) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return bool(user.roles_in(city) & set(roles))  # type: ignore[union-attr]


def is_city_staff(user: User | AnonymousUser | None, city: City) -> bool:
    return has_role(user, city, *STAFF_ROLES)


def can_manage_city(user: User | AnonymousUser | None, city: City) -> bool:
    return has_role(user, city, Role.ADMIN)
