"""Every breakpoint edge of every scheme and version: just below, on and just above each boundary.

The expected bands come from the published tables, transcribed below as data from
/work/shared/reference/air-quality-indices.md (EPA TAD 2024 Table 6, 40 CFR 58 App. G, 74 FR 30469; EEA index
pages 2017/2021/2024; COMEAP/Defra DAQI) — never from smartip's own tables.
"""

from decimal import Decimal

import numpy as np
import pytest

from smartip.sensing import aqi

US_CATEGORIES = [
    (0, 50, "Good"),
    (51, 100, "Moderate"),
    (101, 150, "Unhealthy for Sensitive Groups"),
    (151, 200, "Unhealthy"),
    (201, 300, "Very Unhealthy"),
    (301, 500, "Hazardous"),
]

# (pollutant, unit, precision, rows as "lo-hi:aqi_lo-aqi_hi")
US_2024 = {
    "pm25": (
        "ugm3",
        "0.1",
        "0.0-9.0:0-50 9.1-35.4:51-100 35.5-55.4:101-150 55.5-125.4:151-200 125.5-225.4:201-300 225.5-325.4:301-500",
    ),
    "pm10": (
        "ugm3",
        "1",
        "0-54:0-50 55-154:51-100 155-254:101-150 255-354:151-200 355-424:201-300 425-604:301-500",
    ),
    "o3": (
        "ppm",
        "0.001",
        "0.000-0.054:0-50 0.055-0.070:51-100 0.071-0.085:101-150 0.086-0.105:151-200 0.106-0.200:201-300",
    ),
    "o3_1h": (
        "ppm",
        "0.001",
        "0.125-0.164:101-150 0.165-0.204:151-200 0.205-0.404:201-300 0.405-0.604:301-500",
    ),
    "co": (
        "ppm",
        "0.1",
        "0.0-4.4:0-50 4.5-9.4:51-100 9.5-12.4:101-150 12.5-15.4:151-200 15.5-30.4:201-300 30.5-50.4:301-500",
    ),
    "so2": (
        "ppb",
        "1",
        "0-35:0-50 36-75:51-100 76-185:101-150 186-304:151-200 305-604:201-300 605-1004:301-500",
    ),
    "no2": (
        "ppb",
        "1",
        "0-53:0-50 54-100:51-100 101-360:101-150 361-649:151-200 650-1249:201-300 1250-2049:301-500",
    ),
}
_PRE2024_HAZ = {
    "pm10": "425-504:301-400 505-604:401-500",
    "o3_1h": "0.405-0.504:301-400 0.505-0.604:401-500",
    "co": "30.5-40.4:301-400 40.5-50.4:401-500",
    "so2": "605-804:301-400 805-1004:401-500",
    "no2": "1250-1649:301-400 1650-2049:401-500",
}
PM25_2012 = "0.0-12.0:0-50 12.1-35.4:51-100 35.5-55.4:101-150 55.5-150.4:151-200 150.5-250.4:201-300 250.5-350.4:301-400 350.5-500.4:401-500"
O3_8H_2008 = "0.000-0.059:0-50 0.060-0.075:51-100 0.076-0.095:101-150 0.096-0.115:151-200 0.116-0.374:201-300"


def _pre2024(o3_rows: str) -> dict[str, tuple[str, str, str]]:
    out = {}
    for p, (unit, prec, rows) in US_2024.items():
        parts = rows.split()
        if p in _PRE2024_HAZ:
            parts = parts[:-1] + _PRE2024_HAZ[p].split()
        out[p] = (unit, prec, " ".join(parts))
    out["pm25"] = ("ugm3", "0.1", PM25_2012)
    out["o3"] = ("ppm", "0.001", o3_rows)
    return out


US_VERSIONS = {
    "epa-2024": US_2024,
    "epa-2015": _pre2024(US_2024["o3"][2]),
    "epa-2012": _pre2024(O3_8H_2008),
}


def _category(aqi_value: int) -> tuple[int, str]:
    for n, (lo, hi, name) in enumerate(US_CATEGORIES, start=1):
        if lo <= aqi_value <= hi:
            return n, name
    return 6, "Hazardous"


def _us_cases() -> list[tuple[str, str, str, str, int]]:
    """(version, pollutant, unit, concentration, expected AQI) at and around every row edge."""
    cases = []
    for version, table in US_VERSIONS.items():
        for pollutant, (unit, prec, rows) in table.items():
            p = Decimal(prec)
            parsed = []
            for row in rows.split():
                conc, idx = row.split(":")
                c_lo, c_hi = (Decimal(x) for x in conc.split("-"))
                i_lo, i_hi = (int(x) for x in idx.split("-"))
                parsed.append((c_lo, c_hi, i_lo, i_hi))
            for n, (c_lo, c_hi, i_lo, i_hi) in enumerate(parsed):
                cases.append((version, pollutant, unit, str(c_lo), i_lo))  # on the lower edge
                cases.append((version, pollutant, unit, str(c_hi), i_hi))  # on the upper edge
                cases.append(
                    (version, pollutant, unit, str(c_hi + p / 2), i_hi)
                )  # just above: truncated back
                if n + 1 < len(parsed):
                    cases.append((version, pollutant, unit, str(c_hi + p), parsed[n + 1][2]))  # next row
                if n > 0:
                    cases.append(
                        (version, pollutant, unit, str(c_lo - p / 2), parsed[n - 1][3])
                    )  # just below
    return cases


