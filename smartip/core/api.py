"""The JSON API (Django Ninja): one instance, domain errors mapped once to plain JSON errors."""

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from smartip.core.errors import DomainError

api = NinjaAPI(
    title="SMARTiP API",
    version="1",
    description="The JSON API behind every SMARTiP page. Authenticate with a session or an API key "
    "(header `X-API-Key`).",
    urls_namespace="api",
)


def roll_back_request() -> None:
    """The request owns the transaction (ATOMIC_REQUESTS): an error answer must leave nothing half-written,
    although the exception is turned into a response before it reaches the atomic block."""
    if transaction.get_connection().in_atomic_block:
        transaction.set_rollback(True)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    roll_back_request()
    return api.create_response(request, {"error": exc.as_dict()}, status=exc.status)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    roll_back_request()
    errors = []
    for e in exc.errors:
        loc = [str(p) for p in e.get("loc", []) if p not in ("body", "query", "path", "form", "payload")]
        errors.append({"field": ".".join(loc), "message": e.get("msg", "invalid")})
    first = errors[0] if errors else {"field": "", "message": "invalid input"}
    body = {
        "error": {"code": "invalid", "field": first["field"], "message": first["message"]},
        "errors": errors,
    }
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    body = {"error": {"code": "unauthorized", "message": "log in or send a valid X-API-Key"}}
    return api.create_response(request, body, status=401)


def register_routers() -> None:
    """Each domain adds its router here (the composition root)."""
    from smartip.accounts.api import router as accounts_router
    from smartip.budgeting.api import router as budgeting_router
    from smartip.cities.api import router as cities_router
    from smartip.mobility.api import router as mobility_router
    from smartip.reports.api import router as reports_router
    from smartip.sensing.api import router as sensing_router

    api.add_router("/cities", cities_router)
    api.add_router("/accounts", accounts_router)
    api.add_router("/reports", reports_router)
    api.add_router("/sensing", sensing_router)
    api.add_router("/budgeting", budgeting_router)
    api.add_router("/mobility", mobility_router)
