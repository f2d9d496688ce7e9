"""The report's statistics agree with an independent computation of the same quantity
(scipy), and with textbook values where one exists."""

from __future__ import annotations

import math

import pytest
from scipy import stats as scipy_stats

from api.services import experiment_stats as stats


@pytest.mark.parametrize(("k", "n"), [(0, 10), (7, 10), (40, 100), (133, 400), (400, 400)])
def test_wilson_interval_matches_scipy(k: int, n: int) -> None:
    found = stats.rate(k, n)
    assert found is not None
    expected = scipy_stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert found.estimate == pytest.approx(k / n)
    assert found.low == pytest.approx(expected.low, abs=1e-9)
    assert found.high == pytest.approx(expected.high, abs=1e-9)


@pytest.mark.parametrize(("k1", "n1", "k0", "n0"), [(60, 100, 40, 100), (21, 50, 20, 50)])
def test_rate_difference_p_value_is_pearsons_chi_square(k1: int, n1: int, k0: int, n0: int) -> None:
    """The score test of two rates is Pearson's chi-square on the 2×2 table."""
    found = stats.rate_difference(k1, n1, k0, n0)
    assert found is not None
    table = [[k1, n1 - k1], [k0, n0 - k0]]
    expected = scipy_stats.chi2_contingency(table, correction=False).pvalue
    assert found.p_value == pytest.approx(expected, rel=1e-6)
    assert found.estimate == pytest.approx(k1 / n1 - k0 / n0)
    assert found.low < found.estimate < found.high


def test_mean_difference_is_welchs_t() -> None:
    variant = [5.0, 4.0, 4.0, 5.0, 3.0, 5.0, 4.0]
    control = [3.0, 4.0, 2.0, 3.0, 4.0, 3.0]
    found = stats.mean_difference(variant, control)
    assert found is not None
    expected = scipy_stats.ttest_ind(variant, control, equal_var=False)
    assert found.p_value == pytest.approx(expected.pvalue, rel=1e-6)
    interval = expected.confidence_interval(0.95)
    assert (found.low, found.high) == pytest.approx((interval.low, interval.high), rel=1e-6)


def test_mean_interval_is_the_t_interval() -> None:
    values = [4.0, 5.0, 3.0, 4.0, 5.0, 2.0]
    found = stats.mean(values)
    assert found is not None
    sem = scipy_stats.sem(values)
    low, high = scipy_stats.t.interval(0.95, len(values) - 1, loc=sum(values) / 6, scale=sem)
    assert (found.low, found.high) == pytest.approx((low, high))


def test_sample_size_for_rates_matches_the_normal_approximation() -> None:
    """Cohen's h for 40% → 55%, two-sided 5%, power 80%: n = ((z_a/2 + z_b) / h)² · 2."""
    h = 2 * math.asin(math.sqrt(0.55)) - 2 * math.asin(math.sqrt(0.40))
    z = scipy_stats.norm.ppf(0.975) + scipy_stats.norm.ppf(0.80)
    expected = math.ceil(2 * (z / h) ** 2)
    assert abs(stats.sample_size_for_rates(0.40, 0.15) - expected) <= 1
    # A smaller effect needs more tickets; no data yet assumes the most demanding 50%.
    assert stats.sample_size_for_rates(0.40, 0.05) > stats.sample_size_for_rates(0.40, 0.15)
    assert stats.sample_size_for_rates(None, 0.1) >= stats.sample_size_for_rates(0.1, 0.1)


def test_no_data_gives_no_estimate() -> None:
    assert stats.rate(0, 0) is None
    assert stats.rate_difference(1, 1, 0, 5) is None
    assert stats.mean([4.0]) is None
    assert stats.mean_difference([4.0, 5.0], [3.0]) is None
