"""Quality control for sensor series: flags, never deletions (vectorised, numpy).

Every check returns a ``uint16`` bit-flag array of the input's length; combine them with ``|``. A reading
with flags == 0 is clean. Aggregate with :func:`masked` (flagged values become NaN, the data stay stored).

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
from functools import lru_cache

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


def missing_flags(values: npt.ArrayLike) -> Flags:
    x = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(x), 0, MISSING).astype(np.uint16)


def range_flags(values: npt.ArrayLike, lo: float, hi: float) -> Flags:
    """RANGE where a finite value is below ``lo`` or above ``hi`` (MISSING where not finite)."""
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out = np.where((x < lo) | (x > hi), RANGE, 0).astype(np.uint16)
    return out | missing_flags(x)


def range_flags_for(quantity: str, values: npt.ArrayLike, sensor_model: str | None = None) -> Flags:
    """Range check with the limits in :data:`RANGES` (``quantity`` e.g. ``pm``, ``humidity``)."""
    key = (
        f"{quantity}:{sensor_model}" if sensor_model and f"{quantity}:{sensor_model}" in RANGES else quantity
    )
    if key not in RANGES:
        raise Invalid(f"no range for {quantity!r}; known: {sorted(RANGES)}", field="quantity")
    lo, hi = RANGES[key]
    return range_flags(values, lo, hi)


def _runs(x: FloatArray) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Start index and length of each run of identical consecutive values (NaN never repeats)."""
    if x.size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    same = x[1:] == x[:-1]
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    lengths = np.diff(np.append(starts, x.size))
    return starts, lengths


def stuck_flags(values: npt.ArrayLike, n: int = STUCK_RUN) -> Flags:
    """STUCK on every reading of a run of ≥ ``n`` identical consecutive finite readings."""
    x = np.asarray(values, dtype=np.float64)
    _, lengths = _runs(x)
    run_len = np.repeat(lengths, lengths)
    return np.where((run_len >= n) & np.isfinite(x), STUCK, 0).astype(np.uint16)


def flatline_flags(
    timestamps_s: npt.ArrayLike, values: npt.ArrayLike, duration_s: float = FLATLINE_S
) -> Flags:
    """FLATLINE on every reading of a run of identical values spanning ≥ ``duration_s`` (time-ordered input)."""
    x = np.asarray(values, dtype=np.float64)
    ts = np.asarray(timestamps_s, dtype=np.float64)
    starts, lengths = _runs(x)
    if x.size == 0:
        return np.zeros(0, dtype=np.uint16)
    span = ts[starts + lengths - 1] - ts[starts]
    per = np.repeat(span, lengths)
    return np.where((per >= duration_s) & np.isfinite(x), FLATLINE, 0).astype(np.uint16)