US_CASES = _us_cases()


@pytest.mark.parametrize(("version", "pollutant", "unit", "conc", "expected"), US_CASES)
def test_us_edges(version: str, pollutant: str, unit: str, conc: str, expected: int) -> None:
    result = aqi.index("usaqi", pollutant, np.array([float(conc)]), version, unit=unit)
    assert result.value[0] == expected
    band, name = _category(expected)
    assert result.band[0] == band
    assert result.band_name[0] == name


def test_us_edge_cases_cover_every_row() -> None:
    rows = sum(len(rows.split()) for table in US_VERSIONS.values() for _, _, rows in table.values())
    assert len(US_CASES) >= 3 * rows


def test_us_o3_8h_undefined_above_0200_and_1h_below_0125() -> None:
    assert np.isnan(aqi.index("usaqi", "o3", [0.201], unit="ppm").value[0])
    assert np.isnan(aqi.index("usaqi", "o3_1h", [0.124], unit="ppm").value[0])


# EEA: lower edges of each band, transcribed per version; bands are [lo, hi).
EEA = {
    "2024": {
        "pm25": "0 5 15 50 90 140",
        "pm10": "0 15 45 120 195 270",
        "no2": "0 10 25 60 100 150",
        "o3": "0 60 100 120 160 180",
        "so2": "0 20 40 125 190 275",
    },
    "2021": {
        "pm25": "0 10 20 25 50 75",
        "pm10": "0 20 40 50 100 150",
        "no2": "0 40 90 120 230 340",
        "o3": "0 50 100 130 240 380",
        "so2": "0 100 200 350 500 750",
    },
    "2017": {
        "pm25": "0 10 20 25 50",
        "pm10": "0 20 35 50 100",
        "no2": "0 40 100 200 400",
        "o3": "0 80 120 180 240",
        "so2": "0 100 200 350 500",
    },
}
EEA_NAMES = ["Good", "Fair", "Moderate", "Poor", "Very poor", "Extremely poor"]
EEA_CASES = [
    (version, pollutant, float(edge) + delta, band + (1 if delta >= 0 else 0))
    for version, table in EEA.items()
    for pollutant, edges in table.items()
    for band, edge in enumerate(edges.split()[1:], start=1)
    for delta in (-0.01, 0.0, 0.01)
]


@pytest.mark.parametrize(("version", "pollutant", "conc", "expected_band"), EEA_CASES)
def test_eea_edges(version: str, pollutant: str, conc: float, expected_band: int) -> None:
    result = aqi.index("eaqi", pollutant, [conc], version)
    assert result.band[0] == expected_band
    assert result.band_name[0] == EEA_NAMES[expected_band - 1]


def test_eea_zero_is_good_and_2017_has_five_bands() -> None:
    assert aqi.index("eaqi", "pm25", [0.0]).band_name[0] == "Good"
    assert aqi.band_names("eaqi", "2017") == tuple(EEA_NAMES[:5])
    assert aqi.index("eaqi", "no2", [5000.0], "2017").band_name[0] == "Very poor"


# DAQI: index rows "lo-hi" (integer µg/m³) for index 1..9 and "lo+" for 10.
DAQI = {
    "o3": "0-33 34-66 67-100 101-120 121-140 141-160 161-187 188-213 214-240 241+",
    "no2": "0-67 68-134 135-200 201-267 268-334 335-400 401-467 468-534 535-600 601+",
    "so2": "0-88 89-177 178-266 267-354 355-443 444-532 533-710 711-887 888-1064 1065+",
    "pm25": "0-11 12-23 24-35 36-41 42-47 48-53 54-58 59-64 65-70 71+",
    "pm10": "0-16 17-33 34-50 51-58 59-66 67-75 76-83 84-91 92-100 101+",
}
DAQI_BANDS = {
    1: "Low",
    2: "Low",
    3: "Low",
    4: "Moderate",
    5: "Moderate",
    6: "Moderate",
    7: "High",
    8: "High",
    9: "High",
    10: "Very High",
}


def _daqi_cases() -> list[tuple[str, float, int]]:
    cases = []
    for pollutant, rows in DAQI.items():
        for idx, row in enumerate(rows.split(), start=1):
            lo = int(row.split("-")[0].rstrip("+"))
            cases += [(pollutant, float(lo), idx), (pollutant, lo - 0.5, idx)]  # rounds half up onto lo
            if lo > 0:
                cases.append((pollutant, lo - 0.51, idx - 1))
            if "-" in row:
                hi = int(row.split("-")[1])
                cases += [
                    (pollutant, float(hi), idx),
                    (pollutant, hi + 0.49, idx),
                    (pollutant, hi + 0.5, idx + 1),
                ]
    return cases


@pytest.mark.parametrize(("pollutant", "conc", "expected"), _daqi_cases())
def test_daqi_edges(pollutant: str, conc: float, expected: int) -> None:
    result = aqi.index("daqi", pollutant, [conc])
    assert result.value[0] == expected
    assert result.band_name[0] == DAQI_BANDS[expected]
