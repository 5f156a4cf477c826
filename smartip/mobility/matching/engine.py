"""Map-matching engines as plugins chosen by name, so other layers can run on a fake in their tests.

``get_matcher("valhalla", network=CONFIG_OR_TILES)`` is the real engine; ``get_matcher("fake")`` returns a
``StraightLineMatcher`` that "matches" a trace to itself (one pseudo segment per fix pair, way id 0), which is
enough to test pipelines, storage and aggregates without a street network.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from smartip.core.errors import Invalid
from smartip.mobility.matching.geometry import to_local_m
from smartip.mobility.matching.matcher import MatchOptions, MatchResult, check_trace, costing_for, match
from smartip.mobility.matching.response import MatchedSegment


@runtime_checkable
class MapMatcher(Protocol):
    """Matches one trace (WGS84 degrees, seconds) travelled by ``mode``; raises ``Invalid`` for bad input.
    ``accuracy_m``, when known (e.g. the median of the phone's reported accuracies), tunes the matcher to it."""

    def match(
        self, lat: np.ndarray, lon: np.ndarray, t_s: np.ndarray, *, mode: str, accuracy_m: float | None = None
    ) -> MatchResult: ...


class ValhallaMatcher:
    """In-process Valhalla on tiles built by ``network.build_tiles`` (config JSON path, tiles folder or dict)."""

    def __init__(self, network: Path | str | dict[str, Any], options: MatchOptions | None = None) -> None:
        self.network = network
        self.options = options  # None: chosen per trace by ``options_for``

    def match(
        self, lat: np.ndarray, lon: np.ndarray, t_s: np.ndarray, *, mode: str, accuracy_m: float | None = None
    ) -> MatchResult:
        options = self.options_for(accuracy_m)
        return match(lat, lon, t_s, mode=mode, tiles_dir_or_config=self.network, options=options)

    def options_for(self, accuracy_m: float | None) -> MatchOptions:
        """The options given to this matcher, else those for the trace's known accuracy, else the defaults."""
        if self.options is not None:
            return self.options
        if accuracy_m is None or not math.isfinite(accuracy_m):
            return MatchOptions()
        return MatchOptions.for_accuracy(accuracy_m)


class StraightLineMatcher:
    """A fake engine: the matched route is the trace itself; validates input and modes like the real one."""

    def match(
        self, lat: np.ndarray, lon: np.ndarray, t_s: np.ndarray, *, mode: str, accuracy_m: float | None = None
    ) -> MatchResult:
        lat, lon, t_s = (np.asarray(a, dtype=float) for a in (lat, lon, t_s))
        check_trace(lat, lon, t_s)
        costing = costing_for(mode)
        coords = np.column_stack([lon, lat])
        xy = to_local_m(coords, (float(lon[0]), float(lat[0])))
        step_m = np.hypot(*np.diff(xy, axis=0).T)
        segments = [
            MatchedSegment(
                way_id=0,
                names=(),
                road_class="",
                length_m=float(step_m[i]),
                start_s=float(t_s[i]),
                end_s=float(t_s[i + 1]),
                speed_mps=float(step_m[i] / (t_s[i + 1] - t_s[i])) if t_s[i + 1] > t_s[i] else math.nan,
            )
            for i in range(len(step_m))
        ]
        return MatchResult(
            mode=mode,
            costing=costing,
            lines=[coords.tolist()],
            segments=segments,
            fix_lat=lat.copy(),
            fix_lon=lon.copy(),
            fix_type=np.full(len(lat), "matched", dtype=object),
            length_m=float(step_m.sum()),
        )


ENGINES = {"valhalla": ValhallaMatcher, "fake": StraightLineMatcher}


def get_matcher(name: str, **settings: Any) -> MapMatcher:
    """The engine registered under ``name`` (``valhalla`` needs ``network=``; ``fake`` takes nothing)."""
    try:
        engine = ENGINES[name]
    except KeyError:
        raise Invalid(
            f"unknown map-matching engine {name!r}; expected one of {', '.join(ENGINES)}", field="engine"
        ) from None
    matcher: MapMatcher = engine(**settings)
    return matcher
