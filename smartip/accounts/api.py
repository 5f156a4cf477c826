from django.http import HttpRequest
from ninja import Router, Status

from smartip.accounts import services
from smartip.accounts.auth import REQUIRED
from smartip.accounts.models import ApiKey, Membership, User
from smartip.accounts.schemas import ApiKeyCreatedOut, ApiKeyIn, ApiKeyOut, MeOut, RegisterIn
from smartip.cities.services import get_city

router = Router(tags=["accounts"])


def _me(user: User) -> MeOut:
    roles: dict[str, list[str]] = {}
    for m in Membership.objects.filter(user=user).select_related("city"):
        roles.setdefault(m.city.slug, []).append(m.role)
    return MeOut(
        id=user.pk,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        language=user.language,
        roles=roles,
    )


@router.post("/register", response={201: MeOut})
def register(request: HttpRequest, payload: RegisterIn) -> Status[MeOut]:
    city = get_city(payload.city) if payload.city else None
    user = services.register(
        username=payload.username,
        email=payload.email,
        password=payload.password,
        city=city,
        language=payload.language,
    )
    return Status(201, _me(user))


@router.get("/me", response=MeOut, auth=REQUIRED)
def me(request: HttpRequest) -> MeOut:
    return _me(request.user)  # type: ignore[arg-type]


@router.get("/keys", response=list[ApiKeyOut], auth=REQUIRED)
def list_keys(request: HttpRequest) -> list[ApiKey]:
    return list(request.user.api_keys.all())  # type: ignore[union-attr]


@router.post("/keys", response={201: ApiKeyCreatedOut}, auth=REQUIRED)
def create_key(request: HttpRequest, payload: ApiKeyIn) -> Status[ApiKeyCreatedOut]:
    key, raw = services.create_api_key(user=request.user, name=payload.name, kind=payload.kind)  # type: ignore[arg-type]
    return Status(201, ApiKeyCreatedOut(**ApiKeyOut.from_orm(key).dict(), key=raw))


@router.delete("/keys/{key_id}", response=ApiKeyOut, auth=REQUIRED)
def revoke_key(request: HttpRequest, key_id: int) -> ApiKey:
    return services.revoke_api_key(user=request.user, key_id=key_id)  # type: ignore[arg-type]
