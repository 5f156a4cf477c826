"""Air-quality indices by the official tables, vectorised over numpy arrays.

Schemes: ``eaqi`` (EEA European AQI; versions ``2024`` default, ``2021``, ``2017``), ``daqi`` (UK Daily AQI,
``2012``) and ``usaqi`` (US EPA AQI; ``epa-2024`` default, ``epa-2015``, ``epa-2012``). Tables: aqi_tables.py.

Conventions (each written down because the standards leave a choice):

* Inputs are µg/m³ unless ``unit`` says otherwise. US gases are converted to ppb/ppm at 25 °C and 1 atm
  (24.45 L/mol; NO2 1 ppb = 1.882 µg/m³, O3 1.963, SO2 2.620, CO 1 ppm = 1.146 mg/m³), as EPA tables assume.
* NaN in → no value out: ``value`` NaN and ``band`` 0. Negative concentrations (reference stations report
  small negatives) are treated as 0.
* EEA: band intervals are half-open ``[lower, upper)``; a value on an edge falls into the higher band. The EEA
  publishes no number, so ``value`` is the band number (1..6). No rounding.
* DAQI: the concentration is rounded half-up to an integer, then looked up; ``value`` is the index 1..10 and
  ``band`` is Low/Moderate/High/Very High (1..4).
* US: the concentration is truncated (PM2.5 0.1 µg/m³, PM10 1 µg/m³, O3 0.001 ppm, CO 0.1 ppm, SO2/NO2 1 ppb),
  interpolated linearly inside its row in exact integer arithmetic and rounded half-up to an integer (EPA:
  "round to the nearest integer"; python-aqi rounds half-even, which differs only on exact .5 ties).
  Above the top row the top row's line is extended ("beyond the AQI", band Hazardous), except 8-h O3, which
  defines no value above 0.200 ppm (NaN: use 1-h O3 there); 1-h O3 gives NaN below 0.125 ppm.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from smartip.core.errors import Invalid
from smartip.sensing import aqi_tables as t
from smartip.sensing import averaging

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int8]
SCHEMES: tuple[str, ...] = ("eaqi", "daqi", "usaqi")
UNITS: tuple[str, ...] = ("ugm3", "ppb", "ppm")
_ALL_TABLES: dict[str, Mapping[str, Mapping[str, object]]] = {
    "eaqi": t.EEA_TABLES,
    "daqi": t.DAQI_TABLES,
    "usaqi": t.US_TABLES,
}


@dataclass(frozen=True)
class IndexResult:
    """Sub-index of one pollutant per element: value, band number (0 = no value) and band names."""

    value: FloatArray
    band: IntArray
    band_names: tuple[str, ...]

    @property
    def band_name(self) -> npt.NDArray[np.str_]:
        """Band name per element ('' where there is no value)."""
        return np.asarray(("",) + self.band_names)[self.band]


@dataclass(frozen=True)
class OverallResult:
    """Worst sub-index per element and the pollutant that set it ('' where no pollutant had a value)."""

    value: FloatArray
    band: IntArray
    dominant_index: IntArray  # position in ``pollutants``; -1 where no pollutant had a value
    pollutants: tuple[str, ...]
    band_names: tuple[str, ...]
    sub: dict[str, IndexResult] = field(default_factory=dict)

    @property
    def band_name(self) -> npt.NDArray[np.str_]:
        return np.asarray(("",) + self.band_names)[self.band]

    @property
    def dominant(self) -> npt.NDArray[np.str_]:
        """Dominant pollutant per element ('' where none)."""
        return np.asarray(self.pollutants + ("",))[self.dominant_index]


def default_version(scheme: str) -> str:
    """The version used when none is given: the current table of each scheme."""
    _check_scheme(scheme)
    return {"eaqi": t.EEA_DEFAULT_VERSION, "daqi": t.DAQI_DEFAULT_VERSION, "usaqi": t.US_DEFAULT_VERSION}[
        scheme
    ]


def versions(scheme: str) -> tuple[str, ...]:
    """Versions available for ``scheme``."""
    _check_scheme(scheme)
    return tuple(_ALL_TABLES[scheme])


def pollutants(scheme: str, version: str | None = None) -> tuple[str, ...]:
    """Pollutant keys the scheme's table defines (US also has ``o3_1h``)."""
    return tuple(_tables(scheme, version or default_version(scheme)))


