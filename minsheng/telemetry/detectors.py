"""Statistical detectors for suspect sensors. Pure: series in, verdicts out.

Legal limits raise alarms (rules.py); these flag a sensor whose data cannot be trusted, each with
an alarm type of its own (a warning for the person responsible to check the device):

- stuck: the same value over a window (zero variance) although the quantity always varies;
- spike: a value far from the window's median in robust units (modified z-score with the median
  absolute deviation, Iglewicz and Hoaglin), so one spike cannot hide itself by inflating a
  standard deviation;
- drift: a sensor whose difference from its reference (a paired sensor, or the median of its
  neighbours of the same kind and metric) moves steadily: the least-squares slope of that difference
  over the window, times the window, exceeds the metric's tolerance and stands out of the noise.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

STUCK = "suspect_stuck"
SPIKE = "suspect_spike"
DRIFT = "suspect_drift"
TYPES = (STUCK, SPIKE, DRIFT)

# Quantities that are never exactly constant while a sensor works. Flow, counters and load are
# legitimately flat (no water drawn at night, an idle crane) and are left out.
STUCK_METRICS = frozenset({"laeq", "lmax", "pm10", "pm25", "turbidity", "chlorine", "wind_speed"})
STUCK_MIN_READINGS = 10
SPIKE_Z = 8.0  # modified z-score; 3.5 is the textbook outlier mark, sensors need a wider one
SPIKE_MIN_POINTS = 12
# Largest tolerated steady change of a sensor against its reference over the drift window.
DRIFT_TOLERANCE = {"laeq": 5.0, "lmax": 8.0, "pm10": 30.0, "pm25": 20.0, "turbidity": 0.5, "chlorine": 0.2}
DRIFT_MIN_POINTS = 24  # hours


@dataclass(frozen=True)
class Verdict:
    suspect: bool
    value: float | None = None  # the stuck value, the spike, the drift over the window
    score: float | None = None  # the spike's z, the drift's signal-to-noise


def stuck(values: list[float], *, min_readings: int = STUCK_MIN_READINGS) -> Verdict:
    """`values`: the window's readings (or minute minima and maxima). Suspect when there are enough
    and all are identical."""
    if len(values) < min_readings:
        return Verdict(False)
    first = values[0]
    return Verdict(all(v == first for v in values), first)


def robust_z(value: float, sample: list[float]) -> float | None:
    """Modified z-score of `value` against `sample`; None when the sample has no spread (MAD 0)."""
    med = statistics.median(sample)
    mad = statistics.median(abs(v - med) for v in sample)
    if mad == 0:
        return None
    return 0.6745 * (value - med) / mad


def spike(points: list[float], candidates: list[float], *, threshold: float = SPIKE_Z,
          min_points: int = SPIKE_MIN_POINTS) -> Verdict:
    """`points`: the window's typical values (minute means); `candidates`: the extremes to judge
    (minute maxima and minima). Suspect when a candidate's robust z exceeds the threshold."""
    if len(points) < min_points:
        return Verdict(False)
    worst: tuple[float, float] | None = None
    for c in candidates:
        z = robust_z(c, points)
        if z is not None and (worst is None or abs(z) > abs(worst[1])):
            worst = (c, z)
    if worst is None:
        return Verdict(False)
    return Verdict(abs(worst[1]) > threshold, worst[0], round(worst[1], 2))


def slope(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares slope of ys on xs and the residual standard deviation."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0, 0.0
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    a = my - b * mx
    resid = [y - (a + b * x) for x, y in zip(xs, ys, strict=True)]
    sd = (sum(r * r for r in resid) / max(n - 2, 1)) ** 0.5
    return b, sd


def drift(series: dict[int, float], reference: dict[int, float], *, tolerance: float,
          min_points: int = DRIFT_MIN_POINTS) -> Verdict:
    """`series` and `reference`: hour index → hourly mean. The difference's trend over the common
    hours: suspect when the change it implies over the window exceeds `tolerance` and is at least
    three times the scatter around the trend."""
    hours = sorted(set(series) & set(reference))
    if len(hours) < min_points:
        return Verdict(False)
    diffs = [series[h] - reference[h] for h in hours]
    b, sd = slope([float(h) for h in hours], diffs)
    change = b * (hours[-1] - hours[0])
    noise = sd if sd > 0 else 1e-9
    snr = abs(change) / noise
    return Verdict(abs(change) > tolerance and snr >= 3, round(change, 3), round(snr, 1))


def median_reference(neighbours: list[dict[int, float]]) -> dict[int, float]:
    """Hour → the median of the neighbours' hourly means (hours at least two neighbours share)."""
    hours: dict[int, list[float]] = {}
    for series in neighbours:
        for h, v in series.items():
            hours.setdefault(h, []).append(v)
    return {h: statistics.median(vs) for h, vs in hours.items() if len(vs) >= 2}
