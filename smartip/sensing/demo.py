"""Demo sensing data: per city a few citizen sensors and one reference station with a week of readings.

Citizen sensors read every 5 minutes (PM2.5, PM10, temperature, humidity; one carries an NO2 cell), the station
hourly (PM2.5, PM10, NO2, O3). Concentrations follow a diurnal cycle (traffic peaks at 08:00 and 18:00, an
evening heating bump for PM, O3 peaking in the afternoon when NO2 is low) with log-normal noise, and a high-PM
episode (a stagnant, humid spell): PM rises about 36 hours before the load to about six times its usual level
and stays there, so even the 24-hour means (DAQI, US) are high at load time and alerts have something to fire on.
"""

import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
from django.utils import timezone

from smartip.accounts.models import User
from smartip.cities.models import City, Neighbourhood
from smartip.sensing import aggregates
from smartip.sensing.ingest import Reading, store
from smartip.sensing.models import Sensor
from smartip.sensing.services import register_sensor

DAYS = 7
CITIZEN_STEP_S = 300
EPISODE_START_H_AGO = 36.0
EPISODE_RISE_H = 4.0
#: the band the demo alert subscribes at; the episode must reach it in every city's scheme
DEMO_ALERT_BAND = 3


def _point_in(hood: Neighbourhood, rng: random.Random) -> tuple[float, float] | None:
    for _ in range(200):
        lat = rng.uniform(hood.min_lat, hood.max_lat)
        lon = rng.uniform(hood.min_lon, hood.max_lon)
        if hood.contains(lat, lon):
            return lat, lon
    return None


def _diurnal(hours_local: np.ndarray) -> np.ndarray:
    """Relative traffic/heating profile, about 1 on average."""
    h = hours_local % 24
    rush = np.exp(-(((h - 8) / 1.5) ** 2)) + 0.8 * np.exp(-(((h - 18) / 2.0) ** 2))
    evening = 0.5 * np.exp(-(((h - 21) / 2.5) ** 2))
    return 0.6 + 0.8 * rush + evening


def _episode(hours_ago: np.ndarray) -> np.ndarray:
    """Extra PM factor of the episode: ×1 before, rising over a few hours to ×6 from 36 hours ago until now."""
    return 1.0 + 5.0 / (1.0 + np.exp((hours_ago - EPISODE_START_H_AGO) / EPISODE_RISE_H))


def _smooth_noise(gen: np.random.Generator, n: int, step_s: int) -> np.ndarray:
    """Multiplicative AR(1) noise with a ~1 h memory (real PM drifts; white noise would look like spikes)."""
    phi = math.exp(-step_s / 3600)
    shocks = gen.normal(0, 0.25 * math.sqrt(1 - phi**2), n)
    out = np.empty(n)
    acc = 0.0
    for i in range(n):
        acc = phi * acc + shocks[i]
        out[i] = acc
    return np.exp(out)


def _series(
    times: list[datetime], city: City, gen: np.random.Generator, level: float, *, now: datetime
) -> dict[str, np.ndarray]:
    tz = city.tz
    hours_local = np.array([t.astimezone(tz).hour + t.astimezone(tz).minute / 60 for t in times])
    hours_ago = np.array([(now - t).total_seconds() / 3600 for t in times])
    day_of_year = np.array([t.timetuple().tm_yday for t in times])
    step_s = int((times[1] - times[0]).total_seconds()) if len(times) > 1 else 3600
    noise = _smooth_noise(gen, len(times), step_s)
    profile = _diurnal(hours_local)
    pm25 = level * profile * _episode(hours_ago) * noise
    pm10 = pm25 * gen.uniform(1.4, 1.9, len(times))
    no2 = 12 + 30 * (profile - 0.5) * level / 8 * np.exp(gen.normal(0, 0.2, len(times)))
    sun = np.clip(np.sin((hours_local - 6) / 12 * math.pi), 0, None)
    o3 = np.clip(55 + 35 * sun - 0.6 * no2 + gen.normal(0, 5, len(times)), 2, None)
    season = 8 + 8 * np.cos((day_of_year - 200) / 365 * 2 * math.pi)
    temperature = season + 4 * np.sin((hours_local - 9) / 24 * 2 * math.pi) + gen.normal(0, 0.4, len(times))
    humidity = np.clip(
        70 - 15 * sun + 10 * (_episode(hours_ago) - 1) / 5 + gen.normal(0, 3, len(times)), 20, 99
    )
    return {
        "pm25": np.round(pm25, 2),
        "pm10": np.round(pm10, 2),
        "no2": np.round(no2, 1),
        "o3": np.round(o3, 1),
        "temperature": np.round(temperature, 1),
        "humidity": np.round(humidity, 1),
    }