def band_names(scheme: str, version: str | None = None) -> tuple[str, ...]:
    """Names of the bands, band 1 first."""
    version = version or default_version(scheme)
    _tables(scheme, version)
    if scheme == "usaqi":
        return t.US_BAND_NAMES
    if scheme == "daqi":
        return t.DAQI_BAND_NAMES
    n = len(t.EEA_TABLES[version]["pm25"])
    return t.EEA_BAND_NAMES_6 if n == 6 else t.EEA_BAND_NAMES_5


def ugm3_to_native(pollutant: str, concentration_ugm3: npt.ArrayLike, unit: str) -> FloatArray:
    """Convert µg/m³ to ``unit`` (ppb or ppm for gases at 25 °C, 1 atm); ``ugm3`` returns the input."""
    c = np.asarray(concentration_ugm3, dtype=np.float64)
    if unit == "ugm3":
        return c
    base = pollutant.split("_")[0]
    if base not in t.MOLAR_MASS_G_MOL:
        raise Invalid(f"{pollutant} has no ppb/ppm conversion", field="unit")
    ppb = c * t.MOLAR_VOLUME_L_25C / t.MOLAR_MASS_G_MOL[base]
    return ppb / 1000.0 if unit == "ppm" else ppb


def native_to_ugm3(pollutant: str, concentration: npt.ArrayLike, unit: str) -> FloatArray:
    """Inverse of :func:`ugm3_to_native`."""
    c = np.asarray(concentration, dtype=np.float64)
    if unit == "ugm3":
        return c
    one = float(ugm3_to_native(pollutant, np.float64(1.0), unit))
    return c / one


def index(
    scheme: str,
    pollutant: str,
    concentration_ugm3: npt.ArrayLike,
    version: str | None = None,
    *,
    unit: str = "ugm3",
) -> IndexResult:
    """Sub-index of ``pollutant`` for each concentration, already averaged as the scheme requires.

    ``unit`` may be ``ppb``/``ppm`` to pass concentrations in those units (for US gases: the table's own unit).
    Raises :class:`Invalid` for an unknown scheme, version, pollutant or unit.
    """
    version = version or default_version(scheme)
    tables = _tables(scheme, version)
    if pollutant not in tables:
        raise Invalid(
            f"{scheme} {version} has no table for {pollutant!r}; it has {sorted(tables)}", field="pollutant"
        )
    if unit not in UNITS:
        raise Invalid(f"unknown unit {unit!r}; use one of {UNITS}", field="unit")
    c = np.asarray(concentration_ugm3, dtype=np.float64)
    if scheme == "usaqi":
        native_unit = t.US_TABLES[version][pollutant].unit
        c = ugm3_to_native(pollutant, native_to_ugm3(pollutant, c, unit), native_unit)
    else:
        c = native_to_ugm3(pollutant, c, unit)
    value, band = t.lookup(t.compiled(scheme, version, pollutant), c)
    return IndexResult(value, band, band_names(scheme, version))


def us_lookup(pollutant: str, version: str, native: FloatArray) -> FloatArray:
    """US AQI (float, integer-valued; NaN where undefined) from concentrations in the table's unit."""
    return t.lookup(t.compiled("usaqi", version, pollutant), np.asarray(native, dtype=np.float64))[0]


def overall(
    scheme: str,
    concentrations_ugm3: Mapping[str, npt.ArrayLike],
    version: str | None = None,
    *,
    unit: str = "ugm3",
) -> OverallResult:
    """Worst sub-index over the given pollutants (all arrays the same shape), with the dominant pollutant.

    Ties go to the pollutant given first. Pollutants whose value is NaN are ignored.
    """
    subs = {p: index(scheme, p, c, version, unit=unit) for p, c in concentrations_ugm3.items()}
    return combine(scheme, subs, version)


