from datetime import date, datetime
from decimal import Decimal

from ninja import Schema
from pydantic import ConfigDict, Field


class AreaOut(Schema):
    id: int
    name: str
    budget: Decimal
    category: str
    district_id: int | None = None


class AreaIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    budget: Decimal = Field(description="above 0, at most 2 decimals")
    district_id: int | None = None
    category: str = Field(default="", max_length=100)


class AreaPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    budget: Decimal | None = None
    district_id: int | None = None
    category: str | None = Field(default=None, max_length=100)


class ProcessSettings(Schema):
    """What a manager sets on a process; PATCH sends any subset (see services.update_process). Unknown
    fields (e.g. `phase`, which has its own endpoint) are refused rather than silently dropped."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    slug: str | None = Field(default=None, description="empty on creation: made from the title")
    district_id: int | None = Field(default=None, description="only residents of this district may vote")
    currency: str | None = Field(default=None, description="3-letter code (default EUR)")
    proposals_open: date | None = None
    review_open: date | None = None
    voting_open: date | None = None
    voting_close: date | None = None
    results_on: date | None = None
    ballot_kind: str | None = None
    min_projects: int | None = None
    max_projects: int | None = None
    total_points: int | None = None
    max_points_per_project: int | None = None
    rule: str | None = None
    verification: str | None = None
    min_age: int | None = None


class ProcessIn(ProcessSettings):
    city: str = Field(description="the city's slug")
    title: str
    budget: Decimal | None = Field(default=None, description="one budget for the whole city (or district)")
    areas: list[AreaIn] = Field(default=[], description="budgets per district or category")


class ProcessPatch(ProcessSettings):
    title: str | None = None


class ProcessOut(Schema):
    id: int
    city: str
    slug: str
    title: str
    description: str
    phase: str
    ballot_kind: str
    min_projects: int
    max_projects: int | None
    total_points: int | None
    max_points_per_project: int | None
    rule: str
    verification: str
    currency: str
    district_id: int | None = None
    min_age: int = 0
    proposals_open: date | None = None
    review_open: date | None = None
    voting_open: date | None
    voting_close: date | None
    results_on: date | None = None
    areas: list[AreaOut]


class ProposalIn(Schema):
    area_id: int
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    estimated_cost: Decimal = Field(gt=0, max_digits=16, decimal_places=2)
    category: str = Field(default="", max_length=100)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class PhotoOut(Schema):
    id: int
    url: str
    thumbnail_url: str
    width: int
    height: int


class ProposalOut(Schema):
    id: int
    area_id: int
    title: str
    description: str
    category: str
    lat: float | None
    lon: float | None
    estimated_cost: Decimal
    status: str
    review_reason: str
    official_cost: Decimal | None
    supporters: int
    comments: int = Field(description="visible comments")
    photos: list[PhotoOut] = []


class CommentIn(Schema):
    text: str = Field(description="2 to 2000 characters (surrounding spaces are removed)")


class CommentOut(Schema):
    id: int
    proposal_id: int
    text: str
    created_at: datetime
    is_hidden: bool


class ReviewIn(Schema):
    feasible: bool
    reason: str = Field(default="", max_length=2000)
    official_cost: Decimal | None = Field(default=None, gt=0, max_digits=16, decimal_places=2)


class MergeIn(Schema):
    into: int


class PhaseIn(Schema):
    phase: str


class ProjectOut(Schema):
    id: int
    area_id: int
    code: str
    title: str
    description: str
    category: str
    cost: Decimal
    lat: float | None
    lon: float | None
    is_funded: bool
    delivery_status: str


class Choice(Schema):
    project_id: int
    value: int = Field(default=1, ge=1, description="1 for approval; the points for cumulative ballots")


class BallotIn(Schema):
    area_id: int
    choices: list[Choice] = Field(description="for ranking ballots, in order of preference")
    census_code: str | None = Field(default=None, max_length=64)


class AssistedBallotIn(BallotIn):
    census_code: str = Field(min_length=1, max_length=64)


class BallotOut(Schema):
    area_id: int
    choices: list[Choice]
    channel: str


class CensusCodeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64)
    district: int | str | None = Field(default=None, description="the district's id, name or code")
    birth_year: int | None = Field(
        default=None, description="4 digits; needed when the process has a minimum age"
    )


class CensusIn(Schema):
    codes: list[str | CensusCodeIn] = Field(
        min_length=1, max_length=100_000, description="codes, or {code, district, birth_year} objects"
    )


class OutcomeOut(Schema):
    area_id: int
    rule: str
    is_official: bool
    selected: list[str]
    total_cost: Decimal
    n_ballots: int
    duration_ms: float
    details: dict


class MilestoneIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(default="", max_length=5000)
    due_on: date | None = None
    done_on: date | None = None
    status: str | None = None


class MilestoneOut(Schema):
    id: int
    title: str
    text: str
    due_on: date | None
    done_on: date | None


class AuditOut(Schema):
    """One process audit row. `actor` is the public name of who acted (null for online ballots)."""

    at: datetime
    actor: str | None
    action: str
    details: dict
