from datetime import datetime

from ninja import Schema
from pydantic import Field


class RegisterIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    email: str = Field(max_length=254)
    password: str = Field(min_length=1, max_length=256)
    city: str | None = None
    language: str = "en"


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    language: str
    roles: dict[str, list[str]]


class ApiKeyIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    kind: str = "developer"


class ApiKeyOut(Schema):
    id: int
    name: str
    kind: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The secret; shown only once.")