@lru_cache(maxsize=64)
def _median_network(window: int) -> tuple[tuple[int, int, bool, bool], ...]:
    """Batcher odd-even merge network pruned to the median wire(s) of ``window`` inputs.

    Each comparator is ``(i, j, keep_min, keep_max)``: wire i receives the min, wire j the max; a side nobody
    reads later is skipped. Padding wires (index ≥ window) would hold +inf, so comparators touching them are no-ops.
    """
    size = 1
    while size < window:
        size *= 2
    pairs = []
    span = 1
    while span < size:
        k = span
        while k >= 1:
            j = k % span
            while j + k < size:
                for i in range(min(k, size - j - k)):
                    if (i + j) // (span * 2) == (i + j + k) // (span * 2):
                        pairs.append((i + j, i + j + k))
                j += 2 * k
            k //= 2
        span *= 2
    needed = {window // 2} if window % 2 else {window // 2 - 1, window // 2}
    kept: list[tuple[int, int, bool, bool]] = []
    for i, j in reversed([(i, j) for i, j in pairs if j < window]):
        use_min, use_max = i in needed, j in needed
        if use_min or use_max:
            kept.append((i, j, use_min, use_max))
            needed |= {i, j}
    return tuple(reversed(kept))


def _network_median(wires: list[FloatArray]) -> FloatArray:
    """Element-wise median of the arrays in ``wires`` (statistics.median semantics for an even count)."""
    w = len(wires)
    wires = list(wires)
    for i, j, use_min, use_max in _median_network(w):
        a, b = wires[i], wires[j]
        if use_min:
            wires[i] = np.minimum(a, b)
        if use_max:
            wires[j] = np.maximum(a, b)
    if w % 2:
        return wires[w // 2]
    return (wires[w // 2 - 1] + wires[w // 2]) / 2


def spike_flags(
    values: npt.ArrayLike,
    window: int = SPIKE_WINDOW,
    k: float = SPIKE_K,
    *,
    min_spread: float = 0.0,
    chunk: int = 16_384,
) -> Flags:
    """SPIKE where a reading lies outside m ± k·MAD of the previous ``window`` valid readings.

    Exactly the openSenseMap read-time outlier rule (outlierTransformer.js): m = median of the window,
    MAD = median(|xᵢ − m|) unscaled, ``x > m + k·MAD or x < m − k·MAD``; the first ``window`` valid readings are
    not checked; the window holds raw values (flagged ones included). NaNs are skipped (they are MISSING).
    ``min_spread`` > 0 adds a floor: a reading is a spike only if it is also more than k·min_spread from m, so
    a window of identical readings (MAD 0, common for SDS011 at low levels) does not flag every change.

    Vectorised without sorting rows: the median comes from a pruned sorting network applied column-wise to
    cache-sized chunks; for an odd window, "outlier" is decided by counting, because the test is monotone in
    MAD: it holds iff at least (window+1)/2 of the deviations dᵢ satisfy ``x > m + k·dᵢ or x < m − k·dᵢ``.
    """
    if window < 1:
        raise Invalid("spike window must be ≥ 1", field="window")
    x = np.asarray(values, dtype=np.float64)
    finite = np.flatnonzero(np.isfinite(x))
    f = x[finite]
    out = np.zeros(x.size, dtype=np.uint16)
    n_checked = f.size - window
    if n_checked <= 0:
        return out
    hits = np.zeros(f.size, dtype=bool)
    half = (window + 1) // 2
    for lo in range(0, n_checked, chunk):
        hi = min(lo + chunk, n_checked)
        cols = [
            f[lo + j : hi + j] for j in range(window)
        ]  # cols[j][t] = j-th value before f[lo + window + t]
        med = _network_median(cols)
        cur = f[lo + window : hi + window]
        if window % 2:
            # Only the side cur lies on can hold: with u = ±cur and v = ±med (sign of cur − med),
            # "cur > med + s or cur < med − s" ⇔ u > v + s, exactly (negation is exact in floating point).
            above = cur >= med
            u = np.where(above, cur, -cur)
            v = np.where(above, med, -med)
            count = np.zeros(hi - lo, dtype=np.int16)
            spread = np.empty(hi - lo)
            for col in cols:
                np.subtract(col, med, out=spread)
                np.abs(spread, out=spread)
                spread *= k
                spread += v
                count += u > spread
            hits[lo + window : hi + window] = count >= half
        else:
            mad = _network_median([np.abs(col - med) for col in cols])
            hits[lo + window : hi + window] = (cur > med + k * mad) | (cur < med - k * mad)
        if min_spread > 0:
            hits[lo + window : hi + window] &= np.abs(cur - med) > k * min_spread
    out[finite[hits]] = SPIKE
    return out


def pm_order_flags(
    pm1: npt.ArrayLike | None,
    pm25: npt.ArrayLike,
    pm10: npt.ArrayLike | None,
    tolerance_ugm3: float = PM_TOLERANCE_UGM3,
) -> Flags:
    """PM_ORDER where PM1 > PM2.5 + tol or PM2.5 > PM10 + tol (missing fractions are not compared)."""
    b = np.asarray(pm25, dtype=np.float64)
    bad = np.zeros(b.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        if pm1 is not None:
            bad |= np.asarray(pm1, dtype=np.float64) > b + tolerance_ugm3
        if pm10 is not None:
            bad |= b > np.asarray(pm10, dtype=np.float64) + tolerance_ugm3
    return np.where(bad, PM_ORDER, 0).astype(np.uint16)


def humidity_flags(
    rh_percent: npt.ArrayLike,
    threshold_percent: float = HIGH_RH_PERCENT,
    pinned_percent: float = RH_PINNED_PERCENT,
) -> Flags:
    """HIGH_RH where RH ≥ threshold; RH_PINNED where RH ≥ 99.9 % (set on the PM reading at that time)."""
    rh = np.asarray(rh_percent, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        high = np.where(rh >= threshold_percent, HIGH_RH, 0)
        pinned = np.where(rh >= pinned_percent, RH_PINNED, 0)
    return (high | pinned).astype(np.uint16)


@dataclass(frozen=True)
class PmFlags:
    """Flags per reading for each PM fraction of one sensor series."""

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
) -> PmFlags:
    """All checks for one PM sensor series (time-ordered readings of one device), per fraction.

    Range (sensor full scale), stuck, spike, PM order (set on every fraction of the row), humidity (when RH is
    given) and flatline (when timestamps in seconds are given).
    """
    common = pm_order_flags(pm1, pm25, pm10)
    if rh_percent is not None:
        common |= humidity_flags(rh_percent)

    def one(values: npt.ArrayLike) -> Flags:
        flags = (
            range_flags_for("pm", values, sensor_model) | stuck_flags(values) | spike_flags(values) | common
        )
        if timestamps_s is not None:
            flags |= flatline_flags(timestamps_s, values)
        return flags

    return PmFlags(
        pm25=one(pm25),
        pm10=None if pm10 is None else one(pm10),
        pm1=None if pm1 is None else one(pm1),
    )
