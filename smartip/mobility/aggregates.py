"""Privacy-preserving mobility aggregates (pure: no Django).

Contracts:
- A *cell* (a street segment x mode x hour x day type, an OD pair, a neighbourhood x mode ...) is published only
  when at least `min_people` distinct people contributed to it; cells below are dropped, never shown as 0.
- Each person's contribution to a cell is capped (`cap_per_person` trips or traversals), so no one person can
  dominate a count; medians are taken over per-person medians (one value per person per cell).
- Optional Laplace noise of scale `cap_per_person / epsilon` on published counts (`epsilon=None`: off).
- Trip ends are trimmed by a random 200-500 m each (`draw_trim_m`, `trim_window`) before any aggregation.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from smartip.mobility.fixes import haversine_m

TRIM_MIN_M = 200.0
TRIM_MAX_M = 500.0


@dataclass(frozen=True, slots=True)
class Cell:
    """One published cell: its key, the (capped, possibly noisy) count and how many distinct people."""

    key: tuple[Hashable, ...]
    count: int
    n_people: int


@dataclass(frozen=True, slots=True)
class SpeedCell:
    key: tuple[Hashable, ...]
    median_speed_mps: float
    n_people: int
    n_traversals: int


@dataclass(frozen=True, slots=True)
class Hotspot:
    way_id: int
    median_delay_s: float
    free_flow_speed_mps: float
    median_speed_mps: float
    n_people: int


def draw_trim_m(rng: random.Random) -> tuple[float, float]:
    """Random trim lengths (start, end), each uniform in [200, 500] m."""
    return rng.uniform(TRIM_MIN_M, TRIM_MAX_M), rng.uniform(TRIM_MIN_M, TRIM_MAX_M)


def trim_window(
    t_s: np.ndarray, lat: np.ndarray, lon: np.ndarray, start_m: float, end_m: float
) -> tuple[float, float] | None:
    """Times (t_from, t_to) of the part of a trip kept for aggregation: after the *last* fix within `start_m`
    of its first fix and before the *first* fix within `end_m` of its last fix (straight-line distance, so GPS
    jitter at a stop cannot use the trim up). None when nothing is left between the two."""
    if len(t_s) < 2:
        return None
    from_start = haversine_m(lat, lon, lat[0], lon[0])
    to_end = haversine_m(lat, lon, lat[-1], lon[-1])
    i = int(np.flatnonzero(from_start <= start_m)[-1])
    j = int(np.flatnonzero(to_end <= end_m)[0])
    if j <= i:
        return None
    return float(t_s[i]), float(t_s[j])


def position_at(t_s: np.ndarray, lat: np.ndarray, lon: np.ndarray, at_s: float) -> tuple[float, float]:
    """Linearly interpolated (lat, lon) at time `at_s` (clamped to the trace)."""
    return float(np.interp(at_s, t_s, lat)), float(np.interp(at_s, t_s, lon))


def _capped_counts(
    keys: Sequence[tuple[Hashable, ...]], persons: Sequence[Hashable], cap_per_person: int
) -> dict[tuple[Hashable, ...], dict[Hashable, int]]:
    per_cell: dict[tuple[Hashable, ...], dict[Hashable, int]] = defaultdict(lambda: defaultdict(int))
    for key, person in zip(keys, persons, strict=True):
        if per_cell[key][person] < cap_per_person:
            per_cell[key][person] += 1
    return per_cell


def publish_counts(
    keys: Sequence[tuple[Hashable, ...]],
    persons: Sequence[Hashable],
    *,
    min_people: int,
    cap_per_person: int = 10,
    epsilon: float | None = None,
    rng: random.Random | None = None,
) -> list[Cell]:
    """Count contributions per cell (one row per trip or traversal: `keys[i]` by `persons[i]`).

    Returns only cells with at least `min_people` distinct people, sorted by key (as strings).
    """
    if min_people < 1 or cap_per_person < 1:
        raise ValueError("min_people and cap_per_person must be at least 1")
    rng = rng or random.Random()
    cells = []
    for key, by_person in _capped_counts(keys, persons, cap_per_person).items():
        if len(by_person) < min_people:
            continue
        count = sum(by_person.values())
        if epsilon is not None:
            count = max(0, round(count + laplace(cap_per_person / epsilon, rng)))
        cells.append(Cell(key=key, count=count, n_people=len(by_person)))
    return sorted(cells, key=lambda c: tuple(str(k) for k in c.key))


def laplace(scale: float, rng: random.Random) -> float:
    """One draw from Laplace(0, scale) (inverse CDF)."""
    u = rng.random() - 0.5
    return -scale * math.copysign(1.0, u) * math.log(1.0 - 2.0 * abs(u))


def _person_medians(
    keys: Sequence[tuple[Hashable, ...]], persons: Sequence[Hashable], values: Sequence[float]
) -> dict[tuple[Hashable, ...], dict[Hashable, list[float]]]:
    grouped: dict[tuple[Hashable, ...], dict[Hashable, list[float]]] = defaultdict(lambda: defaultdict(list))
    for key, person, value in zip(keys, persons, values, strict=True):
        if value is not None and math.isfinite(value):
            grouped[key][person].append(float(value))
    return grouped


def median_speeds(
    keys: Sequence[tuple[Hashable, ...]],
    persons: Sequence[Hashable],
    speeds_mps: Sequence[float],
    *,
    min_people: int,
) -> list[SpeedCell]:
    """Median over people of each person's median speed per cell; only cells with `min_people` people."""
    out = []
    for key, by_person in _person_medians(keys, persons, speeds_mps).items():
        if len(by_person) < min_people:
            continue
        medians = [float(np.median(v)) for v in by_person.values()]
        n = sum(len(v) for v in by_person.values())
        out.append(SpeedCell(key, float(np.median(medians)), len(by_person), n))
    return sorted(out, key=lambda c: tuple(str(k) for k in c.key))


