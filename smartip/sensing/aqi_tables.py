"""Published air-quality index tables, as data, and their compiled lookup form.

Sources (see /work/shared/reference/air-quality-indices.md for the confidence flags):

* US EPA AQI: EPA-454/B-24-002 (Technical Assistance Document, May 2024) Table 6 for ``epa-2024``;
  40 CFR 58 App. G before the 2024 PM rule for ``epa-2015``/``epa-2012``; 74 FR 30469 for the 2008 O3 8-h row.
  ``epa-2012`` is exactly the table shipped by PyPI ``python-aqi`` 0.6.1.
* EEA European AQI: ``2024`` revision (ETC HE Report 2024/17; hourly values of all five pollutants),
  ``2021`` (six bands, PM as 24-h running mean), ``2017`` (five bands, discomap viewer).
* UK DAQI: COMEAP 2011 / Defra, in use since 2012.

US rows are ``(conc_lo, conc_hi, aqi_lo, aqi_hi)`` in the table's native unit (ppm for O3 and CO, ppb for
SO2 and NO2, µg/m³ for PM). Banded rows (EEA, DAQI) are the lower edge of each band in µg/m³.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

US_BAND_NAMES: tuple[str, ...] = (
    "Good",
    "Moderate",
    "Unhealthy for Sensitive Groups",
    "Unhealthy",
    "Very Unhealthy",
    "Hazardous",
)
#: Upper AQI bound of each US category (Good ≤ 50, …, Hazardous > 300).
US_BAND_TOP_AQI: tuple[int, ...] = (50, 100, 150, 200, 300)

EEA_BAND_NAMES_6: tuple[str, ...] = ("Good", "Fair", "Moderate", "Poor", "Very poor", "Extremely poor")
EEA_BAND_NAMES_5: tuple[str, ...] = EEA_BAND_NAMES_6[:5]

DAQI_BAND_NAMES: tuple[str, ...] = ("Low", "Moderate", "High", "Very High")
#: DAQI index (1..10) → band number (1..4).
DAQI_INDEX_TO_BAND: tuple[int, ...] = (1, 1, 1, 2, 2, 2, 3, 3, 3, 4)

UsRow = tuple[float, float, int, int]


@dataclass(frozen=True)
class UsTable:
    """One US pollutant table: its unit, the truncation applied before lookup, and the rows."""

    unit: str  # "ugm3", "ppb" or "ppm"
    decimals: int  # truncate the concentration to this many decimals before the lookup
    averaging_h: int
    rows: tuple[UsRow, ...]


_HAZ_SPLIT = (301, 400), (401, 500)

_PM25_2024: tuple[UsRow, ...] = (
    (0.0, 9.0, 0, 50),
    (9.1, 35.4, 51, 100),
    (35.5, 55.4, 101, 150),
    (55.5, 125.4, 151, 200),
    (125.5, 225.4, 201, 300),
    (225.5, 325.4, 301, 500),
)
_PM25_2012: tuple[UsRow, ...] = (
    (0.0, 12.0, 0, 50),
    (12.1, 35.4, 51, 100),
    (35.5, 55.4, 101, 150),
    (55.5, 150.4, 151, 200),
    (150.5, 250.4, 201, 300),
    (250.5, 350.4, 301, 400),
    (350.5, 500.4, 401, 500),
)
_PM10_2024: tuple[UsRow, ...] = (
    (0, 54, 0, 50),
    (55, 154, 51, 100),
    (155, 254, 101, 150),
    (255, 354, 151, 200),
    (355, 424, 201, 300),
    (425, 604, 301, 500),
)
_PM10_2012: tuple[UsRow, ...] = _PM10_2024[:5] + ((425, 504, 301, 400), (505, 604, 401, 500))
_O3_8H_2015: tuple[UsRow, ...] = (
    (0.000, 0.054, 0, 50),
    (0.055, 0.070, 51, 100),
    (0.071, 0.085, 101, 150),
    (0.086, 0.105, 151, 200),
    (0.106, 0.200, 201, 300),
)
_O3_8H_2008: tuple[UsRow, ...] = (
    (0.000, 0.059, 0, 50),
    (0.060, 0.075, 51, 100),
    (0.076, 0.095, 101, 150),
    (0.096, 0.115, 151, 200),
    (0.116, 0.374, 201, 300),
)
# 1-h O3 defines AQI values from 101 only.
_O3_1H_2024: tuple[UsRow, ...] = (
    (0.125, 0.164, 101, 150),
    (0.165, 0.204, 151, 200),
    (0.205, 0.404, 201, 300),
    (0.405, 0.604, 301, 500),
)
_O3_1H_2012: tuple[UsRow, ...] = _O3_1H_2024[:3] + ((0.405, 0.504, 301, 400), (0.505, 0.604, 401, 500))
_CO_2024: tuple[UsRow, ...] = (
    (0.0, 4.4, 0, 50),
    (4.5, 9.4, 51, 100),
    (9.5, 12.4, 101, 150),
    (12.5, 15.4, 151, 200),
    (15.5, 30.4, 201, 300),
    (30.5, 50.4, 301, 500),
)
_CO_2012: tuple[UsRow, ...] = _CO_2024[:5] + ((30.5, 40.4, 301, 400), (40.5, 50.4, 401, 500))
# SO2: the 1-h rows stop at AQI 200; rows from 305 ppb apply to 24-h means (see aqi.py).
_SO2_2024: tuple[UsRow, ...] = (
    (0, 35, 0, 50),
    (36, 75, 51, 100),
    (76, 185, 101, 150),
    (186, 304, 151, 200),
    (305, 604, 201, 300),
    (605, 1004, 301, 500),
)
_SO2_2012: tuple[UsRow, ...] = _SO2_2024[:5] + ((605, 804, 301, 400), (805, 1004, 401, 500))
_NO2_2024: tuple[UsRow, ...] = (
    (0, 53, 0, 50),
    (54, 100, 51, 100),
    (101, 360, 101, 150),
    (361, 649, 151, 200),
    (650, 1249, 201, 300),
    (1250, 2049, 301, 500),
)
_NO2_2012: tuple[UsRow, ...] = _NO2_2024[:5] + ((1250, 1649, 301, 400), (1650, 2049, 401, 500))


def _us(pm25: tuple[UsRow, ...], o3: tuple[UsRow, ...], merged: bool) -> dict[str, UsTable]:
    pick = (lambda new, old: new) if merged else (lambda new, old: old)
    return {
        "pm25": UsTable("ugm3", 1, 24, pm25),
        "pm10": UsTable("ugm3", 0, 24, pick(_PM10_2024, _PM10_2012)),
        "o3": UsTable("ppm", 3, 8, o3),
        "o3_1h": UsTable("ppm", 3, 1, pick(_O3_1H_2024, _O3_1H_2012)),
        "co": UsTable("ppm", 1, 8, pick(_CO_2024, _CO_2012)),
        "so2": UsTable("ppb", 0, 1, pick(_SO2_2024, _SO2_2012)),
        "no2": UsTable("ppb", 0, 1, pick(_NO2_2024, _NO2_2012)),
    }


US_TABLES: dict[str, dict[str, UsTable]] = {
    # PM NAAQS rule of Feb 2024 (in force 6 May 2024): new PM2.5 rows, 301–500 merged into one row.
    "epa-2024": _us(_PM25_2024, _O3_8H_2015, merged=True),
    # Oct 2015 O3 revision, 2012 PM2.5 table (in force Oct 2015 – May 2024).
    "epa-2015": _us(_PM25_2012, _O3_8H_2015, merged=False),
    # 2012 PM2.5 table with the 2008 O3 table (Dec 2012 – Oct 2015); identical to python-aqi 0.6.1.
    "epa-2012": _us(_PM25_2012, _O3_8H_2008, merged=False),
}
US_DEFAULT_VERSION = "epa-2024"

#: EEA band lower edges (µg/m³); a band is the half-open interval [lower, next lower).
EEA_TABLES: dict[str, dict[str, tuple[float, ...]]] = {
    "2024": {
        "pm25": (0, 5, 15, 50, 90, 140),
        "pm10": (0, 15, 45, 120, 195, 270),
        "no2": (0, 10, 25, 60, 100, 150),
        "o3": (0, 60, 100, 120, 160, 180),
        "so2": (0, 20, 40, 125, 190, 275),
    },
    "2021": {
        "pm25": (0, 10, 20, 25, 50, 75),
        "pm10": (0, 20, 40, 50, 100, 150),
        "no2": (0, 40, 90, 120, 230, 340),
        "o3": (0, 50, 100, 130, 240, 380),
        "so2": (0, 100, 200, 350, 500, 750),
    },
    "2017": {
        "pm25": (0, 10, 20, 25, 50),
        "pm10": (0, 20, 35, 50, 100),
        "no2": (0, 40, 100, 200, 400),
        "o3": (0, 80, 120, 180, 240),
        "so2": (0, 100, 200, 350, 500),
    },
}
EEA_DEFAULT_VERSION = "2024"
#: Averaging (hours) each EEA version applies before the lookup. 2024: hourly for all five pollutants
#: (EEA "About the index"); 2021 and 2017: PM as the 24-h running mean [2017: M, see reference].
EEA_AVERAGING_H: dict[str, dict[str, int]] = {
    "2024": {"pm25": 1, "pm10": 1, "no2": 1, "o3": 1, "so2": 1},
    "2021": {"pm25": 24, "pm10": 24, "no2": 1, "o3": 1, "so2": 1},
    "2017": {"pm25": 24, "pm10": 24, "no2": 1, "o3": 1, "so2": 1},
}

#: DAQI index lower edges (integer µg/m³) for index 1..10; the concentration is rounded to an integer first.
DAQI_TABLES: dict[str, dict[str, tuple[int, ...]]] = {
    "2012": {
        "o3": (0, 34, 67, 101, 121, 141, 161, 188, 214, 241),
        "no2": (0, 68, 135, 201, 268, 335, 401, 468, 535, 601),
        "so2": (0, 89, 178, 267, 355, 444, 533, 711, 888, 1065),
        "pm25": (0, 12, 24, 36, 42, 48, 54, 59, 65, 71),
        "pm10": (0, 17, 34, 51, 59, 67, 76, 84, 92, 101),
    }
}
DAQI_DEFAULT_VERSION = "2012"
#: O3 running 8-h mean; NO2 hourly; SO2 15-min mean (hourly used as the nearest available); PM 24-h mean.
DAQI_AVERAGING_H: dict[str, int] = {"o3": 8, "no2": 1, "so2": 1, "pm25": 24, "pm10": 24}

#: Molar masses (g/mol) for µg/m³ ↔ ppb at 25 °C and 1013.25 hPa (molar volume 24.45 L/mol), as EPA uses.
MOLAR_MASS_G_MOL: dict[str, float] = {"no2": 46.0055, "o3": 47.9982, "so2": 64.066, "co": 28.010}
MOLAR_VOLUME_L_25C = 24.45


@dataclass(frozen=True)
class Lut:
    """Index and band for every lookup key k = floor(c·scale + offset), 0 ≤ k ≤ top.

    Entry top+1 stands for "above the table" and entry top+2 for "missing" (NaN, band 0). For US tables
    ``beyond`` holds the top row, whose line is extended above the table; otherwise entry top+1 holds NaN
    (8-h O3) or repeats the top band (EEA, DAQI).
    """

    scale: float
    offset: float
    top: int
    value: npt.NDArray[np.float64]
    band: npt.NDArray[np.int8]
    beyond: tuple[int, int, int, int] | None


def us_band(aqi_value: npt.NDArray[np.float64]) -> npt.NDArray[np.int8]:
    band = np.searchsorted(US_BAND_TOP_AQI, aqi_value, side="left") + 1
    return np.where(np.isnan(aqi_value), 0, band).astype(np.int8)


@lru_cache(maxsize=128)
def compiled(scheme: str, version: str, pollutant: str) -> Lut:
    if scheme == "usaqi":
        table = US_TABLES[version][pollutant]
        scale = 10**table.decimals
        rows = [(round(lo * scale), round(hi * scale), i_lo, i_hi) for lo, hi, i_lo, i_hi in table.rows]
        top = rows[-1][1]
        k = np.arange(top + 1)
        lo_k = np.array([r[0] for r in rows])
        r = np.searchsorted(lo_k, k, side="right") - 1
        value = np.array(
            [_us_aqi(rows[i], int(kk)) if i >= 0 else np.nan for kk, i in zip(k, r, strict=True)]
        )
        beyond = None if pollutant == "o3" else rows[-1]
        value = np.concatenate((value, [np.nan, np.nan]))
        return Lut(float(scale), 1e-6, top, value, us_band(value), beyond)
    edges: tuple[float, ...]
    if scheme == "daqi":
        edges = DAQI_TABLES[version][pollutant]
        offset, band_of = 0.5, np.asarray((0,) + DAQI_INDEX_TO_BAND)
    else:
        edges = EEA_TABLES[version][pollutant]
        offset, band_of = 0.0, np.arange(len(edges) + 1)
    assert all(float(e).is_integer() for e in edges), "integer band edges make floor() exact"
    top = int(edges[-1])
    idx = np.searchsorted(np.asarray(edges), np.arange(top + 2), side="right")
    value = np.concatenate((idx.astype(np.float64), [np.nan]))
    band = np.concatenate((band_of[idx], [0])).astype(np.int8)
    return Lut(1.0, offset, top, value, band, None)


def _us_aqi(row: tuple[int, int, int, int], k: int) -> float:
    """EPA interpolation on truncated integer units, rounded half-up in exact integer arithmetic."""
    lo_k, hi_k, i_lo, i_hi = row
    num = (i_hi - i_lo) * (k - lo_k)
    den = hi_k - lo_k
    return float(i_lo + (2 * num + den) // (2 * den))


CHUNK = 1 << 15  # elements per pass: temporaries stay in cache


def lookup(
    lut: Lut, concentration: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    """Vectorised table lookup: a few passes per cache-sized chunk, no per-element Python."""
    c = concentration.reshape(-1)
    value = np.empty(c.size)
    band = np.empty(c.size, dtype=np.int8)
    key = np.empty(min(c.size, CHUNK))
    k = np.empty(key.size, dtype=np.int32)
    nan = np.empty(key.size, dtype=bool)
    above: list[npt.NDArray[np.intp]] = []
    for lo in range(0, c.size, CHUNK):
        hi = min(lo + CHUNK, c.size)
        kk, kt, kn = key[: hi - lo], k[: hi - lo], nan[: hi - lo]
        np.multiply(c[lo:hi], lut.scale, out=kk)
        kk += lut.offset
        np.floor(kk, out=kk)
        np.clip(kk, 0, lut.top + 1, out=kk)  # negatives count as 0; NaN stays NaN
        np.isnan(kk, out=kn)
        np.copyto(kk, lut.top + 2, where=kn)
        kt[:] = kk
        np.take(lut.value, kt, out=value[lo:hi])
        np.take(lut.band, kt, out=band[lo:hi])
        if lut.beyond is not None:
            above.append(np.flatnonzero(kt == lut.top + 1) + lo)
    if lut.beyond is not None and above:
        over = np.concatenate(above)
        if over.size:
            k_true = np.floor(c[over] * lut.scale + lut.offset).astype(np.int64)
            lo_k, hi_k, i_lo, i_hi = lut.beyond
            den = hi_k - lo_k
            value[over] = i_lo + (2 * (i_hi - i_lo) * (k_true - lo_k) + den) // (2 * den)
            band[over] = len(US_BAND_NAMES)
    return value.reshape(concentration.shape), band.reshape(concentration.shape)
