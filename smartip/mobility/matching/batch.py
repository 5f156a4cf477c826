"""Matching many traces: serially in this process, or spread over worker processes (one Valhalla Actor each;
an Actor must not be shared between threads)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from smartip.core.errors import Invalid
from smartip.mobility.matching.matcher import MatchOptions, MatchResult, match


@dataclass(frozen=True)
class TraceToMatch:
    """One trip to match: positions in WGS84 degrees, times in seconds, and its transport mode."""

    lat: np.ndarray
    lon: np.ndarray
    t_s: np.ndarray
    mode: str


def _match_one(
    trace: TraceToMatch, config: Path | str | dict[str, Any], options: MatchOptions | None
) -> MatchResult | Invalid:
    try:
        return match(
            trace.lat, trace.lon, trace.t_s, mode=trace.mode, tiles_dir_or_config=config, options=options
        )
    except Invalid as error:
        return error


def _match_chunk(
    chunk: list[TraceToMatch], config: Path | str | dict[str, Any], options: MatchOptions | None
) -> list[MatchResult | tuple[str, str | None]]:
    """Errors travel back from a worker as (message, field): exceptions lose keyword arguments in pickling."""
    out: list[MatchResult | tuple[str, str | None]] = []
    for trace in chunk:
        result = _match_one(trace, config, options)
        out.append((result.message, result.field) if isinstance(result, Invalid) else result)
    return out


def _revive(item: MatchResult | tuple[str, str | None]) -> MatchResult | Invalid:
    return Invalid(item[0], field=item[1]) if isinstance(item, tuple) else item


def match_many(
    traces: Sequence[TraceToMatch],
    *,
    tiles_dir_or_config: Path | str | dict[str, Any],
    options: MatchOptions | None = None,
    workers: int = 1,
) -> list[MatchResult | Invalid]:
    """Match every trace, in order; a trace that cannot be matched yields its ``Invalid`` instead of stopping
    the batch. ``workers > 1`` uses that many spawned processes (worth it from a few thousand fixes on)."""
    if workers <= 1 or len(traces) < 2:
        return [_match_one(trace, tiles_dir_or_config, options) for trace in traces]
    n_chunks = min(len(traces), workers * 4)
    chunks = [list(traces[i::n_chunks]) for i in range(n_chunks)]
    results: list[MatchResult | Invalid] = [Invalid("not matched")] * len(traces)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_match_chunk, chunk, tiles_dir_or_config, options) for chunk in chunks]
        for offset, future in enumerate(futures):
            results[offset::n_chunks] = [_revive(item) for item in future.result()]
    return results
