"""Account workflows: registration, roles, API keys."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from smartip.accounts.models import ApiKey, Membership, Role, User
from smartip.cities.models import City, Department
from smartip.core.errors import Invalid, NotFound, gettext_noop


def register(
    *, username: str, email: str, password: str, city: City | None = None, language: str = "en"
) -> User:
    username = username.strip()
    if not username or len(username) > 150:
        raise Invalid(gettext_noop("choose a user name of 1 to 150 characters"), field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise Invalid(gettext_noop("this user name is taken"), field="username")
    try:
        validate_email(email)
    except ValidationError:
        raise Invalid(gettext_noop("enter a valid email address"), field="email") from None
    if User.objects.filter(email__iexact=email).exists():
        raise Invalid(gettext_noop("an account with this email exists; use password reset"), field="email")
    try:
        validate_password(password, User(username=username, email=email))
    except ValidationError as exc:
        raise Invalid(" ".join(exc.messages), field="password") from None
    user = User.objects.create_user(
        username=username, email=email, password=password, language=language, home_city=city
    )
    if city is not None:
        Membership.objects.create(user=user, city=city, role=Role.CITIZEN)
    return user


def grant_role(*, user: User, city: City, role: str, department: Department | None = None) -> Membership:
    if role not in Role.values:
        raise Invalid(gettext_noop("unknown role %(role)s"), field="role", role=repr(role))
    if role == Role.DEPARTMENT_STAFF and department is None:
        raise Invalid(gettext_noop("department staff need a department"), field="department")
    if department is not None and department.city_id != city.pk:
        raise Invalid(gettext_noop("the department belongs to another city"), field="department")
    membership, _ = Membership.objects.get_or_create(user=user, city=city, role=role, department=department)
    user.__dict__.pop("_roles_cache", None)
    return membership


def create_api_key(*, user: User, name: str, kind: str = ApiKey.Kind.DEVELOPER) -> tuple[ApiKey, str]:
    """Returns the stored key and the raw token, which is shown once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid(gettext_noop("give the key a name of 1 to 100 characters"), field="name")
    if kind not in ApiKey.Kind.values:
        raise Invalid(
            gettext_noop("kind must be one of %(choices)s"),
            field="kind",
            choices=", ".join(ApiKey.Kind.values),
        )
    if user.api_keys.active().count() >= 50:
        raise Invalid(gettext_noop("you have 50 active keys; revoke one first"), field="name")
    return ApiKey.generate(user=user, name=name, kind=kind)


def revoke_api_key(*, user: User, key_id: int) -> ApiKey:
    key = user.api_keys.filter(pk=key_id).first()
    if key is None:
        raise NotFound(gettext_noop("no such key"), field="key_id")
    key.revoke()
    return key