def combine(scheme: str, subs: Mapping[str, IndexResult], version: str | None = None) -> OverallResult:
    """Combine precomputed sub-indices into the overall index (max value, dominant pollutant)."""
    names = band_names(scheme, version)
    if not subs:
        raise Invalid("no pollutant given", field="pollutants")
    keys = tuple(subs)
    first = subs[keys[0]]
    value = first.value.copy()
    band = first.band.copy()
    dominant = np.where(np.isnan(value), -1, 0).astype(np.int8)
    flat = (value.reshape(-1), band.reshape(-1), dominant.reshape(-1))
    worse = np.empty(min(value.size, t.CHUNK), dtype=bool)
    tmp = np.empty_like(worse)
    for position, key in enumerate(keys[1:], start=1):
        sub_value, sub_band = subs[key].value.reshape(-1), subs[key].band.reshape(-1)
        for lo in range(0, value.size, t.CHUNK):
            hi = min(lo + t.CHUNK, value.size)
            v, w, t_ = flat[0][lo:hi], worse[: hi - lo], tmp[: hi - lo]
            np.greater(sub_value[lo:hi], v, out=w)
            np.isnan(v, out=t_)  # a value beats a missing one; ties keep the earlier pollutant
            w |= t_
            np.copyto(v, sub_value[lo:hi], where=w)
            np.copyto(flat[1][lo:hi], sub_band[lo:hi], where=w)
            np.copyto(flat[2][lo:hi], np.int8(position), where=w & ~np.isnan(sub_value[lo:hi]))
    return OverallResult(value, band, dominant, keys, names, dict(subs))


