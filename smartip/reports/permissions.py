"""Who may do what to a report: one rule per action, shared by the pages, the JSON API and Open311.

Every rule is scoped to the report's city: a role held in another city grants nothing here.
"""

from django.contrib.auth.models import AnonymousUser

from smartip.accounts.models import Role, User
from smartip.accounts.permissions import has_role
from smartip.cities.models import City
from smartip.reports.models import Report

AnyUser = User | AnonymousUser | None


def _authenticated(user: AnyUser) -> bool:
    return user is not None and user.is_authenticated


def is_reporter(user: AnyUser, report: Report) -> bool:
    return _authenticated(user) and report.reporter_id is not None and report.reporter_id == user.pk  # type: ignore[union-attr]


def is_moderator(user: AnyUser, city: City) -> bool:
    return has_role(user, city, Role.MODERATOR, Role.ADMIN)


def is_department_staff(user: AnyUser, city: City, department_id: int) -> bool:
    if not has_role(user, city, Role.DEPARTMENT_STAFF):
        return False
    return department_id in user.departments_in(city)  # type: ignore[union-attr]


def is_report_staff(user: AnyUser, city: City) -> bool:
    """Anyone who works the report queue of this city (moderators, admins, any department's staff)."""
    return has_role(user, city, Role.MODERATOR, Role.ADMIN, Role.DEPARTMENT_STAFF)


def can_create(user: AnyUser, city: City) -> bool:
    """Any signed-in person may report in any city (anonymous reports come through the page with an email)."""
    return _authenticated(user)


def can_view(user: AnyUser, report: Report) -> bool:
    """Hidden reports are visible only to moderators, the report's department and its reporter."""
    if not report.is_hidden:
        return True
    return can_moderate(user, report) or can_change_status(user, report) or is_reporter(user, report)


def can_view_internal(user: AnyUser, report: Report) -> bool:
    """Internal notes, contact details and the audit trail."""
    return is_report_staff(user, report.city)


def can_change_status(user: AnyUser, report: Report) -> bool:
    return is_moderator(user, report.city) or is_department_staff(user, report.city, report.department_id)


def can_add_note(user: AnyUser, report: Report) -> bool:
    return can_change_status(user, report)


def can_comment_public(user: AnyUser, report: Report) -> bool:
    """Staff answer publicly; the reporter may add what they know (it reaches the department)."""
    return can_change_status(user, report) or is_reporter(user, report)


def can_reassign(user: AnyUser, report: Report) -> bool:
    return can_change_status(user, report)


def can_mark_duplicate(user: AnyUser, report: Report) -> bool:
    return can_change_status(user, report)


def can_reopen(user: AnyUser, report: Report) -> bool:
    return is_reporter(user, report) or can_change_status(user, report)


def can_moderate(user: AnyUser, report: Report) -> bool:
    return is_moderator(user, report.city)


def can_support(user: AnyUser, report: Report) -> bool:
    """Any signed-in person but the reporter may say "me too"."""
    return _authenticated(user) and not is_reporter(user, report)


def can_flag(user: AnyUser, report: Report) -> bool:
    return _authenticated(user) and not is_reporter(user, report)


def can_see_queue(user: AnyUser, city: City) -> bool:
    return is_report_staff(user, city)
