from datetime import date
from decimal import Decimal

from ninja import Schema
from pydantic import Field


class AreaOut(Schema):
    id: int
    name: str
    budget: Decimal
    category: str


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
    voting_open: date | None
    voting_close: date | None
    areas: list[AreaOut]


class ProposalIn(Schema):
    area_id: int
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    estimated_cost: Decimal = Field(gt=0, max_digits=16, decimal_places=2)
    category: str = Field(default="", max_length=100)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


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


class CensusIn(Schema):
    codes: list[str] = Field(min_length=1, max_length=100_000)


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