def _fill(
    sensor: Sensor, quantities: tuple[str, ...], step_s: int, level: float, gen: np.random.Generator
) -> None:
    now = timezone.now().astimezone(UTC)
    end = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % (step_s // 60 or 1))
    n = DAYS * 86_400 // step_s
    times = [end - timedelta(seconds=step_s * i) for i in range(n)][::-1]
    series = _series(times, sensor.city, gen, level, now=now)
    readings = [
        Reading(sensor.pk, q, t, float(v)) for q in quantities for t, v in zip(times, series[q], strict=True)
    ]
    for lo in range(0, len(readings), 5000):
        store(readings[lo : lo + 5000], {sensor.pk: sensor}, now=now)
    aggregates.refresh_sensor(sensor)


def load_demo(*, city: City, users: dict[str, User], rng: random.Random) -> None:
    """Idempotent: a city that already has sensors is left alone."""
    if Sensor.objects.for_city(city).exists():
        return
    gen = np.random.default_rng(rng.getrandbits(32))
    hoods = list(city.neighbourhoods.all())
    rng.shuffle(hoods)
    specs = [
        ("resident1", "SDS011", ("pm25", "pm10", "temperature", "humidity"), 9.0),
        ("resident2", "SDS011", ("pm25", "pm10", "temperature", "humidity"), 11.0),
        ("resident3", "PMS5003", ("pm25", "pm10", "temperature", "humidity"), 7.5),
        ("resident4", "SPS30", ("pm25", "pm10", "temperature", "humidity"), 13.0),
        ("resident5", "NO2-cell", ("no2",), 10.0),
    ]
    for i, (who, model, quantities, level) in enumerate(specs):
        hood = hoods[i % len(hoods)] if hoods else None
        point = _point_in(hood, rng) if hood else None
        lat, lon = point or (
            city.center[0] + rng.uniform(-0.01, 0.01),
            city.center[1] + rng.uniform(-0.01, 0.01),
        )
        sensor, _ = register_sensor(
            city=city,
            owner=users.get(who),
            name=f"{users[who].public_name if who in users else who}'s {model}",
            model=model,
            lat=lat,
            lon=lon,
            height_m=round(rng.uniform(1.5, 6.0), 1),
            firmware_id=f"esp8266-demo-{city.slug}-{i + 1}",
            interval_s=CITIZEN_STEP_S,
        )
        _fill(sensor, quantities, CITIZEN_STEP_S, level, gen)
    lat, lon = city.center
    station, _ = register_sensor(
        city=city,
        owner=users.get("admin"),
        name=f"{city.name} urban background station",
        model="reference",
        lat=lat,
        lon=lon,
        height_m=3.0,
        is_home_hosted=False,
        is_reference=True,
        firmware_id=f"station-demo-{city.slug}",
        interval_s=3600,
    )
    _fill(station, ("pm25", "pm10", "no2", "o3"), 3600, 8.0, gen)
    subscribe_demo_alert(city=city, users=users)


def subscribe_demo_alert(*, city: City, users: dict[str, User]) -> None:
    """A resident follows the neighbourhood where the PM episode is worst, from DEMO_ALERT_BAND (or that
    neighbourhood's band if lower: the demo's concentrations follow the time of day of the load), so an alert
    episode is open whenever the demo is loaded."""
    from smartip.sensing.alerts import refresh_and_alert, subscribe

    user = users.get("citizen")
    ranked = sorted(
        (
            (index.band, hood.pk, hood)
            for hood, index in aggregates.neighbourhood_indices(city).items()
            if index
        ),
        key=lambda t: (-t[0], t[1]),
    )
    if user is None or not ranked:
        return
    band, _, hood = ranked[0]
    subscribe(user=user, city=city, threshold_band=min(DEMO_ALERT_BAND, band), neighbourhood=hood)
    refresh_and_alert(city=city)
