"""Quality control for sensor series: flags, never deletions (numpy; per-series checks compiled, see below).

Every check returns a ``uint16`` bit-flag array of the input's length; combine them with ``|``. A reading
with flags == 0 is clean. Aggregate with :func:`masked` (flagged values become NaN, the data stay stored).
The checks that walk a series (range, stuck, spike) run as compiled loops (numba): qc_rolling.py for one
series at a time, qc_lanes.py for many at once (``series_starts``); numba is imported on their first use.

Bits (stable: they are stored with observations):

=====  ===============  ==========================================================================
bit    name             meaning
=====  ===============  ==========================================================================
1      MISSING          not a finite number
2      RANGE            outside the plausible range of the quantity / sensor full scale
4      STUCK            part of a run of ≥ n identical consecutive readings (default 6 ≈ 15 min at 145 s)
8      SPIKE            outside median ± k·MAD of the previous ``window`` valid readings (openSenseMap)
16     PM_ORDER         PM1 ≤ PM2.5 ≤ PM10 violated by more than the tolerance (1 µg/m³)
32     HIGH_RH          relative humidity ≥ threshold (default 80 %): optical PM over-reads
64     RH_PINNED        humidity ≥ 99.9 % (a known DHT22 failure)
128    FLATLINE         identical readings for ≥ 2 h (zero variance over the period)
=====  ===============  ==========================================================================
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smartip.core.errors import Invalid

Flags = npt.NDArray[np.uint16]
FloatArray = npt.NDArray[np.float64]

MISSING = np.uint16(1)
RANGE = np.uint16(2)
STUCK = np.uint16(4)
SPIKE = np.uint16(8)
PM_ORDER = np.uint16(16)
HIGH_RH = np.uint16(32)
RH_PINNED = np.uint16(64)
FLATLINE = np.uint16(128)
BIT_NAMES: dict[int, str] = {
    1: "missing",
    2: "range",
    4: "stuck",
    8: "spike",
    16: "pm_order",
    32: "high_rh",
    64: "rh_pinned",
    128: "flatline",
}

#: Plausible ranges (inclusive). PM: sensor full scale (datasheets); RH and T: BME280/DHT22 limits.
RANGES: dict[str, tuple[float, float]] = {
    "pm:SDS011": (0.0, 999.9),
    "pm:PMS5003": (0.0, 1000.0),
    "pm:SPS30": (0.0, 1000.0),
    "pm": (0.0, 1000.0),
    "humidity": (0.0, 100.0),
    "temperature": (-40.0, 85.0),
    "temperature:ambient": (-35.0, 50.0),
    "noise_laeq": (25.0, 130.0),
}
STUCK_RUN = 6
SPIKE_WINDOW = 15  # openSenseMap default ``outlier-window``
SPIKE_K = 3.0  # openSenseMap: median ± 3·MAD, unscaled MAD
PM_TOLERANCE_UGM3 = 1.0
HIGH_RH_PERCENT = 80.0
RH_PINNED_PERCENT = 99.9
FLATLINE_S = 7200.0


def describe(flags: int) -> list[str]:
    """Names of the bits set in one flag value."""
    return [name for bit, name in BIT_NAMES.items() if flags & bit]


def masked(values: npt.ArrayLike, flags: npt.ArrayLike, ignore: int = 0) -> FloatArray:
    """Copy of ``values`` with NaN wherever a flag bit not in ``ignore`` is set (for aggregation only)."""
    x = np.array(values, dtype=np.float64)
    bad = (np.asarray(flags, dtype=np.uint16) & np.uint16(~ignore & 0xFFFF)) != 0
    x[bad] = np.nan
    return x


def _bits(mask: npt.NDArray[np.bool_], bit: np.uint16) -> Flags:
    """``bit`` where ``mask`` is true, else 0, in one pass."""
    return np.multiply(mask, bit, dtype=np.uint16)


def missing_flags(values: npt.ArrayLike) -> Flags:
    x = np.asarray(values, dtype=np.float64)
    return _bits(~np.isfinite(x), MISSING)


def range_flags(values: npt.ArrayLike, lo: float, hi: float) -> Flags:
    """RANGE where a value is below ``lo`` or above ``hi``; MISSING where not finite (±inf may get both)."""
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out = _bits((x < lo) | (x > hi), RANGE)
    out |= missing_flags(x)
    return out


def range_limits(quantity: str, sensor_model: str | None = None) -> tuple[float, float]:
    """The (lo, hi) limits in :data:`RANGES` for ``quantity``, per sensor model where one is listed."""
    key = (
        f"{quantity}:{sensor_model}" if sensor_model and f"{quantity}:{sensor_model}" in RANGES else quantity
    )
    if key not in RANGES:
        raise Invalid(f"no range for {quantity!r}; known: {sorted(RANGES)}", field="quantity")
    return RANGES[key]


def range_flags_for(quantity: str, values: npt.ArrayLike, sensor_model: str | None = None) -> Flags:
    """Range check with the limits in :data:`RANGES` (``quantity`` e.g. ``pm``, ``humidity``)."""
    lo, hi = range_limits(quantity, sensor_model)
    return range_flags(values, lo, hi)


#: From this many series on, the spike check runs one series per SIMD lane (qc_lanes.py).
LANES_MIN_SERIES = 8
#: flag_pm_series checks many series in blocks of this many (qc_lanes.LANES: one group of lanes per block).
SERIES_PER_BLOCK = 64


def _series_starts(size: int, series_starts: npt.ArrayLike | None) -> npt.NDArray[np.int64]:
    """Validated start index of each series in a concatenation (``None``: the whole array is one series)."""
    if series_starts is None:
        return np.zeros(1 if size else 0, dtype=np.int64)
    starts = np.asarray(series_starts, dtype=np.int64).reshape(-1)
    if starts.size and (starts[0] != 0 or (np.diff(starts) <= 0).any() or starts[-1] >= max(size, 1)):
        raise Invalid(
            "series_starts must rise strictly from 0 and stay below the length", field="series_starts"
        )
    if size and not starts.size:
        raise Invalid("series_starts must begin with 0", field="series_starts")
    return np.ascontiguousarray(starts)


def _contiguous(values: npt.ArrayLike | None) -> FloatArray:
    """1-D contiguous float64 copy or view of ``values``; an empty array for ``None``."""
    if values is None:
        return np.empty(0)
    return np.ascontiguousarray(values, dtype=np.float64).reshape(-1)


def _series_kernel(
    values: npt.ArrayLike,
    series_starts: npt.ArrayLike | None,
    out: Flags | None = None,
    *,
    limits: tuple[float, float] | None = None,
    stuck_n: int = 0,
    window: int = 0,
    k: float = SPIKE_K,
    min_spread: float = 0.0,
) -> Flags:
    """Run the compiled per-series checks over ``values``, OR-ing into ``out``: range and stuck in one pass
    per series (qc_rolling.py); the spike check in the same pass for a few series, or with one series per
    SIMD lane (qc_lanes.py) from :data:`LANES_MIN_SERIES` series on. Both give the same flags."""
    from smartip.sensing import qc_lanes, qc_rolling  # numba: imported on first use, not with this module

    x = _contiguous(values)
    starts = _series_starts(x.size, series_starts)
    if out is None:
        out = np.zeros(x.size, dtype=np.uint16)
    elif out.shape != x.shape or out.dtype != np.uint16 or not out.flags.c_contiguous:
        raise Invalid(f"expected {x.size} readings, got {out.size}", field="values")
    lo, hi = limits if limits is not None else (-np.inf, np.inf)
    in_lanes = window > 0 and starts.size >= LANES_MIN_SERIES
    if limits is not None or stuck_n > 0 or not in_lanes:
        qc_rolling.series_flags(
            x,
            starts,
            out,
            float(lo),
            float(hi),
            limits is not None,
            int(stuck_n),
            0 if in_lanes else int(window),
            float(k),
            float(min_spread),
        )
    if in_lanes:
        lanes = min(qc_lanes.LANES, -(-starts.size // 8) * 8)
        qc_lanes.spike_flags(x, starts, out, int(window), float(k), float(min_spread), lanes)
    return out


def _runs(x: FloatArray, starts: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Start index and length of each run of identical consecutive values (NaN never repeats; a new series
    starts a new run)."""
    if x.size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    new = np.empty(x.size, dtype=bool)
    new[0] = True
    np.not_equal(x[1:], x[:-1], out=new[1:])
    new[starts] = True
    run_starts = np.flatnonzero(new)
    lengths = np.diff(np.append(run_starts, x.size))
    return run_starts, lengths


