"""Bjontegaard deltas with piecewise cubic Hermite interpolation (PCHIP).

BD-rate: log10(rate) is interpolated as a function of quality (PSNR or
MS-SSIM in dB) for the test and the anchor curve, both are integrated over
the quality interval they share, and BD-rate = 10^(mean difference) - 1,
in percent (negative: the test needs fewer bits for the same quality).
BD-PSNR: quality as a function of log10(rate), mean difference in dB over the
shared log-rate interval (positive: the test is better at the same rate).

The interpolant is PCHIP with Fritsch-Carlson slopes (weighted harmonic mean
of neighbouring secant slopes, zero at local extrema, shape-preserving
three-point end slopes), as in current BD tools; it is integrated exactly,
cubic piece by cubic piece.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np


class Pchip:
    """Monotone piecewise cubic Hermite interpolant through (x, y); x strictly increasing."""

    def __init__(self, x: Sequence[float], y: Sequence[float]):
        self.x = np.asarray(x, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        if self.x.ndim != 1 or self.x.shape != self.y.shape:
            raise ValueError("x and y must be 1-D and of the same length")
        if len(self.x) < 2:
            raise ValueError("PCHIP needs at least 2 points")
        if not np.all(np.diff(self.x) > 0):
            raise ValueError("x must be strictly increasing")
        self.d = pchip_slopes(self.x, self.y)

    def _piece(self, points: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.x, points, side="right") - 1
        return np.clip(index, 0, len(self.x) - 2)

    def __call__(self, points) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        k = self._piece(points)
        h = self.x[k + 1] - self.x[k]
        t = (points - self.x[k]) / h
        h00 = (1 + 2 * t) * (1 - t) ** 2
        h10 = t * (1 - t) ** 2
        h01 = t * t * (3 - 2 * t)
        h11 = t * t * (t - 1)
        return h00 * self.y[k] + h10 * h * self.d[k] + h01 * self.y[k + 1] + h11 * h * self.d[k + 1]

    def _antiderivative_in_piece(self, k: int, t: float) -> float:
        """Integral of piece k from its left end to local coordinate t (x units)."""
        h = self.x[k + 1] - self.x[k]
        a00 = t - t ** 3 + t ** 4 / 2
        a10 = t ** 2 / 2 - 2 * t ** 3 / 3 + t ** 4 / 4
        a01 = t ** 3 - t ** 4 / 2
        a11 = t ** 4 / 4 - t ** 3 / 3
        return h * (a00 * self.y[k] + a10 * h * self.d[k] + a01 * self.y[k + 1] + a11 * h * self.d[k + 1])

    def integral(self, a: float, b: float) -> float:
        """Exact integral over [a, b], a <= b, inside [x[0], x[-1]]."""
        if a > b:
            return -self.integral(b, a)
        lo, hi = self.x[0], self.x[-1]
        tolerance = 1e-12 * max(1.0, abs(lo), abs(hi))
        if a < lo - tolerance or b > hi + tolerance:
            raise ValueError(f"integration interval [{a}, {b}] outside the data [{lo}, {hi}]")
        a, b = max(a, lo), min(b, hi)
        total = 0.0
        for k in range(len(self.x) - 1):
            left, right = max(a, self.x[k]), min(b, self.x[k + 1])
            if right <= left:
                continue
            h = self.x[k + 1] - self.x[k]
            total += self._antiderivative_in_piece(k, (right - self.x[k]) / h)
            total -= self._antiderivative_in_piece(k, (left - self.x[k]) / h)
        return float(total)


def pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fritsch-Carlson derivatives at the data points."""
    h = np.diff(x)
    delta = np.diff(y) / h
    n = len(x)
    d = np.zeros(n)
    if n == 2:
        d[:] = delta[0]
        return d
    for k in range(1, n - 1):
        if delta[k - 1] == 0 or delta[k] == 0 or np.sign(delta[k - 1]) != np.sign(delta[k]):
            d[k] = 0.0
        else:
            w1 = 2 * h[k] + h[k - 1]
            w2 = h[k] + 2 * h[k - 1]
            d[k] = (w1 + w2) / (w1 / delta[k - 1] + w2 / delta[k])
    d[0] = _end_slope(h[0], h[1], delta[0], delta[1])
    d[-1] = _end_slope(h[-1], h[-2], delta[-1], delta[-2])
    return d


