"""Matching many traces: serially in this process, or spread over worker processes (one Valhalla Actor each;
an Actor must not be shared between threads)."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import ExitStack
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
) -> tuple[list[MatchResult | tuple[str, str | None]], float]:
    """Results and the CPU seconds this worker spent. Errors travel back as (message, field): exceptions
    lose keyword arguments in pickling."""
    started_cpu = time.process_time()
    out: list[MatchResult | tuple[str, str | None]] = []
    for trace in chunk:
        result = _match_one(trace, config, options)
        out.append((result.message, result.field) if isinstance(result, Invalid) else result)
    return out, time.process_time() - started_cpu


def _revive(item: MatchResult | tuple[str, str | None]) -> MatchResult | Invalid:
    return Invalid(item[0], field=item[1]) if isinstance(item, tuple) else item


@dataclass(frozen=True)
class BatchResult:
    """Per-trace results in input order, and the CPU seconds spent on them in every process (this one and
    the workers): on a shared machine the fairer measure of cost than the wall clock."""

    results: list[MatchResult | Invalid]
    cpu_s: float


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Spawned worker processes for ``match_batch`` (spawn: a forked Valhalla Actor is not safe)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def match_batch(
    traces: Sequence[TraceToMatch],
    *,
    tiles_dir_or_config: Path | str | dict[str, Any],
    options: MatchOptions | None = None,
    workers: int = 1,
    pool: Executor | None = None,
) -> BatchResult:
    """Match every trace, in order; a trace that cannot be matched yields its ``Invalid`` instead of stopping
    the batch. ``workers > 1`` spreads the traces over that many processes: ``pool`` (kept warm by the
    caller, e.g. from ``worker_pool``) or, without one, processes spawned for this batch only (worth it from
    a few thousand fixes on: each loads Valhalla first)."""
    started_cpu = time.process_time()
    if workers <= 1 or len(traces) < 2:
        results = [_match_one(trace, tiles_dir_or_config, options) for trace in traces]
        return BatchResult(results, time.process_time() - started_cpu)
    n_chunks = min(len(traces), workers * 4)
    chunks = [list(traces[i::n_chunks]) for i in range(n_chunks)]
    results = [Invalid("not matched")] * len(traces)
    worker_cpu_s = 0.0
    with ExitStack() as stack:
        executor = pool or stack.enter_context(worker_pool(workers))
        futures = [executor.submit(_match_chunk, chunk, tiles_dir_or_config, options) for chunk in chunks]
        for offset, future in enumerate(futures):
            items, cpu_s = future.result()
            results[offset::n_chunks] = [_revive(item) for item in items]
            worker_cpu_s += cpu_s
    return BatchResult(results, time.process_time() - started_cpu + worker_cpu_s)


def match_many(
    traces: Sequence[TraceToMatch],
    *,
    tiles_dir_or_config: Path | str | dict[str, Any],
    options: MatchOptions | None = None,
    workers: int = 1,
) -> list[MatchResult | Invalid]:
    """``match_batch`` without the CPU time (see there)."""
    return match_batch(
        traces, tiles_dir_or_config=tiles_dir_or_config, options=options, workers=workers
    ).results
