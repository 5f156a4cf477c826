"""Transport mode per tripleg: walk, bicycle, bus/tram, car, train.

Method (documented; thresholds set by hand from the labelled GeoLife triplegs and written here, no model file):
per tripleg, the step speeds between consecutive fixes (distance / time, steps with dt > 0 only) give the
median, 85th and 95th percentiles; the 90th percentile of |acceleration| and the share of time spent stopped
(< 0.6 m/s) complete the features. A small decision list assigns the mode:

1. p85 < WALK_P85, or (median < WALK_MEDIAN and p85 < WALK_NOISY_P85) -> walk (pedestrians rarely sustain
   > 2.6 m/s; the second clause admits walks with noisy fixes, e.g. among tall buildings);
2. p85 < BIKE_P85, p95 < BIKE_P95 and p90 |acceleration| >= BIKE_ACCEL -> bicycle (human-powered speed
   fluctuates; a slow but perfectly smooth ride is a vehicle in slow traffic or a slow train);
3. p85 >= TRAIN_P85, or (median >= TRAIN_MEDIAN, stopped share < TRAIN_STOPPED and p90 |acceleration| <
   TRAIN_ACCEL) -> train (incl. metro: fast, or steady without stops);
4. stopped share >= BUS_STOPPED, or (median < BUS_MEDIAN and p85 < BUS_P85) -> bus/tram (frequent stops, slow);
5. otherwise car.
The coarse split is active (walk, bicycle) against motorised (the rest). Accuracy is measured in
tests/mobility/test_modes.py and printed by benchmarks/mobility.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartip.mobility.fixes import Fixes, haversine_m
from smartip.mobility.pipeline.triplegs import Triplegs

MODES = ("walk", "bicycle", "bus/tram", "car", "train")
ACTIVE = frozenset({"walk", "bicycle"})
STOPPED_MPS = 0.6
WALK_P85 = 2.6
WALK_MEDIAN = 1.6
WALK_NOISY_P85 = 5.5
BIKE_P85 = 6.5
BIKE_P95 = 9.0
BIKE_ACCEL = 0.15
TRAIN_P85 = 25.0
TRAIN_MEDIAN = 8.0
TRAIN_STOPPED = 0.05
TRAIN_ACCEL = 0.15
BUS_STOPPED = 0.25
BUS_MEDIAN = 4.0
BUS_P85 = 9.0


@dataclass(frozen=True, slots=True, eq=False)  # numpy columns: compare explicitly
class ModeFeatures:
    duration_s: np.ndarray
    length_m: np.ndarray
    speed_p50: np.ndarray
    speed_p85: np.ndarray
    speed_p95: np.ndarray
    accel_p90: np.ndarray
    stopped_share: np.ndarray


def tripleg_features(fixes: Fixes, tpls: Triplegs) -> ModeFeatures:
    """Features of every tripleg, computed for all triplegs at once."""
    k = len(tpls)
    n_steps = tpls.end_fix - tpls.first_fix - 1
    owner = np.repeat(np.arange(k), n_steps)
    a = np.repeat(tpls.first_fix - (np.cumsum(n_steps) - n_steps), n_steps) + np.arange(owner.size)
    b = a + 1
    dist = haversine_m(fixes.lat[a], fixes.lon[a], fixes.lat[b], fixes.lon[b])
    dt = fixes.t_s[b] - fixes.t_s[a]
    length = np.bincount(owner, weights=dist, minlength=k)
    ok = dt > 0
    speed = dist[ok] / dt[ok]
    s_owner = owner[ok]
    stopped_time = np.bincount(s_owner, weights=np.where(speed < STOPPED_MPS, dt[ok], 0.0), minlength=k)
    moving_time = np.bincount(s_owner, weights=dt[ok], minlength=k)
    same = s_owner[1:] == s_owner[:-1]
    dt_mid = 0.5 * (dt[ok][1:] + dt[ok][:-1])
    accel = np.abs(np.diff(speed)) / np.maximum(dt_mid, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        stopped = np.where(moving_time > 0, stopped_time / moving_time, 1.0)
    p50, p85, p95 = _group_quantiles(speed, s_owner, k, (0.50, 0.85, 0.95))
    (a90,) = _group_quantiles(accel[same], s_owner[1:][same], k, (0.90,))
    return ModeFeatures(
        duration_s=tpls.finished_at_s - tpls.started_at_s,
        length_m=length,
        speed_p50=p50,
        speed_p85=p85,
        speed_p95=p95,
        accel_p90=a90,
        stopped_share=stopped,
    )


def _group_quantiles(
    values: np.ndarray, group: np.ndarray, k: int, qs: tuple[float, ...]
) -> list[np.ndarray]:
    """Per-group quantiles (linear interpolation, numpy's default) from one sort; 0 for empty groups."""
    outs = [np.zeros(k) for _ in qs]
    if not values.size:
        return outs
    order = np.lexsort((values, group))
    v = values[order]
    count = np.bincount(group, minlength=k)
    start = np.cumsum(count) - count
    has = count > 0
    for out, q in zip(outs, qs, strict=True):
        pos = start[has] + q * (count[has] - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, start[has] + count[has] - 1)
        frac = pos - lo
        out[has] = v[lo] * (1 - frac) + v[hi] * frac
    return outs


def classify_modes(f: ModeFeatures) -> np.ndarray:
    """Mode name per tripleg by the decision list in the module docstring."""
    conditions = [
        (f.speed_p85 < WALK_P85) | ((f.speed_p50 < WALK_MEDIAN) & (f.speed_p85 < WALK_NOISY_P85)),
        (f.speed_p85 < BIKE_P85) & (f.speed_p95 < BIKE_P95) & (f.accel_p90 >= BIKE_ACCEL),
        (f.speed_p85 >= TRAIN_P85)
        | ((f.speed_p50 >= TRAIN_MEDIAN) & (f.stopped_share < TRAIN_STOPPED) & (f.accel_p90 < TRAIN_ACCEL)),
        (f.stopped_share >= BUS_STOPPED) | ((f.speed_p50 < BUS_MEDIAN) & (f.speed_p85 < BUS_P85)),
    ]
    return np.select(conditions, ["walk", "bicycle", "train", "bus/tram"], default="car").astype(object)


def coarse(modes: np.ndarray) -> np.ndarray:
    """'active' for walk/bicycle, 'motorised' otherwise."""
    return np.where(np.isin(modes.astype(str), list(ACTIVE)), "active", "motorised")


GEOLIFE_MODES = {
    "walk": "walk",
    "run": "walk",
    "bike": "bicycle",
    "bus": "bus/tram",
    "car": "car",
    "taxi": "car",
    "subway": "train",
    "train": "train",
}


def label_by_overlap(
    tpl_start_s: np.ndarray,
    tpl_end_s: np.ndarray,
    label_start_s: np.ndarray,
    label_end_s: np.ndarray,
    labels: np.ndarray,
    min_ratio: float = 0.5,
    max_candidates: int | None = 20,
    max_distance_s: float = 7 * 24 * 3600.0,
) -> np.ndarray:
    """Ground-truth label per tripleg as trackintel's `geolife_add_modes_to_triplegs`: the label covering the
    largest share of the tripleg's duration, if that share is >= `min_ratio`; '' otherwise. As in trackintel, a
    label is only matched to its `max_candidates` nearest triplegs (Chebyshev distance of (start, end), at most
    `max_distance_s`); None lifts that limit. Ties go to the later label."""
    out = np.full(tpl_start_s.shape[0], "", dtype=object)
    if not label_start_s.size or not tpl_start_s.size:
        return out
    duration = (tpl_end_s - tpl_start_s)[:, None]
    overlap = np.minimum(tpl_end_s[:, None], label_end_s[None, :]) - np.maximum(
        tpl_start_s[:, None], label_start_s[None, :]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(duration > 0, np.maximum(overlap, 0.0) / duration, 0.0)
    if max_candidates is not None:
        cheb = np.maximum(
            np.abs(tpl_start_s[:, None] - label_start_s[None, :]),
            np.abs(tpl_end_s[:, None] - label_end_s[None, :]),
        )
        rank = np.argsort(np.argsort(cheb, axis=0, kind="stable"), axis=0)
        ratio = np.where((rank < max_candidates) & (cheb <= max_distance_s), ratio, 0.0)
    # ties (a tripleg inside two overlapping labels): the later label in the file wins, as in trackintel
    best = ratio.shape[1] - 1 - ratio[:, ::-1].argmax(axis=1)
    ok = ratio[np.arange(best.size), best] >= min_ratio
    out[ok] = labels[best[ok]]
    return out


def confusion(truth: np.ndarray, predicted: np.ndarray) -> dict[str, dict[str, int]]:
    """Confusion matrix as {true mode: {predicted mode: count}} over the modes that occur."""
    names = sorted(set(truth.tolist()) | set(predicted.tolist()))
    table = {a: dict.fromkeys(names, 0) for a in names}
    for a, b in zip(truth.tolist(), predicted.tolist(), strict=True):
        table[a][b] += 1
    return table


def evaluate(truth: np.ndarray, predicted: np.ndarray) -> dict[str, object]:
    """Accuracy (fine and coarse) and the confusion matrix on triplegs with a known, supported label."""
    known = np.isin(truth.astype(str), MODES)
    t, p = truth[known], predicted[known]
    n = int(known.sum())
    return {
        "n": n,
        "accuracy": float(np.mean(t == p)) if n else float("nan"),
        "coarse_accuracy": float(np.mean(coarse(t) == coarse(p))) if n else float("nan"),
        "confusion": confusion(t, p),
    }