def delay_hotspots(
    way_ids: Sequence[int],
    persons: Sequence[Hashable],
    speeds_mps: Sequence[float],
    lengths_m: Sequence[float],
    *,
    min_people: int,
    free_flow_percentile: float = 85.0,
    top: int = 20,
) -> list[Hotspot]:
    """Segments where traversals lose most time against the segment's free-flow speed (the given percentile of
    its observed speeds): delay = length/speed - length/free_flow per traversal, median per person, then
    median over people. Only segments with `min_people` people; the `top` largest delays first."""
    by_way: dict[int, list[tuple[Hashable, float, float]]] = defaultdict(list)
    for way, person, speed, length in zip(way_ids, persons, speeds_mps, lengths_m, strict=True):
        if speed is not None and math.isfinite(speed) and speed > 0 and length > 0:
            by_way[int(way)].append((person, float(speed), float(length)))
    out = []
    for way, rows in by_way.items():
        people = {p for p, _, _ in rows}
        if len(people) < min_people:
            continue
        speeds = np.array([s for _, s, _ in rows])
        free_flow = float(np.percentile(speeds, free_flow_percentile))
        keys = [(way,)] * len(rows)
        delays = [max(0.0, length / s - length / free_flow) for _, s, length in rows]
        delay = _person_medians(keys, [p for p, _, _ in rows], delays)[(way,)]
        speed_cells = median_speeds(keys, [p for p, _, _ in rows], list(speeds), min_people=min_people)
        out.append(
            Hotspot(
                way_id=way,
                median_delay_s=float(np.median([np.median(v) for v in delay.values()])),
                free_flow_speed_mps=free_flow,
                median_speed_mps=speed_cells[0].median_speed_mps,
                n_people=len(people),
            )
        )
    out.sort(key=lambda h: (-h.median_delay_s, h.way_id))
    return out[:top]


def mode_share(
    areas: Sequence[Hashable],
    persons: Sequence[Hashable],
    modes: Sequence[str],
    *,
    min_people: int,
    cap_per_person: int = 10,
) -> dict[Hashable, dict[str, float]]:
    """Share of (capped) trips per mode in each area; an area needs `min_people` people, and a mode within it
    is listed only with `min_people` people of its own (its share is still out of all the area's trips)."""
    per_cell = _capped_counts([(a, m) for a, m in zip(areas, modes, strict=True)], persons, cap_per_person)
    area_people: dict[Hashable, set[Hashable]] = defaultdict(set)
    area_total: dict[Hashable, int] = defaultdict(int)
    for (area, _mode), by_person in per_cell.items():
        area_people[area] |= set(by_person)
        area_total[area] += sum(by_person.values())
    shares: dict[Hashable, dict[str, float]] = {}
    for (area, mode), by_person in sorted(per_cell.items(), key=lambda kv: str(kv[0])):
        if len(area_people[area]) < min_people or len(by_person) < min_people:
            continue
        shares.setdefault(area, {})[str(mode)] = sum(by_person.values()) / area_total[area]
    return shares