def _end_slope(h0: float, h1: float, delta0: float, delta1: float) -> float:
    """Three-point end slope, kept shape-preserving."""
    slope = ((2 * h0 + h1) * delta0 - h0 * delta1) / (h0 + h1)
    if np.sign(slope) != np.sign(delta0):
        return 0.0
    if np.sign(delta0) != np.sign(delta1) and abs(slope) > abs(3 * delta0):
        return 3 * delta0
    return float(slope)


def _curve(rates: Sequence[float], qualities: Sequence[float], by: str):
    """Sorted (x, y) arrays: by='quality' gives x=quality, y=log10(rate); by='rate' the reverse.
    Returns (x, y, reason) with reason set when the curve cannot be interpolated."""
    pairs = [(float(r), float(q)) for r, q in zip(rates, qualities)
             if r is not None and q is not None and math.isfinite(float(q))]
    if any(r <= 0 or not math.isfinite(r) for r, _ in pairs):
        return None, None, "rates must be positive and finite"
    if len(pairs) < 2:
        return None, None, f"needs at least 2 rate points, has {len(pairs)}"
    if by == "quality":
        xy = sorted((q, math.log10(r)) for r, q in pairs)
    else:
        xy = sorted((math.log10(r), q) for r, q in pairs)
    x = np.array([p[0] for p in xy])
    y = np.array([p[1] for p in xy])
    if not np.all(np.diff(x) > 0):
        axis = "quality" if by == "quality" else "rate"
        return None, None, f"two points share the same {axis}"
    return x, y, None


def _delta(test_x, test_y, anchor_x, anchor_y):
    """Mean of (test - anchor) interpolants over the shared x interval, and the interval."""
    lo = max(test_x[0], anchor_x[0])
    hi = min(test_x[-1], anchor_x[-1])
    if not hi > lo:
        return None, (float(lo), float(hi))
    test_area = Pchip(test_x, test_y).integral(lo, hi)
    anchor_area = Pchip(anchor_x, anchor_y).integral(lo, hi)
    return (test_area - anchor_area) / (hi - lo), (float(lo), float(hi))


def _compare(anchor_rates, anchor_qualities, test_rates, test_qualities, x_axis: str):
    """Both curves as `_curve` gives them for `x_axis` ("quality": BD-rate,
    "rate": BD-quality), and the mean difference over their shared interval:
    (value, interval, curves, reason) with value None and a reason on failure."""
    ax, ay, reason = _curve(anchor_rates, anchor_qualities, x_axis)
    if reason:
        return None, None, None, f"anchor {reason}"
    tx, ty, reason = _curve(test_rates, test_qualities, x_axis)
    if reason:
        return None, None, None, f"test {reason}"
    value, interval = _delta(tx, ty, ax, ay)
    return value, interval, (tx, ax), None


def bd_rate(anchor_rates, anchor_qualities, test_rates, test_qualities) -> dict:
    """BD-rate of test against anchor in percent, or None with a reason.
    Returns {'value': percent | None, 'interval': [lo, hi] | None, 'reason': str | None}."""
    mean_log_ratio, interval, curves, reason = _compare(anchor_rates, anchor_qualities, test_rates, test_qualities, "quality")
    if reason:
        return {"value": None, "interval": None, "reason": reason}
    if mean_log_ratio is None:
        tx, ax = curves
        return {"value": None, "interval": None,
                "reason": (f"quality ranges do not overlap (test {tx[0]:.3f}..{tx[-1]:.3f}, "
                           f"anchor {ax[0]:.3f}..{ax[-1]:.3f})")}
    return {"value": (10 ** mean_log_ratio - 1) * 100, "interval": list(interval), "reason": None}


def bd_quality(anchor_rates, anchor_qualities, test_rates, test_qualities) -> dict:
    """BD-PSNR (or BD of any quality in dB) of test against anchor: mean quality
    difference over the shared log10(rate) interval. The interval is in bpp."""
    mean_difference, interval, curves, reason = _compare(anchor_rates, anchor_qualities, test_rates, test_qualities, "rate")
    if reason:
        return {"value": None, "interval": None, "reason": reason}
    if mean_difference is None:
        tx, ax = curves
        return {"value": None, "interval": None,
                "reason": (f"rate ranges do not overlap (test {10 ** tx[0]:.4f}..{10 ** tx[-1]:.4f} bpp, "
                           f"anchor {10 ** ax[0]:.4f}..{10 ** ax[-1]:.4f} bpp)")}
    return {"value": mean_difference, "interval": [10 ** interval[0], 10 ** interval[1]], "reason": None}

