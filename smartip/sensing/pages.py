"""Reads behind the air pages: map rows, a sensor's hour/day/week series, QC summary, neighbourhoods, calibration.

Every function takes plain arguments and returns dataclasses the templates render; no request objects here.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from smartip.accounts.models import User
from smartip.accounts.permissions import has_role, is_city_staff
from smartip.cities.models import City
from smartip.core.errors import Invalid
from smartip.sensing import aggregates, averaging, bands, calibration
from smartip.sensing.models import QUANTITIES, HourlyAggregate, Observation, Sensor

QC_BITS: tuple[tuple[int, str, object], ...] = (
    (1, _("missing"), _("The reading was empty or not a number.")),
    (2, _("out of range"), _("The value was outside what this sensor can measure.")),
    (4, _("stuck"), _("The same value repeated many times in a row: the sensor may be stuck.")),
    (8, _("spike"), _("A sudden jump far from its neighbours (median ± 3 MAD over 15 readings).")),
    (16, _("PM order"), _("PM2.5 was higher than PM10, which is physically impossible.")),
    (
        32,
        _("high humidity"),
        _("Humidity above 80 %: optical particle counters read too high in fog and mist."),
    ),
    (64, _("humidity pinned"), _("The humidity sensor read about 100 % and may be saturated or wet.")),
    (128, _("flatline"), _("No change at all for two hours or more.")),
)
#: the schemes' band names (aqi_tables, a pure module) marked here so makemessages extracts them; the
#: templates and alert emails translate them with {% translate band.name %} / gettext(name)
BAND_NAMES = tuple(
    gettext_noop(n)
    for n in (
        "Good",
        "Fair",
        "Moderate",
        "Poor",
        "Very poor",
        "Extremely poor",
        "Unhealthy for Sensitive Groups",
        "Unhealthy",
        "Very Unhealthy",
        "Hazardous",
        "Low",
        "High",
        "Very High",
    )
)
QC_WINDOW = timedelta(days=7)
CHART_HOURS = 24
CHART_DAYS = 7
CHART_WEEKS = 8


# ----------------------------------------------------------------------------------------------- map


@dataclass(frozen=True)
class SensorRow:
    sensor: Sensor
    latest: aggregates.LatestIndex | None
    band: bands.Band | None


def map_rows(city: City, *, at: datetime | None = None) -> list[SensorRow]:
    """Public sensors of ``city`` with their latest index and band (two queries whatever the number)."""
    return map_data(city, at=at)[0]


@dataclass(frozen=True)
class CityRow:
    latest: aggregates.LatestIndex | None
    band: bands.Band | None


def map_data(city: City, *, at: datetime | None = None) -> tuple[list[SensorRow], CityRow]:
    """The map's sensor rows and the city-wide index (aggregates.public_indices), in two queries."""
    sensors = list(Sensor.objects.for_city(city).public().select_related("neighbourhood"))
    for s in sensors:
        s.city = city
    latest, city_latest = aggregates.public_indices(city, sensors, at=at) if sensors else ({}, None)
    scheme = city.profile.aqi_scheme
    rows = []
    for s in sensors:
        index = latest.get(s.pk)
        rows.append(SensorRow(s, index, bands.band(scheme, index.band if index else None)))
    return rows, CityRow(city_latest, bands.band(scheme, city_latest.band if city_latest else None))


def can_see_sensor(user: User | None, sensor: Sensor) -> bool:
    """Public sensors to everyone; indoor or inactive ones to their owner and the city's staff and analysts."""
    if sensor.is_active and sensor.exposure == "outdoor":
        return True
    if user is None or not user.is_authenticated:
        return False
    return sensor.owner_id == user.pk or is_city_staff(user, sensor.city) or can_analyse(user, sensor.city)


def can_analyse(user: User | None, city: City) -> bool:
    """Calibration reports: the city's analysts and administrators."""
    return has_role(user, city, "analyst", "admin")


# ----------------------------------------------------------------------------------------------- charts


@dataclass(frozen=True)
class Bar:
    label: str
    start: datetime
    value: float | None
    percent: float  # bar length relative to the chart's maximum
    gap: str = ""  # why a period with some data has no mean (e.g. "incomplete: 12 of 24 hours")


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    bars: list[Bar]

    @property
    def has_data(self) -> bool:
        return any(b.value is not None or b.gap for b in self.bars)


def sensor_quantities(sensor: Sensor) -> list[str]:
    """Quantities the sensor has hourly means of, in QUANTITIES order."""
    have = set(HourlyAggregate.objects.filter(sensor=sensor).values_list("quantity", flat=True).distinct())
    return [q for q in QUANTITIES if q in have]


def _bars(points: list[tuple[datetime, str, float | None, str]]) -> list[Bar]:
    top = max((v for _s, _l, v, _g in points if v is not None), default=0.0)
    return [
        Bar(label, start, v, 0.0 if v is None or top <= 0 else round(max(v, 0.0) / top * 100, 1), gap)
        for start, label, v, gap in points
    ]


