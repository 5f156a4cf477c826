"""Humidity correction and co-location calibration of low-cost PM sensors (pure numpy).

* κ-Köhler hygroscopic growth (Crilley et al. 2018, AMT 11:709; Di Antonio et al. 2018):
  ``a_w = min(RH/100, 0.95)``, ``C = 1 + (κ/1.65)/(1/a_w − 1)``, ``PM_dry = PM/C``. κ depends on the aerosol:
  fit it locally (:func:`fit_kappa`); the literature κ = 0.4 over-corrects at low concentrations.
* US EPA PurpleAir correction (Barkjohn, Gantt & Clements 2021, AMT 14:4617) and its extended smoke form
  (Barkjohn et al. 2022, Sensors 22:9669) for Plantower PMS5003 ``cf_1`` PM2.5.
* Co-location evaluation against a reference: OLS ``sensor = m·reference + b``, R², RMSE, NRMSE, with pass/fail
  against the US EPA performance targets (EPA/600/R-20/280; values as shipped in ``sensortoolkit``).
  PM targets assume 24-h means, gas targets 1-h means in ppb (CO ppm): average before evaluating.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smartip.core.errors import Invalid

FloatArray = npt.NDArray[np.float64]

AW_CAP = 0.95
KAPPA_LITERATURE = 0.4

#: Per sensor model: which humidity correction :func:`humidity_correction` applies.
HUMIDITY_CORRECTION: dict[str, str] = {
    "SDS011": "kohler",  # single channel, no cf_1 field: κ-Köhler with a locally fitted κ
    "PMS5003": "epa-2022",  # the EPA PurpleAir correction was fitted on PMS5003 cf_1 data
    "SPS30": "kohler",  # no published EPA-style correction in the reference: κ-Köhler, κ fitted locally
}

#: PM quantities each method applies to: the EPA correction was fitted on PM2.5 only; κ-Köhler is size-agnostic
CORRECTED_QUANTITIES: dict[str, tuple[str, ...]] = {
    "kohler": ("pm1", "pm25", "pm4", "pm10"),
    "epa-2022": ("pm25",),
}


def correction_method(sensor_model: str, quantity: str) -> str | None:
    """The humidity correction applied to ``quantity`` of this sensor model, or None (not a low-cost optical PM)."""
    method = HUMIDITY_CORRECTION.get(sensor_model.upper())
    return method if method and quantity in CORRECTED_QUANTITIES[method] else None


def correction_label(method: str, kappa: float = KAPPA_LITERATURE) -> str:
    """How the method is named in exports (``kohler-k0.40``, ``epa-2022``)."""
    return f"kohler-k{kappa:.2f}" if method == "kohler" else method


@dataclass(frozen=True)
class Target:
    """US EPA performance targets for one pollutant (units: PM µg/m³, gases ppb, CO ppm)."""

    slope: tuple[float, float]
    intercept: tuple[float, float]
    r2_min: float
    rmse_max: float
    nrmse_max_percent: float | None


EPA_TARGETS: dict[str, Target] = {
    "pm25": Target((0.65, 1.35), (-5.0, 5.0), 0.70, 7.0, 30.0),
    "pm10": Target((0.65, 1.35), (-10.0, 10.0), 0.70, 14.0, 30.0),
    "o3": Target((0.8, 1.2), (-5.0, 5.0), 0.80, 5.0, None),
    "no2": Target((0.65, 1.35), (-5.0, 5.0), 0.70, 15.0, None),
    "so2": Target((0.65, 1.35), (-5.0, 5.0), 0.70, 15.0, None),
    "co": Target((0.8, 1.2), (-0.05, 0.05), 0.80, 0.15, None),
}


@dataclass(frozen=True)
class ColocationResult:
    """OLS of sensor on reference, the EPA metrics, and each target check (``checks``) with the verdict."""

    pollutant: str
    n: int
    slope: float
    intercept: float
    r2: float
    rmse: float
    nrmse_percent: float
    checks: dict[str, bool]

    @property
    def passed(self) -> bool:
        return all(self.checks.values())


def _pairs(*arrays: npt.ArrayLike) -> list[FloatArray]:
    arrs = [np.asarray(a, dtype=np.float64) for a in arrays]
    shape = arrs[0].shape
    if any(a.shape != shape for a in arrs):
        raise Invalid("the series differ in length", field="values")
    ok = np.logical_and.reduce([np.isfinite(a) for a in arrs])
    return [a[ok] for a in arrs]


def evaluate_colocation(
    sensor: npt.ArrayLike, reference: npt.ArrayLike, pollutant: str = "pm25", *, min_pairs: int = 3
) -> ColocationResult:
    """Fit ``sensor = m·reference + b`` on the time-aligned pairs where both are finite and check EPA targets.

    RMSE = sqrt(mean((sensor − reference)²)) and NRMSE = RMSE / mean(reference) (EPA definitions).
    """
    if pollutant not in EPA_TARGETS:
        raise Invalid(f"no EPA targets for {pollutant!r}; known: {sorted(EPA_TARGETS)}", field="pollutant")
    x_sensor, r_ref = _pairs(sensor, reference)
    if x_sensor.size < min_pairs:
        raise Invalid(f"{x_sensor.size} paired values; at least {min_pairs} are needed", field="values")
    if np.ptp(r_ref) == 0:
        raise Invalid("the reference series is constant; no slope can be fitted", field="reference")
    slope, intercept = np.polyfit(r_ref, x_sensor, 1)
    r = np.corrcoef(r_ref, x_sensor)[0, 1] if np.ptp(x_sensor) > 0 else 0.0
    rmse = float(np.sqrt(np.mean((x_sensor - r_ref) ** 2)))
    mean_ref = float(np.mean(r_ref))
    nrmse = rmse / mean_ref * 100.0 if mean_ref != 0 else float("inf")
    target = EPA_TARGETS[pollutant]
    checks = {
        "slope": bool(target.slope[0] <= slope <= target.slope[1]),
        "intercept": bool(target.intercept[0] <= intercept <= target.intercept[1]),
        "r2": bool(float(r) ** 2 >= target.r2_min),
        "rmse": bool(rmse <= target.rmse_max),
    }
    if target.nrmse_max_percent is not None:
        checks["nrmse"] = bool(nrmse <= target.nrmse_max_percent)
    return ColocationResult(
        pollutant, int(x_sensor.size), float(slope), float(intercept), float(r) ** 2, rmse, nrmse, checks
    )


@dataclass(frozen=True)
class LinearCorrection:
    """``reference ≈ b0 + b_raw·raw (+ b_rh·RH)``, fitted by OLS on co-located pairs."""

    b0: float
    b_raw: float
    b_rh: float
    r2: float
    rmse: float
    n: int

    def apply(self, raw: npt.ArrayLike, rh_percent: npt.ArrayLike | None = None) -> FloatArray:
        x = self.b0 + self.b_raw * np.asarray(raw, dtype=np.float64)
        if self.b_rh != 0.0:
            if rh_percent is None:
                raise Invalid("this correction has an RH term; pass rh_percent", field="rh_percent")
            x = x + self.b_rh * np.asarray(rh_percent, dtype=np.float64)
        return np.asarray(x, dtype=np.float64)


def fit_correction(
    raw: npt.ArrayLike, reference: npt.ArrayLike, rh_percent: npt.ArrayLike | None = None
) -> LinearCorrection:
    """Multilinear correction ``reference = b0 + b1·raw (+ b2·RH)`` by least squares (finite pairs only)."""
    if rh_percent is None:
        x, y = _pairs(raw, reference)
        design = np.column_stack((np.ones_like(x), x))
    else:
        x, y, rh = _pairs(raw, reference, rh_percent)
        design = np.column_stack((np.ones_like(x), x, rh))
    if x.size < design.shape[1] + 1:
        raise Invalid(f"{x.size} pairs are too few to fit {design.shape[1]} coefficients", field="values")
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    fitted = design @ coef
    ss_res = float(np.sum((y - fitted) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0
    b_rh = float(coef[2]) if coef.size == 3 else 0.0
    return LinearCorrection(
        float(coef[0]), float(coef[1]), b_rh, r2, float(np.sqrt(ss_res / x.size)), int(x.size)
    )


def kohler_growth(rh_percent: npt.ArrayLike, kappa: float, aw_cap: float = AW_CAP) -> FloatArray:
    """Hygroscopic growth factor C(RH) of the κ-Köhler model (1 at 0 % RH; capped at a_w = 0.95)."""
    aw = np.clip(np.asarray(rh_percent, dtype=np.float64) / 100.0, 1e-6, aw_cap)
    return np.asarray(1.0 + (kappa / 1.65) / (1.0 / aw - 1.0), dtype=np.float64)


def kohler_correction(
    pm_ugm3: npt.ArrayLike, rh_percent: npt.ArrayLike, kappa: float = KAPPA_LITERATURE
) -> FloatArray:
    """Dry PM estimate ``PM / C(RH)``."""
    return np.asarray(pm_ugm3, dtype=np.float64) / kohler_growth(rh_percent, kappa)


def fit_kappa(
    pm_ugm3: npt.ArrayLike,
    rh_percent: npt.ArrayLike,
    reference_ugm3: npt.ArrayLike,
    kappas: npt.ArrayLike | None = None,
) -> float:
    """κ minimising the squared error of the κ-Köhler corrected sensor against the reference (grid search)."""
    pm, rh, ref = _pairs(pm_ugm3, rh_percent, reference_ugm3)
    if pm.size == 0:
        raise Invalid("no finite (pm, rh, reference) triple", field="values")
    grid = np.linspace(0.0, 1.5, 1501) if kappas is None else np.asarray(kappas, dtype=np.float64)
    aw = np.clip(rh / 100.0, 1e-6, AW_CAP)
    growth = 1.0 + (grid[:, None] / 1.65) / (1.0 / aw[None, :] - 1.0)
    err = ((pm[None, :] / growth - ref[None, :]) ** 2).sum(axis=1)
    return float(grid[int(np.argmin(err))])


def epa_purpleair_correction(pa_cf1_ugm3: npt.ArrayLike, rh_percent: npt.ArrayLike) -> FloatArray:
    """Barkjohn et al. 2021: ``0.524·PA − 0.0862·RH + 5.75`` (PA = cf_1 PM2.5, mean of channels A and B)."""
    pa = np.asarray(pa_cf1_ugm3, dtype=np.float64)
    return np.asarray(0.524 * pa - 0.0862 * np.asarray(rh_percent, dtype=np.float64) + 5.75, dtype=np.float64)


def epa_purpleair_extended(pa_cf1_ugm3: npt.ArrayLike, rh_percent: npt.ArrayLike) -> FloatArray:
    """Barkjohn et al. 2022 piecewise correction, extended to smoke concentrations [M: form from the reference]."""
    pa = np.asarray(pa_cf1_ugm3, dtype=np.float64)
    rh = np.asarray(rh_percent, dtype=np.float64)
    s = pa / 20.0 - 1.5
    tt = pa / 50.0 - 21.0 / 5.0
    low = 0.524 * pa - 0.0862 * rh + 5.75
    blend1 = (0.786 * s + 0.524 * (1.0 - s)) * pa - 0.0862 * rh + 5.75
    mid = 0.786 * pa - 0.0862 * rh + 5.75
    blend2 = (
        (0.69 * tt + 0.786 * (1.0 - tt)) * pa
        - 0.0862 * rh * (1.0 - tt)
        + 2.966 * tt
        + 5.75 * (1.0 - tt)
        + 8.84e-4 * pa**2 * tt
    )
    high = 2.966 + 0.69 * pa + 8.84e-4 * pa**2
    return np.select(
        [pa < 30, pa < 50, pa < 210, pa < 260, pa >= 260], [low, blend1, mid, blend2, high], default=np.nan
    )


def humidity_correction(
    sensor_model: str, pm25_ugm3: npt.ArrayLike, rh_percent: npt.ArrayLike, kappa: float | None = None
) -> FloatArray:
    """The documented correction for the model (:data:`HUMIDITY_CORRECTION`); κ should come from co-location."""
    method = HUMIDITY_CORRECTION.get(sensor_model.upper())
    if method is None:
        raise Invalid(f"no humidity correction for {sensor_model!r}; known: {sorted(HUMIDITY_CORRECTION)}")
    if method == "epa-2022":
        return epa_purpleair_extended(pm25_ugm3, rh_percent)
    return kohler_correction(pm25_ugm3, rh_percent, KAPPA_LITERATURE if kappa is None else kappa)
