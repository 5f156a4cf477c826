"""Citizen sensing benchmark: QC + air-quality index, and (to come) ingest rates.

    nice .venv/bin/python benchmarks/sensing.py                       # 10 million readings, 200 000 for python-aqi
    nice .venv/bin/python benchmarks/sensing.py --readings 1000000 --sample 50000 --json

QC + index (this section): synthetic PM readings of SDS011-like sensors (one series per sensor, 10 000 readings
each, 145 s apart; PM2.5 with 2 decimals, PM10, RH; a few spikes, stuck runs and gaps). Our side runs every QC
check (range, stuck, spike, PM order, humidity) per sensor series and the US EPA index of PM2.5 and PM10 with the
overall index and dominant pollutant, vectorised, on all readings. The reference is PyPI ``python-aqi`` called
once per reading (``aqi.to_aqi([(PM2.5, c), (PM10, c)])``, its documented per-reading API); it is too slow for 10
million calls, so it is timed on the first ``--sample`` readings and compared per reading (rate), which the
printout says. python-aqi does no QC: the "index only" ratio compares like with like; the "QC + index" ratio
gives python-aqi the QC for free. Agreement with python-aqi is checked on the sample with our ``epa-2012``
tables (python-aqi's), and differences are classified (exact .5 ties: EPA "nearest integer" vs its half-even).

Times are CPU seconds of this process (time.process_time), not wall-clock: on a shared machine the wall clock
measures other people's load. Both sides are single-threaded.

Ingest (lead): ``bench_ingest`` measures the HTTP batch / MQTT ingest rates; it returns None until written.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from smartip.sensing import aqi, qc  # noqa: E402

READINGS_PER_SENSOR = 10_000
# CPU time of this process (user + system): both sides are single-threaded, and the machine is shared, so
# wall-clock time would mostly measure the other jobs' load.
_clock = time.process_time
INTERVAL_S = 145


def make_readings(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Synthetic SDS011 + DHT22 readings: log-normal PM2.5 with a daily cycle, PM10/PM2.5 ratio, RH, faults."""
    rng = np.random.default_rng(seed)
    t_s = np.arange(n) % READINGS_PER_SENSOR * INTERVAL_S
    sensor_level = np.repeat(rng.normal(2.0, 0.4, -(-n // READINGS_PER_SENSOR)), READINGS_PER_SENSOR)[:n]
    diurnal = 0.5 * np.sin(2 * np.pi * t_s / 86_400)
    smooth_noise = np.convolve(rng.normal(0.0, 0.3, n), np.ones(5) / 5, mode="same")
    log_pm = sensor_level + diurnal + smooth_noise
    pm25 = np.round(np.clip(np.exp(log_pm), 0.0, 480.0), 2)
    pm10 = np.round(np.minimum(pm25 * rng.uniform(1.1, 2.5, n), 600.0), 2)
    rh = np.clip(72 - 18 * np.sin(2 * np.pi * t_s / 86_400) + rng.normal(0, 5, n), 20, 100)
    spikes = rng.choice(n, n // 1000, replace=False)
    pm25[spikes] = np.minimum(pm25[spikes] * 8 + 50, 480.0)
    for start in rng.choice(n - 20, n // 20_000, replace=False):
        pm25[start : start + 10] = pm25[start]  # stuck runs
    gaps = rng.choice(n, n // 200, replace=False)
    pm25[gaps] = np.nan
    pm10[gaps] = np.nan
    return {"pm25": pm25, "pm10": pm10, "rh": rh}


def run_qc(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """All QC checks per sensor series (flags for PM2.5 and PM10)."""
    n = data["pm25"].size
    flags25 = np.empty(n, dtype=np.uint16)
    flags10 = np.empty(n, dtype=np.uint16)
    for lo in range(0, n, READINGS_PER_SENSOR):
        hi = min(lo + READINGS_PER_SENSOR, n)
        f = qc.flag_pm_series(
            data["pm25"][lo:hi],
            pm10=data["pm10"][lo:hi],
            rh_percent=data["rh"][lo:hi],
            sensor_model="SDS011",
        )
        flags25[lo:hi] = f.pm25
        flags10[lo:hi] = f.pm10  # type: ignore[assignment]
    return flags25, flags10


def _qc_breakdown(data: dict[str, np.ndarray]) -> dict[str, float]:
    """Seconds per check over all readings (PM2.5 and PM10 where the check is per fraction)."""
    checks = {
        "range": lambda a, b: qc.range_flags_for("pm", a, "SDS011") | qc.range_flags_for("pm", b, "SDS011"),
        "stuck": lambda a, b: qc.stuck_flags(a) | qc.stuck_flags(b),
        "spike": lambda a, b: qc.spike_flags(a) | qc.spike_flags(b),
        "pm_order": lambda a, b: qc.pm_order_flags(None, a, b),
    }
    out = {}
    n = data["pm25"].size
    for name, check in checks.items():
        t0 = _clock()
        for lo in range(0, n, READINGS_PER_SENSOR):
            hi = min(lo + READINGS_PER_SENSOR, n)
            check(data["pm25"][lo:hi], data["pm10"][lo:hi])
        out[name] = _clock() - t0
    t0 = _clock()
    qc.humidity_flags(data["rh"])
    out["humidity"] = _clock() - t0
    return out


def run_index(data: dict[str, np.ndarray], version: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """US AQI of PM2.5 and PM10 with the overall value, band and dominant pollutant, per sensor series
    (batches of 10 000 readings, as they arrive from one device) into preallocated result arrays."""
    n = data["pm25"].size
    value = np.empty(n)
    band = np.empty(n, dtype=np.int8)
    dominant = np.empty(n, dtype=np.int8)
    for lo in range(0, n, READINGS_PER_SENSOR):
        hi = min(lo + READINGS_PER_SENSOR, n)
        r = aqi.overall("usaqi", {"pm25": data["pm25"][lo:hi], "pm10": data["pm10"][lo:hi]}, version)
        value[lo:hi], band[lo:hi], dominant[lo:hi] = r.value, r.band, r.dominant_index
    return value, band, dominant


def bench_qc_index(readings: int, sample: int, repeat: int) -> dict[str, Any]:
    """Figures for the QC + index section."""
    import aqi as pyaqi  # PyPI python-aqi (dev dependency)

    data = make_readings(readings)
    best = {"qc_s": float("inf"), "index_s": float("inf")}
    for _ in range(repeat):
        t0 = _clock()
        flags25, _ = run_qc(data)
        t1 = _clock()
        value_2024, _, _ = run_index(data, "epa-2024")
        t2 = _clock()
        best["qc_s"] = min(best["qc_s"], t1 - t0)
        best["index_s"] = min(best["index_s"], t2 - t1)
    breakdown = _qc_breakdown(data)
    per_scheme = {}
    for scheme in aqi.SCHEMES:
        t0 = _clock()
        aqi.index(scheme, "pm25", data["pm25"])
        per_scheme[scheme] = _clock() - t0

    # python-aqi on the first `sample` complete readings; strings prepared outside the timing
    idx = np.flatnonzero(np.isfinite(data["pm25"][: sample * 2]))[:sample]
    s25 = [f"{v:.2f}" for v in data["pm25"][idx]]
    s10 = [f"{v:.2f}" for v in data["pm10"][idx]]
    t0 = _clock()
    theirs = [
        int(pyaqi.to_aqi([(pyaqi.POLLUTANT_PM25, a), (pyaqi.POLLUTANT_PM10, b)]))
        for a, b in zip(s25, s10, strict=True)
    ]
    py_s = _clock() - t0
    ours_2012 = run_index({"pm25": data["pm25"][idx], "pm10": data["pm10"][idx]}, "epa-2012")[0]
    differ = np.flatnonzero(ours_2012 != np.asarray(theirs))
    ties = sum(_is_tie(s25[i], s10[i], int(ours_2012[i])) for i in differ)
    ours_2024 = value_2024[idx]

    ours_total = best["qc_s"] + best["index_s"]
    py_per = py_s / len(idx)
    return {
        "readings": readings,
        "sensors": -(-readings // READINGS_PER_SENSOR),
        "qc_s": best["qc_s"],
        "index_s": best["index_s"],
        "qc_index_s": ours_total,
        "ours_ns_per_reading": ours_total / readings * 1e9,
        "index_ns_per_reading": best["index_s"] / readings * 1e9,
        "index_single_pollutant_s": per_scheme,
        "qc_breakdown_s": breakdown,
        "flag_rates": {name: float(((flags25 & bit) != 0).mean()) for bit, name in qc.BIT_NAMES.items()},
        "flagged_fraction": float((flags25 != 0).mean()),
        "python_aqi_sample": len(idx),
        "python_aqi_s": py_s,
        "python_aqi_us_per_reading": py_per * 1e6,
        "python_aqi_extrapolated_s": py_per * readings,
        "ratio_index_only": py_per / (best["index_s"] / readings),
        "ratio_qc_index": py_per / (ours_total / readings),
        "agree_epa2012": 1.0 - differ.size / len(idx),
        "differ_epa2012": int(differ.size),
        "differ_explained_by_ties": int(ties),
        "differ_epa2024_vs_python_aqi": float((ours_2024 != np.asarray(theirs)).mean()),
    }


def _is_tie(c25: str, c10: str, ours: int) -> bool:
    """Whether the AQI that decided the reading is an exact .5 before rounding (python-aqi's own tables)."""
    from aqi.algos.epa import AQI as PyAqiEpa  # noqa: N811

    table = PyAqiEpa.piecewise
    exact = []
    for key, conc in ((1, c25), (2, c10)):  # python-aqi: POLLUTANT_PM25 = "pm25", POLLUTANT_PM10 = "pm10"
        name = "pm25" if key == 1 else "pm10"
        prec = Fraction(str(table["prec"][name]))
        c = (Fraction(conc) // prec) * prec
        for (lo, hi), (a_lo, a_hi) in zip(table["bp"][name], table["aqi"], strict=False):
            lo_f, hi_f = Fraction(str(lo)), Fraction(str(hi))
            if lo_f <= c <= hi_f:
                exact.append(Fraction(a_hi - a_lo) / (hi_f - lo_f) * (c - lo_f) + a_lo)
                break
    top = max(exact)
    return top.denominator == 2 and abs(top - ours) <= Fraction(1, 2)


def bench_ingest(readings: int) -> dict[str, Any] | None:
    """HTTP batch (DIY push format, SensorThings CreateObservations) and MQTT ingest rates.

    TO BE WRITTEN BY THE LEAD (needs Django, the ingest services and a database). Return a dict of figures
    to print, or None while not implemented.
    """
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readings", type=int, default=10_000_000)
    parser.add_argument("--sample", type=int, default=200_000, help="readings timed with python-aqi")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs of our side")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures: dict[str, dict[str, Any] | None] = {
        "qc_index": bench_qc_index(args.readings, args.sample, args.repeat)
    }
    figures["ingest"] = bench_ingest(args.readings)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    f = figures["qc_index"]
    assert f is not None
    print(f"QC + index: {f['readings']:,} readings from {f['sensors']:,} sensor series")
    print(f"  ours   QC {f['qc_s']:.2f} s + US AQI (PM2.5, PM10, overall) {f['index_s']:.2f} s")
    print(
        f"         = {f['ours_ns_per_reading']:.0f} ns/reading ({f['flagged_fraction']:.2%} readings flagged)"
    )
    print("         QC checks: " + ", ".join(f"{k} {v:.2f} s" for k, v in f["qc_breakdown_s"].items()))
    print("         flag rates (PM2.5): " + ", ".join(f"{k} {v:.2%}" for k, v in f["flag_rates"].items()))
    print(
        "         one pollutant, one scheme: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in f["index_single_pollutant_s"].items())
    )
    print(
        f"  python-aqi to_aqi per reading, timed on {f['python_aqi_sample']:,} readings: {f['python_aqi_s']:.2f} s "
        f"= {f['python_aqi_us_per_reading']:.1f} µs/reading (→ {f['python_aqi_extrapolated_s']:.0f} s for "
        f"{f['readings']:,}, extrapolated per reading)"
    )
    print(f"  speed-up, index only:   {f['ratio_index_only']:.0f}x")
    print(f"  speed-up, QC + index:   {f['ratio_qc_index']:.0f}x   (goal ≥ 100x; python-aqi does no QC)")
    print(
        f"  agreement with python-aqi (our epa-2012 tables): {f['agree_epa2012']:.4%}; "
        f"{f['differ_epa2012']} differ, {f['differ_explained_by_ties']} of them exact .5 ties"
    )
    print(
        f"  epa-2024 differs from python-aqi on {f['differ_epa2024_vs_python_aqi']:.1%} of the sample (new PM2.5 table)"
    )
    ingest = figures["ingest"]
    print(
        "Ingest: "
        + ("not measured yet (bench_ingest is the lead's)" if ingest is None else json.dumps(ingest))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
