"""PCHIP and the Bjontegaard deltas."""
import math

import numpy as np
import pytest

from rdreport.bd import Pchip, bd_quality, bd_rate, pchip_slopes

# A typical RD curve: bpp and PSNR (dB), not sorted, as points come in.
RATES = [0.12, 0.25, 0.5, 0.9, 1.5, 2.2]
PSNRS = [26.1, 28.4, 30.9, 33.2, 35.8, 38.0]


def test_identical_curves_give_zero():
    result = bd_rate(RATES, PSNRS, RATES, PSNRS)
    assert result["reason"] is None
    assert abs(result["value"]) < 1e-12
    assert abs(bd_quality(RATES, PSNRS, RATES, PSNRS)["value"]) < 1e-12


def test_rates_times_0_8_give_minus_20_percent():
    test_rates = [0.8 * rate for rate in RATES]
    assert bd_rate(RATES, PSNRS, test_rates, PSNRS)["value"] == pytest.approx(-20.0, abs=1e-9)
    # and the anchor against the test is +25 %
    assert bd_rate(test_rates, PSNRS, RATES, PSNRS)["value"] == pytest.approx(25.0, abs=1e-9)


def test_order_of_points_does_not_matter():
    order = [3, 0, 5, 1, 4, 2]
    shuffled = bd_rate([RATES[i] for i in order], [PSNRS[i] for i in order],
                       [0.9 * RATES[i] for i in order], [PSNRS[i] for i in order])
    assert shuffled["value"] == pytest.approx(-10.0, abs=1e-9)


def test_shifted_psnr_gives_known_bd_psnr_and_bd_rate():
    # PSNR linear in log10(rate): PSNR = 30 + 10 * log10(rate). Shifting the test
    # curve up by 0.5 dB gives BD-PSNR 0.5 dB exactly, and at equal PSNR the
    # test needs log10(rate) 0.05 lower: BD-rate = 10^-0.05 - 1.
    rates = [0.1, 0.2, 0.4, 0.8, 1.6]
    anchor = [30 + 10 * math.log10(rate) for rate in rates]
    test = [quality + 0.5 for quality in anchor]
    bd_psnr = bd_quality(rates, anchor, rates, test)
    assert bd_psnr["value"] == pytest.approx(0.5, abs=1e-12)
    assert bd_psnr["interval"] == pytest.approx([0.1, 1.6])
    assert bd_rate(rates, anchor, rates, test)["value"] == pytest.approx((10 ** -0.05 - 1) * 100, abs=1e-9)


def test_non_overlapping_curves_give_null_with_a_reason():
    low = bd_rate([0.1, 0.2, 0.3], [20.0, 22.0, 24.0], [1.0, 2.0, 3.0], [30.0, 32.0, 34.0])
    assert low["value"] is None
    assert "do not overlap" in low["reason"]
    rate_gap = bd_quality([0.1, 0.2, 0.3], [20.0, 22.0, 24.0], [1.0, 2.0, 3.0], [20.0, 22.0, 24.0])
    assert rate_gap["value"] is None and "do not overlap" in rate_gap["reason"]


def test_a_single_point_gives_null_with_a_reason():
    result = bd_rate(RATES, PSNRS, [0.5], [31.0])
    assert result["value"] is None
    assert result["reason"] == "test needs at least 2 rate points, has 1"


def test_pchip_reproduces_linear_data_exactly():
    x = [0.0, 1.0, 3.0, 4.0]
    y = [1.0, 3.0, 7.0, 9.0]          # y = 2x + 1
    interpolant = Pchip(x, y)
    points = np.linspace(0, 4, 41)
    assert np.allclose(interpolant(points), 2 * points + 1, atol=1e-12)
    assert np.allclose(pchip_slopes(np.array(x), np.array(y)), 2.0)
    assert interpolant.integral(0.5, 3.5) == pytest.approx((3.5 ** 2 + 3.5) - (0.5 ** 2 + 0.5), abs=1e-12)


def test_pchip_known_values_by_hand():
    # x = 0, 1, 2; y = 0, 1, 4. Secants 1 and 3 (same sign): interior slope is
    # the weighted harmonic mean with h = 1: (3 + 3) / (3/1 + 3/3) = 1.5.
    # End slopes (three-point): (3*1 - 3)/2 = 0 at x=0, (3*3 - 1)/2 = 4 at x=2.
    interpolant = Pchip([0, 1, 2], [0, 1, 4])
    assert interpolant.d.tolist() == pytest.approx([0.0, 1.5, 4.0])
    # Hermite cubic on [0, 1] with y 0 -> 1, slopes 0 -> 1.5, at t = 0.5:
    # h01 = 0.5, h11 = -0.125: 0.5 * 1 - 0.125 * 1.5 = 0.3125.
    assert float(interpolant(0.5)) == pytest.approx(0.3125, abs=1e-15)
    # Integral over [0, 1]: (y0 + y1)/2 + (d0 - d1)/12 = 0.5 - 0.125.
    assert interpolant.integral(0, 1) == pytest.approx(0.375, abs=1e-15)
    # It passes through the data.
    assert interpolant([0, 1, 2]).tolist() == pytest.approx([0, 1, 4], abs=1e-15)


def test_pchip_flat_at_a_local_extremum():
    interpolant = Pchip([0, 1, 2], [0, 1, 0])
    assert interpolant.d[1] == 0.0


def test_monotone_data_give_a_monotone_interpolant():
    # Steps that overshoot with an ordinary cubic spline.
    x = np.array([0, 1, 2, 3, 4, 5, 6, 7.5, 9])
    y = np.array([0, 0.1, 0.2, 5, 5.1, 5.2, 9, 9.05, 9.1])
    values = Pchip(x, y)(np.linspace(0, 9, 2001))
    assert np.all(np.diff(values) >= -1e-12)
    assert values.min() >= -1e-12 and values.max() <= 9.1 + 1e-12


def test_integral_matches_fine_numerical_integration():
    interpolant = Pchip(sorted(PSNRS), np.log10(sorted(RATES)))
    lo, hi = 27.0, 37.3
    grid = np.linspace(lo, hi, 200001)
    values = interpolant(grid)
    trapezoid = float(np.sum((values[1:] + values[:-1]) / 2 * np.diff(grid)))
    assert interpolant.integral(lo, hi) == pytest.approx(trapezoid, abs=1e-8)


def test_pchip_refuses_unsorted_or_short_input():
    with pytest.raises(ValueError):
        Pchip([0, 2, 1], [0, 1, 2])
    with pytest.raises(ValueError):
        Pchip([0], [1])