def _check_scheme(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise Invalid(f"unknown scheme {scheme!r}; use one of {SCHEMES}", field="scheme")


def _tables(scheme: str, version: str) -> Mapping[str, object]:
    _check_scheme(scheme)
    all_tables = _ALL_TABLES[scheme]
    if version not in all_tables:
        raise Invalid(f"{scheme} has no version {version!r}; use one of {tuple(all_tables)}", field="version")
    return all_tables[version]


@dataclass(frozen=True)
class SeriesIndices:
    """Index per time step (hour or day) with the averaged concentrations that fed each sub-index."""

    timestamps: npt.NDArray[np.datetime64]
    result: OverallResult
    averaged_ugm3: dict[str, FloatArray]


def hourly_indices(
    scheme: str,
    timestamps: npt.ArrayLike,
    hourly_ugm3: Mapping[str, npt.ArrayLike],
    version: str | None = None,
    *,
    pm_method: str = "nowcast",
) -> SeriesIndices:
    """Index for each given hour, applying the scheme's own averaging on the clock-hour grid.

    ``timestamps`` are whole hours (any order, no duplicates; gaps allowed); ``hourly_ugm3`` maps pollutant →
    hourly means (NaN = missing). Running means need ≥ 75 % valid hours (averaging.py). Averaging per scheme:
    EEA 2024 hourly for all; EEA 2021/2017 PM 24-h running mean; DAQI O3 8-h running mean, PM 24-h running
    mean, NO2 and SO2 hourly (hourly SO2 stands in for the 15-min mean); US: PM by NowCast (``pm_method=
    "nowcast"``) or 24-h running mean (``"24h"``), O3 max of the 8-h running-mean AQI and the 1-h AQI, CO 8-h
    running mean, NO2 1-h, SO2 1-h below 305 ppb and otherwise max(200, AQI of the 24-h running mean).
    Results are returned in the order of ``timestamps``.
    """
    version = version or default_version(scheme)
    known = _tables(scheme, version)
    start, slot, n_slots = averaging.to_hour_grid(timestamps)
    grids: dict[str, FloatArray] = {}
    for p, values in hourly_ugm3.items():
        if p not in known or p == "o3_1h":
            raise Invalid(f"{scheme} {version} has no table for {p!r}", field="pollutant")
        arr = np.asarray(values, dtype=np.float64)
        if arr.shape != slot.shape:
            raise Invalid(f"{p}: {arr.size} values for {slot.size} timestamps", field=p)
        grids[p] = averaging.scatter_to_grid(slot, n_slots, arr)
    subs, averaged = _hourly_subs(scheme, version, grids, pm_method)
    picked = {p: IndexResult(r.value[slot], r.band[slot], r.band_names) for p, r in subs.items()}
    return SeriesIndices(
        np.asarray(timestamps, dtype="datetime64[s]"),
        combine(scheme, picked, version),
        {p: a[slot] for p, a in averaged.items()},
    )


def _hourly_subs(
    scheme: str, version: str, grids: Mapping[str, FloatArray], pm_method: str
) -> tuple[dict[str, IndexResult], dict[str, FloatArray]]:
    if pm_method not in ("nowcast", "24h"):
        raise Invalid(f"unknown pm_method {pm_method!r}; use 'nowcast' or '24h'", field="pm_method")
    subs: dict[str, IndexResult] = {}
    averaged: dict[str, FloatArray] = {}
    for p, grid in grids.items():
        if scheme == "eaqi":
            hours = t.EEA_AVERAGING_H[version][p]
        elif scheme == "daqi":
            hours = t.DAQI_AVERAGING_H[p]
        else:
            hours = {"pm25": 24, "pm10": 24, "o3": 8, "co": 8}.get(p, 1)
        if scheme == "usaqi" and p in ("pm25", "pm10") and pm_method == "nowcast":
            avg = averaging.nowcast(grid)
        else:
            avg = averaging.running_mean(grid, hours) if hours > 1 else grid
        averaged[p] = avg
        subs[p] = index(scheme, p, avg, version)
        if scheme == "usaqi" and p == "o3":
            subs[p] = _max_sub(subs[p], index(scheme, "o3_1h", grid, version))
        if scheme == "usaqi" and p == "so2":
            subs[p] = _us_so2(version, grid)
    return subs, averaged


def _max_sub(a: IndexResult, b: IndexResult) -> IndexResult:
    value = np.fmax(a.value, b.value)
    band = np.maximum(a.band, b.band).astype(np.int8)
    return IndexResult(value, band, a.band_names)


def _us_so2(version: str, hourly: FloatArray) -> IndexResult:
    return _us_so2_values(version, hourly, averaging.running_mean(hourly, 24))


def _us_so2_values(version: str, one_hour_ugm3: FloatArray, day_mean_ugm3: FloatArray) -> IndexResult:
    """EPA SO2: the 1-h table up to 304 ppb; at or above 305 ppb, max(200, AQI of the 24-h mean) [M]."""
    ppb = ugm3_to_native("so2", one_hour_ugm3, "ppb")
    one_h = us_lookup("so2", version, ppb)
    high = np.floor(np.where(np.isnan(ppb), 0.0, ppb) + 1e-6) >= 305
    day = us_lookup("so2", version, ugm3_to_native("so2", day_mean_ugm3, "ppb"))
    value = np.where(high, np.fmax(200.0, day), one_h)
    return IndexResult(value, t.us_band(value), t.US_BAND_NAMES)


def daily_indices(
    scheme: str,
    timestamps: npt.ArrayLike,
    hourly_ugm3: Mapping[str, npt.ArrayLike],
    version: str | None = None,
) -> SeriesIndices:
    """Index per calendar day (of the timestamps as given, no time-zone shift).

    DAQI and US: PM as the calendar-day mean (≥ 18 h), O3 (and US CO) as the day's maximum running 8-h mean
    (≥ 18 valid 8-h means), NO2/SO2 (and US 1-h O3) as the day's maximum hourly value (≥ 18 h). The EEA defines
    no daily index: for ``eaqi`` the day gets its worst hourly index (our convention), with ≥ 18 valid hours.
    """
    version = version or default_version(scheme)
    start, slot, n_slots = averaging.to_hour_grid(timestamps)
    days, day_of_slot = averaging.day_slots(start, n_slots)
    n_days = days.size
    if scheme == "eaqi":
        hourly = hourly_indices(scheme, timestamps, hourly_ugm3, version)
        subs: dict[str, IndexResult] = {}
        for p, r in hourly.result.sub.items():
            grid = averaging.scatter_to_grid(slot, n_slots, r.value)
            value = averaging.daily_max(grid, day_of_slot, n_days)
            band = np.where(np.isnan(value), 0, np.nan_to_num(value)).astype(np.int8)
            subs[p] = IndexResult(value, band, r.band_names)
        return SeriesIndices(days.astype("datetime64[s]"), combine(scheme, subs, version), {})
    daily: dict[str, FloatArray] = {}
    subs = {}
    for p, values in hourly_ugm3.items():
        grid = averaging.scatter_to_grid(slot, n_slots, np.asarray(values, dtype=np.float64))
        if p in ("pm25", "pm10"):
            daily[p] = averaging.daily_mean(grid, day_of_slot, n_days)
        elif p in ("o3", "co"):
            daily[p] = averaging.daily_max(averaging.running_mean(grid, 8), day_of_slot, n_days)
        else:
            daily[p] = averaging.daily_max(grid, day_of_slot, n_days)
        subs[p] = index(scheme, p, daily[p], version)
        if scheme == "usaqi" and p == "so2":
            subs[p] = _us_so2_values(version, daily[p], averaging.daily_mean(grid, day_of_slot, n_days))
        if scheme == "usaqi" and p == "o3":
            one_h = averaging.daily_max(grid, day_of_slot, n_days)
            subs[p] = _max_sub(subs[p], index(scheme, "o3_1h", one_h, version))
    return SeriesIndices(days.astype("datetime64[s]"), combine(scheme, subs, version), daily)
