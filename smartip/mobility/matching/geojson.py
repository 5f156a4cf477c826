"""The command-line core: a trace's arrays and an ``.osm.pbf`` network in, a GeoJSON FeatureCollection out."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from smartip.mobility.matching.matcher import MatchOptions, MatchResult, match
from smartip.mobility.matching.network import build_tiles


def feature_collection(result: MatchResult) -> dict[str, Any]:
    """One Feature: the matched (Multi)LineString, with the mode, length, OSM way ids and per-segment times."""
    kinds, counts = np.unique(result.fix_type.astype(str), return_counts=True)
    properties = {
        "mode": result.mode,
        "costing": result.costing,
        "length_m": round(result.length_m, 1),
        "way_ids": result.way_ids,
        "segments": [segment.as_dict() for segment in result.segments],
        "fixes": {str(kind): int(count) for kind, count in zip(kinds, counts, strict=True)},
    }
    feature = {"type": "Feature", "geometry": result.geometry(), "properties": properties}
    return {"type": "FeatureCollection", "features": [feature]}


def match_on_network(
    lat: np.ndarray,
    lon: np.ndarray,
    t_s: np.ndarray | None,
    *,
    network_pbf: Path,
    cache_dir: Path,
    mode: str = "car",
    options: MatchOptions | None = None,
) -> dict[str, Any]:
    """Match a trace to the streets of ``network_pbf`` (tiles cached under ``cache_dir``) as GeoJSON.

    ``t_s`` may be ``None`` for traces without times (planned routes, some CSVs): the fixes are then matched
    on geometry alone, unthinned, and segment times and speeds are meaningless (fix index used as time).
    Raises ``Invalid`` for a bad trace, mode or network.
    """
    config = build_tiles(Path(network_pbf), Path(cache_dir))
    options = options or MatchOptions()
    if t_s is None:
        t_s = np.arange(len(lat), dtype=float)
        options = dataclasses.replace(options, min_interval_s=0.0)
    result = match(lat, lon, t_s, mode=mode, tiles_dir_or_config=config, options=options)
    return feature_collection(result)