def stuck_flags(
    values: npt.ArrayLike, n: int = STUCK_RUN, *, series_starts: npt.ArrayLike | None = None
) -> Flags:
    """STUCK on every reading of a run of ≥ ``n`` identical consecutive finite readings.

    ``series_starts``: where each series of a concatenation begins (runs never span two series).
    """
    return _series_kernel(values, series_starts, stuck_n=max(int(n), 1))


def flatline_flags(
    timestamps_s: npt.ArrayLike,
    values: npt.ArrayLike,
    duration_s: float = FLATLINE_S,
    *,
    series_starts: npt.ArrayLike | None = None,
) -> Flags:
    """FLATLINE on every reading of a run of identical values spanning ≥ ``duration_s`` (time-ordered input)."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    ts = np.asarray(timestamps_s, dtype=np.float64).reshape(-1)
    if x.size == 0:
        return np.zeros(0, dtype=np.uint16)
    starts, lengths = _runs(x, _series_starts(x.size, series_starts))
    span = ts[starts + lengths - 1] - ts[starts]
    per = np.repeat(span, lengths)
    return np.where((per >= duration_s) & np.isfinite(x), FLATLINE, 0).astype(np.uint16)


def spike_flags(
    values: npt.ArrayLike,
    window: int = SPIKE_WINDOW,
    k: float = SPIKE_K,
    *,
    min_spread: float = 0.0,
    chunk: int | None = None,
    series_starts: npt.ArrayLike | None = None,
) -> Flags:
    """SPIKE where a reading lies outside m ± k·MAD of the previous ``window`` valid readings.

    Exactly the openSenseMap read-time outlier rule (outlierTransformer.js): m = median of the window,
    MAD = median(|xᵢ − m|) unscaled, ``x > m + k·MAD or x < m − k·MAD``; the first ``window`` valid readings are
    not checked; the window holds raw values (flagged ones included). NaNs are skipped (they are MISSING).
    ``min_spread`` > 0 adds a floor: a reading is a spike only if it is also more than k·min_spread from m, so
    a window of identical readings (MAD 0, common for SDS011 at low levels) does not flag every change.
    ``series_starts``: where each series of a concatenation begins (a window never spans two series).
    ``chunk`` is accepted for compatibility and ignored (the window is now updated reading by reading).

    Computed by a compiled loop that keeps the window sorted (qc_rolling.py), exact on the given float64 values.
    """
    del chunk
    if window < 1:
        raise Invalid("spike window must be ≥ 1", field="window")
    return _series_kernel(values, series_starts, window=int(window), k=k, min_spread=min_spread)


def pm_order_flags(
    pm1: npt.ArrayLike | None,
    pm25: npt.ArrayLike,
    pm10: npt.ArrayLike | None,
    tolerance_ugm3: float = PM_TOLERANCE_UGM3,
) -> Flags:
    """PM_ORDER where PM1 > PM2.5 + tol or PM2.5 > PM10 + tol (missing fractions are not compared)."""
    b = np.asarray(pm25, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        if pm10 is not None:
            bad = b > np.asarray(pm10, dtype=np.float64) + tolerance_ugm3
        else:
            bad = np.zeros(b.shape, dtype=bool)
        if pm1 is not None:
            bad |= np.asarray(pm1, dtype=np.float64) > b + tolerance_ugm3
    return _bits(bad, PM_ORDER)


def humidity_flags(
    rh_percent: npt.ArrayLike,
    threshold_percent: float = HIGH_RH_PERCENT,
    pinned_percent: float = RH_PINNED_PERCENT,
) -> Flags:
    """HIGH_RH where RH ≥ threshold; RH_PINNED where RH ≥ 99.9 % (set on the PM reading at that time)."""
    rh = np.asarray(rh_percent, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out = _bits(rh >= threshold_percent, HIGH_RH)
        out |= _bits(rh >= pinned_percent, RH_PINNED)
    return out


@dataclass(frozen=True)
class PmFlags:
    """Flags per reading for each PM fraction of one sensor series (or of each series, see ``series_starts``)."""

    pm25: Flags
    pm10: Flags | None = None
    pm1: Flags | None = None


def flag_pm_series(
    pm25: npt.ArrayLike,
    *,
    pm10: npt.ArrayLike | None = None,
    pm1: npt.ArrayLike | None = None,
    rh_percent: npt.ArrayLike | None = None,
    timestamps_s: npt.ArrayLike | None = None,
    sensor_model: str | None = None,
    series_starts: npt.ArrayLike | None = None,
) -> PmFlags:
    """All checks for one PM sensor series (time-ordered readings of one device), per fraction.

    Range (sensor full scale), stuck, spike, PM order (set on every fraction of the row), humidity (when RH is
    given) and flatline (when timestamps in seconds are given). ``series_starts`` checks many series of the
    same sensor model at once: the arrays are their concatenation and series g begins at ``series_starts[g]``;
    the flags equal those of one call per series. Range, stuck and spike run in one compiled pass per fraction.
    """
    n = np.asarray(pm25).size
    given = {"pm10": pm10, "pm1": pm1, "rh_percent": rh_percent, "timestamps_s": timestamps_s}
    for name, array in given.items():
        if array is not None and np.shape(array) != (n,):
            raise Invalid(f"{name} must have one value per PM2.5 reading ({n})", field=name)
    starts = _series_starts(n, series_starts)
    limits = range_limits("pm", sensor_model)
    inputs = [_contiguous(a) if a is not None else None for a in (pm25, pm10, pm1, rh_percent, timestamps_s)]
    outputs = [None if a is None else np.empty(n, dtype=np.uint16) for a in inputs[:3]]
    # Blocks of series, so that each block's arrays stay in the cache through all of its passes.
    cuts = [*starts[::SERIES_PER_BLOCK], n] if n else []
    for g, (lo, hi) in enumerate(zip(cuts, cuts[1:], strict=False)):
        part = [None if a is None else a[lo:hi] for a in inputs]
        block_starts = starts[g * SERIES_PER_BLOCK : (g + 1) * SERIES_PER_BLOCK] - lo
        _flag_pm_block(part, block_starts, [None if o is None else o[lo:hi] for o in outputs], limits)
    empty = np.zeros(0, dtype=np.uint16)
    return PmFlags(pm25=empty if outputs[0] is None else outputs[0], pm10=outputs[1], pm1=outputs[2])


def _flag_pm_block(
    inputs: list[FloatArray | None],
    starts: npt.NDArray[np.int64],
    outputs: list[Flags | None],
    limits: tuple[float, float],
) -> None:
    """flag_pm_series of a few series: ``inputs`` = PM2.5, PM10, PM1, RH, timestamps (None = not given),
    ``outputs`` = flags of PM2.5, PM10, PM1 (None where that fraction is not given)."""
    from smartip.sensing import qc_rolling

    pm25, pm10, pm1, rh, timestamps_s = inputs
    assert pm25 is not None and outputs[0] is not None
    common = outputs[0]  # pm_order_flags | humidity_flags, in one compiled pass
    qc_rolling.row_flags(
        _contiguous(pm1),
        pm25,
        _contiguous(pm10),
        _contiguous(rh),
        PM_TOLERANCE_UGM3,
        HIGH_RH_PERCENT,
        RH_PINNED_PERCENT,
        common,
    )
    for out in outputs[1:]:
        if out is not None:
            out[:] = common
    for values, out in zip((pm25, pm10, pm1), outputs, strict=True):
        if values is None or out is None:
            continue
        _series_kernel(values, starts, out, limits=limits, stuck_n=STUCK_RUN, window=SPIKE_WINDOW, k=SPIKE_K)
        if timestamps_s is not None:
            out |= flatline_flags(timestamps_s, values, series_starts=starts)
