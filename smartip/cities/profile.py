"""The per-city profile: defaults every city gets, which a city's own data overrides (no `if city == ...`)."""

from dataclasses import dataclass, field, fields
from typing import Any

DEFAULT_DEPARTMENTS: list[dict[str, str]] = [
    {"slug": "waste", "name": "Waste and street cleaning", "email": ""},
    {"slug": "highways", "name": "Highways and street lighting", "email": ""},
    {"slug": "parks", "name": "Parks and open spaces", "email": ""},
    {"slug": "environment", "name": "Environmental health", "email": ""},
]

DEFAULT_CATEGORIES: list[dict[str, Any]] = [
    {
        "service_code": "waste",
        "name": "Missed bin or overflowing waste",
        "group": "Waste",
        "keywords": "bin,rubbish,garbage,waste",
        "department": "waste",
        "radius_m": 50,
    },
    {
        "service_code": "flytipping",
        "name": "Fly-tipping",
        "group": "Waste",
        "keywords": "dumping,fly-tipping,mattress,furniture",
        "department": "waste",
        "radius_m": 75,
        "attributes": [
            {
                "code": "size",
                "datatype": "singlevaluelist",
                "required": True,
                "description": "How much is there?",
                "order": 1,
                "values": [
                    {"key": "small", "name": "A bag or less"},
                    {"key": "medium", "name": "A car boot"},
                    {"key": "large", "name": "A van load or more"},
                ],
            },
        ],
    },
    {
        "service_code": "litter",
        "name": "Litter",
        "group": "Waste",
        "keywords": "litter,cans,bottles",
        "department": "waste",
        "radius_m": 50,
    },
    {
        "service_code": "graffiti",
        "name": "Graffiti",
        "group": "Street scene",
        "keywords": "graffiti,tag,vandalism",
        "department": "waste",
        "radius_m": 30,
        "attributes": [
            {
                "code": "offensive",
                "datatype": "singlevaluelist",
                "required": False,
                "description": "Is it offensive?",
                "order": 1,
                "values": [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}],
            },
        ],
    },
    {
        "service_code": "parks",
        "name": "Parks and open spaces",
        "group": "Parks",
        "keywords": "park,playground,bench,grass",
        "department": "parks",
        "radius_m": 100,
    },
    {
        "service_code": "streetlight",
        "name": "Street light not working",
        "group": "Roads and lighting",
        "keywords": "light,lamp,dark",
        "department": "highways",
        "radius_m": 25,
        "attributes": [
            {
                "code": "lamp_id",
                "datatype": "string",
                "required": False,
                "description": "Number on the lamp post, if you can see it",
                "order": 1,
            },
        ],
    },
    {
        "service_code": "pothole",
        "name": "Pothole",
        "group": "Roads and lighting",
        "keywords": "pothole,road,hole",
        "department": "highways",
        "radius_m": 30,
    },
    {
        "service_code": "noise",
        "name": "Noise",
        "group": "Environment",
        "keywords": "noise,loud,music,party",
        "department": "environment",
        "radius_m": 100,
    },
]


@dataclass(frozen=True)
class CityProfile:
    """What varies between cities. A city's JSON `profile` overrides any of these fields."""

    departments: list[dict[str, str]] = field(default_factory=lambda: list(DEFAULT_DEPARTMENTS))
    categories: list[dict[str, Any]] = field(default_factory=lambda: list(DEFAULT_CATEGORIES))
    duplicate_radius_m: int = 50
    duplicate_window_days: int = 60
    report_hide_after_flags: int = 3
    aqi_scheme: str = "eaqi"
    budget_rule: str = "mes-add1-greedy"
    jurisdiction_id: str = ""

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any] | None) -> "CityProfile":
        known = {f.name for f in fields(cls)}
        unknown = set(overrides or {}) - known
        if unknown:
            raise ValueError(f"unknown city profile keys: {', '.join(sorted(unknown))}")
        return cls(**(overrides or {}))
