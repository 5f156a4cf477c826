"""The pure aggregates core: threshold on distinct people, capped contributions, Laplace noise, trimming,
per-person medians, delay hotspots and mode share (recounted independently in each test)."""

import math
import random
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartip.mobility import aggregates as agg
from smartip.mobility.fixes import haversine_m

contributions = st.lists(
    st.tuples(st.integers(0, 4), st.sampled_from(["walk", "car"]), st.integers(0, 12)), max_size=300
)


@settings(max_examples=200, deadline=None)
@given(rows=contributions, min_people=st.integers(1, 7), cap=st.integers(1, 4))
def test_published_cells_are_exactly_those_with_enough_people(rows, min_people, cap):
    keys = [(way, mode) for way, mode, _ in rows]
    persons = [p for _, _, p in rows]
    cells = agg.publish_counts(keys, persons, min_people=min_people, cap_per_person=cap)
    people = defaultdict(lambda: defaultdict(int))
    for key, person in zip(keys, persons, strict=True):
        people[key][person] += 1
    expected = {k: sum(min(cap, n) for n in v.values()) for k, v in people.items() if len(v) >= min_people}
    assert {c.key: c.count for c in cells} == expected
    assert all(c.n_people == len(people[c.key]) >= min_people for c in cells)


@settings(max_examples=100, deadline=None)
@given(rows=contributions, seed=st.integers(0, 2**32))
def test_noise_never_changes_which_cells_are_published(rows, seed):
    keys = [(way, mode) for way, mode, _ in rows]
    persons = [p for _, _, p in rows]
    plain = agg.publish_counts(keys, persons, min_people=5)
    noisy = agg.publish_counts(keys, persons, min_people=5, epsilon=0.5, rng=random.Random(seed))
    assert [c.key for c in noisy] == [c.key for c in plain]
    assert all(c.count >= 0 and c.count == int(c.count) for c in noisy)


def test_laplace_draws_follow_the_laplace_distribution():
    stats = pytest.importorskip("scipy.stats", reason="scipy is the oracle for the Laplace distribution")

    rng = random.Random(7)
    draws = [agg.laplace(2.0, rng) for _ in range(20_000)]
    assert stats.kstest(draws, stats.laplace(scale=2.0).cdf).pvalue > 0.01


def test_noise_scale_follows_cap_over_epsilon():
    keys = [("w",)] * 50
    persons = list(range(50))
    errors = [
        agg.publish_counts(keys, persons, min_people=5, cap_per_person=2, epsilon=1.0, rng=random.Random(s))[
            0
        ].count
        - 50
        for s in range(2000)
    ]
    assert np.mean(np.abs(errors)) == pytest.approx(2.0, rel=0.1)  # E|Laplace(b)| = b = cap / epsilon


def straight(distance_m, n=200, jitter_m=0.0, seed=0):
    rng = np.random.default_rng(seed)
    along = np.linspace(0, distance_m, n)
    lat = 53.48 + (along + rng.normal(0, jitter_m, n)) / 111_195.0
    lon = np.full(n, -2.24) + rng.normal(0, jitter_m, n) / 66_000.0
    return np.arange(n, dtype=float) * 5.0, lat, lon


@settings(max_examples=100, deadline=None)
@given(distance_m=st.floats(100, 5000), seed=st.integers(0, 1000), jitter=st.floats(0, 20))
def test_trimming_removes_both_ends(distance_m, seed, jitter):
    t, lat, lon = straight(distance_m, jitter_m=jitter, seed=seed)
    start_m, end_m = agg.draw_trim_m(random.Random(seed))
    assert 200 <= start_m <= 500 and 200 <= end_m <= 500
    window = agg.trim_window(t, lat, lon, start_m, end_m)
    if window is None:
        return
    inside = (t > window[0]) & (t < window[1])
    assert (haversine_m(lat[inside], lon[inside], lat[0], lon[0]) > start_m).all()
    assert (haversine_m(lat[inside], lon[inside], lat[-1], lon[-1]) > end_m).all()


def test_a_trip_shorter_than_its_trims_keeps_nothing():
    t, lat, lon = straight(390)
    assert agg.trim_window(t, lat, lon, 200, 200) is None
    t, lat, lon = straight(1000)
    t_from, t_to = agg.trim_window(t, lat, lon, 200, 200)
    assert t_from == pytest.approx(t[-1] * 0.2, abs=6) and t_to == pytest.approx(t[-1] * 0.8, abs=6)


def test_median_speed_is_a_median_of_per_person_medians():
    keys = [("w",)] * 9
    persons = [1, 1, 1, 1, 1, 2, 3, 4, 5]  # person 1 drives often and fast; one value per person counts
    speeds = [30, 30, 30, 30, 30, 5, 6, 7, 8]
    (cell,) = agg.median_speeds(keys, persons, speeds, min_people=5)
    assert cell.median_speed_mps == 7 and cell.n_people == 5 and cell.n_traversals == 9
    assert agg.median_speeds(keys[:8], persons[:8], speeds[:8], min_people=5) == []


def test_delay_hotspots_rank_slow_segments_first():
    rows = []
    for person in range(6):
        rows += [(1, person, 10.0, 100.0), (1, person, 10.0, 100.0)]  # free-flowing
        rows += [(2, person, 10.0, 100.0), (2, person, 2.0 + person * 0.1, 100.0)]  # congested half the time
        rows += [(3, person % 4, 1.0, 100.0)]  # only 4 people: never published
    ways, persons, speeds, lengths = zip(*rows, strict=True)
    spots = agg.delay_hotspots(ways, persons, speeds, lengths, min_people=5)
    assert [h.way_id for h in spots] == [2, 1]
    assert spots[1].median_delay_s == 0
    expected = np.median([np.median([0.0, 100 / (2.0 + p * 0.1) - 10.0]) for p in range(6)])
    assert spots[0].median_delay_s == pytest.approx(expected)


def test_mode_share_suppresses_small_areas_and_small_modes():
    areas, persons, modes = [], [], []
    for p in range(10):
        areas.append("A"), persons.append(p), modes.append("walk" if p < 7 else "car")
    for p in range(4):
        areas.append("B"), persons.append(100 + p), modes.append("walk")
    shares = agg.mode_share(areas, persons, modes, min_people=5)
    assert shares == {"A": {"walk": 0.7}}
    assert math.isclose(sum(shares["A"].values()), 0.7)