def _gap(value: float | None, *, has_data: bool, count: int, total: int, per: str) -> str:
    """Why a period that has some data shows no mean ("" when it has a mean or no data at all)."""
    if value is not None or not has_data:
        return ""
    if per == "day":
        return str(_("incomplete: %(count)s of %(total)s hours")) % {"count": count, "total": total}
    return str(_("incomplete: %(count)s of %(total)s valid days")) % {"count": count, "total": total}


@dataclass(frozen=True)
class DailyWeekly:
    """Daily means (≥ 18 of 24 valid hours) and weekly means (≥ 6 of 7 valid days) from ``first_day`` on."""

    first_day: datetime
    daily: np.ndarray
    hours_per_day: np.ndarray
    weekly: np.ndarray
    days_per_week: np.ndarray


def daily_weekly(by_hour: dict[datetime, float], first_day: datetime, n_weeks: int) -> DailyWeekly:
    """The EU 75 % completeness rule on the calendar (UTC) day, then on the week of daily means.

    ``first_day`` is a Monday 00:00; days are counted from it (averaging.daily_mean). A week's mean is the mean of
    its valid daily means, valid with at least 75 % of its days (6 of 7) valid, so an incomplete day or week
    shows as a gap instead of a mean of whatever hours happened to arrive.
    """
    n_days = n_weeks * 7
    points = [(int((h - first_day).total_seconds() // 86400), v) for h, v in by_hour.items()]
    points = [(d, v) for d, v in points if 0 <= d < n_days]
    day_index = np.array([d for d, _v in points], dtype=np.int64)
    values = np.array([v for _d, v in points], dtype=np.float64)
    daily = averaging.daily_mean(values, day_index, n_days, min_hours=averaging.min_count(24))
    hours = np.bincount(day_index, minlength=n_days)
    week_index = np.arange(n_days) // 7
    ok = np.isfinite(daily)
    days_per_week = np.bincount(week_index[ok], minlength=n_weeks)
    sums = np.bincount(week_index[ok], weights=daily[ok], minlength=n_weeks)
    with np.errstate(invalid="ignore", divide="ignore"):
        weekly = np.where(days_per_week >= averaging.min_count(7), sums / days_per_week, np.nan)
    return DailyWeekly(first_day, daily, hours, weekly, days_per_week)


def _value(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def sensor_charts(sensor: Sensor, quantity: str, *, now: datetime) -> list[Chart]:
    """Last 24 hourly means, last 7 daily means and last 8 weekly means (UTC), with the 75 % completeness rule."""
    unit = QUANTITIES[quantity].unit
    end_hour = aggregates.hour_floor(now)
    today = end_hour.replace(hour=0)
    monday = today - timedelta(days=today.weekday())
    first_day = monday - timedelta(weeks=CHART_WEEKS - 1)
    rows = HourlyAggregate.objects.valid().filter(
        sensor=sensor, quantity=quantity, hour__gte=first_day, hour__lte=end_hour
    )
    by_hour = dict(rows.values_list("hour", "mean"))
    hours = [end_hour - timedelta(hours=i) for i in range(CHART_HOURS - 1, -1, -1)]
    hour_points = [(h, f"{h:%H}:00", by_hour.get(h), "") for h in hours]
    dw = daily_weekly(by_hour, first_day, CHART_WEEKS)
    day_points = []
    for i in range(CHART_DAYS - 1, -1, -1):
        d = today - timedelta(days=i)
        k = (d - first_day).days
        value = _value(dw.daily[k])
        n_hours = int(dw.hours_per_day[k])
        gap = _gap(value, has_data=n_hours > 0, count=n_hours, total=24, per="day")
        day_points.append((d, f"{d:%a %d}", value, gap))
    week_points = []
    for w in range(CHART_WEEKS):
        start = first_day + timedelta(weeks=w)
        value = _value(dw.weekly[w])
        has_data = bool(dw.hours_per_day[w * 7 : w * 7 + 7].any())
        gap = _gap(value, has_data=has_data, count=int(dw.days_per_week[w]), total=7, per="week")
        week_points.append((start, f"{start:%d %b}", value, gap))
    return [
        Chart(str(_("Last 24 hours (hourly means, UTC)")), unit, _bars(hour_points)),
        Chart(
            str(_("Last 7 days (daily means of days with at least 18 of 24 hours)")), unit, _bars(day_points)
        ),
        Chart(
            str(_("Last 8 weeks (weekly means of weeks with at least 6 of 7 valid days)")),
            unit,
            _bars(week_points),
        ),
    ]


@dataclass(frozen=True)
class CorrectedHour:
    """The newest hour's mean corrected for humidity (calibration.humidity_correction on the hourly means)."""

    hour: datetime
    raw: float
    rh_percent: float
    corrected: float
    method: str  # calibration.HUMIDITY_CORRECTION value: "kohler" or "epa-2022"
    kappa: float


def corrected_latest(
    sensor: Sensor, quantity: str, *, now: datetime, lookback: timedelta = timedelta(hours=48)
) -> CorrectedHour | None:
    """For the PM of low-cost optical sensors: the newest hour with valid means of ``quantity`` and humidity."""
    method = calibration.correction_method(sensor.model, quantity)
    if method is None:
        return None
    end = aggregates.hour_floor(now)
    rows = HourlyAggregate.objects.valid().filter(
        sensor=sensor, quantity__in=[quantity, "humidity"], hour__gt=end - lookback, hour__lte=end
    )
    by_quantity: dict[str, dict[datetime, float]] = defaultdict(dict)
    for q, hour, mean in rows.values_list("quantity", "hour", "mean"):
        by_quantity[q][hour] = mean
    both = set(by_quantity[quantity]) & set(by_quantity["humidity"])
    if not both:
        return None
    hour = max(both)
    raw, rh = by_quantity[quantity][hour], by_quantity["humidity"][hour]
    corrected = float(calibration.humidity_correction(sensor.model, np.array([raw]), np.array([rh]))[0])
    return CorrectedHour(hour, raw, rh, corrected, method, calibration.KAPPA_LITERATURE)


# ----------------------------------------------------------------------------------------------- QC


@dataclass(frozen=True)
class QcLine:
    bit: int
    name: object
    explanation: object
    count: int


@dataclass(frozen=True)
class QcSummary:
    total: int
    clean: int
    lines: list[QcLine]


def qc_summary(sensor: Sensor, *, now: datetime) -> QcSummary:
    """Readings of the last 7 days by QC flag (one query: counts per flag combination, expanded per bit)."""
    counts = dict(
        Observation.objects.filter(sensor=sensor, time__gte=now - QC_WINDOW, time__lt=now)
        .values_list("qc_flags")
        .annotate(n=Count("id"))
        .values_list("qc_flags", "n")
    )
    per_bit = {bit: sum(n for flags, n in counts.items() if flags & bit) for bit, _n, _e in QC_BITS}
    return QcSummary(
        total=sum(counts.values()),
        clean=counts.get(0, 0),
        lines=[QcLine(bit, name, text, per_bit[bit]) for bit, name, text in QC_BITS],
    )


# ----------------------------------------------------------------------------------------------- neighbourhoods


@dataclass(frozen=True)
class HoodRow:
    name: str
    pk: int
    latest: aggregates.LatestIndex | None
    band: bands.Band | None


def neighbourhood_rows(city: City, *, at: datetime | None = None) -> list[HoodRow]:
    scheme = city.profile.aqi_scheme
    return [
        HoodRow(h.name, h.pk, latest, bands.band(scheme, latest.band if latest else None))
        for h, latest in aggregates.neighbourhood_indices(city, at=at).items()
    ]


# ----------------------------------------------------------------------------------------------- calibration


#: hours each series is averaged to before the EPA comparison: PM targets assume 24-h means, gases 1-h means
COLOCATION_AVERAGING_H = {"pm25": 24, "pm10": 24}


@dataclass(frozen=True)
class ColocationReport:
    result: calibration.ColocationResult
    averaging_h: int  # 24: UTC calendar-day means (≥ 18 of 24 hourly means each); 1: the hourly means


def colocation(
    *, sensor: Sensor, reference: Sensor, pollutant: str, start: datetime, end: datetime
) -> ColocationReport:
    """EPA co-location metrics of ``sensor`` against ``reference`` at the targets' averaging time.

    PM: both series averaged to UTC calendar-day means with the 75 % rule (averaging.daily_mean, 18 of 24 valid
    hourly means), then paired by day; gases: the common valid hourly means (EPA/600/R-20/280).
    """
    if not reference.is_reference:
        raise Invalid(f"{reference.name} is not a reference station", field="reference")
    if sensor.pk == reference.pk:
        raise Invalid("choose a sensor other than the reference", field="sensor")
    if end <= start:
        raise Invalid("the end must be after the start", field="end")
    rows = HourlyAggregate.objects.valid().filter(
        sensor__in=[sensor, reference], quantity=pollutant, hour__gte=start, hour__lt=end
    )
    series: dict[int, dict[datetime, float]] = defaultdict(dict)
    for sensor_id, hour, mean in rows.values_list("sensor_id", "hour", "mean"):
        series[sensor_id][hour] = mean
    averaging_h = COLOCATION_AVERAGING_H.get(pollutant, 1)
    if averaging_h == 24:
        n_days = -(-(end - start) // timedelta(days=1))
        x_sensor, x_reference = (_day_means(series[s.pk], start, n_days) for s in (sensor, reference))
    else:
        common = sorted(set(series[sensor.pk]) & set(series[reference.pk]))
        x_sensor = np.array([series[sensor.pk][h] for h in common])
        x_reference = np.array([series[reference.pk][h] for h in common])
    return ColocationReport(calibration.evaluate_colocation(x_sensor, x_reference, pollutant), averaging_h)


def _day_means(by_hour: dict[datetime, float], start: datetime, n_days: int) -> np.ndarray:
    """Means of the days from ``start`` (NaN where fewer than 18 of 24 hourly means are valid)."""
    day_index = np.array([(h - start) // timedelta(days=1) for h in by_hour], dtype=np.int64)
    values = np.array(list(by_hour.values()), dtype=np.float64)
    return averaging.daily_mean(values, day_index, n_days, min_hours=averaging.min_count(24))
