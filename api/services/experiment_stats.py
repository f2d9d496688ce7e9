"""The statistics an experiment report rests on, from statsmodels (no hand-written
formulas): Wilson intervals for rates, Newcombe intervals and a two-sample z-test for a
difference in rates, Welch's t for a difference in means, and the sample size that finds
the experiment's minimum detectable effect with 80% power."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
    test_proportions_2indep,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

ALPHA = 0.05
POWER = 0.8


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class Difference:
    """A variant minus the control: the estimate, its 95% interval and the p-value."""

    estimate: float
    low: float
    high: float
    p_value: float


def rate(successes: int, n: int, alpha: float = ALPHA) -> Interval | None:
    """The rate with its Wilson score interval; None without data."""
    if n <= 0:
        return None
    low, high = proportion_confint(successes, n, alpha=alpha, method="wilson")
    return Interval(successes / n, float(low), float(high))


def rate_difference(
    successes: int, n: int, control_successes: int, control_n: int, alpha: float = ALPHA
) -> Difference | None:
    """Variant rate minus control rate: Newcombe's interval, and the p-value of the score
    test of equal rates; None until both sides have two tickets."""
    if n < 2 or control_n < 2:
        return None
    low, high = confint_proportions_2indep(
        successes, n, control_successes, control_n, method="newcomb", compare="diff", alpha=alpha
    )
    test = test_proportions_2indep(
        successes, n, control_successes, control_n, method="score", compare="diff", correction=False
    )
    p_value = float(test.pvalue)
    return Difference(
        successes / n - control_successes / control_n,
        float(low),
        float(high),
        1.0 if math.isnan(p_value) else p_value,
    )


def mean(values: Sequence[float], alpha: float = ALPHA) -> Interval | None:
    """The mean with its t interval; None below two values."""
    if len(values) < 2:
        return None
    stats = DescrStatsW(list(values))
    low, high = stats.tconfint_mean(alpha=alpha)
    return Interval(float(stats.mean), float(low), float(high))


def mean_difference(
    values: Sequence[float], control: Sequence[float], alpha: float = ALPHA
) -> Difference | None:
    """Variant mean minus control mean (Welch: unequal variances)."""
    if len(values) < 2 or len(control) < 2:
        return None
    compared = CompareMeans(DescrStatsW(list(values)), DescrStatsW(list(control)))
    _, p_value, _ = compared.ttest_ind(usevar="unequal")
    low, high = compared.tconfint_diff(alpha=alpha, usevar="unequal")
    estimate = float(sum(values) / len(values) - sum(control) / len(control))
    p = float(p_value)
    if math.isnan(p):  # no variance on either side: equal means are all it can say
        p = 1.0 if estimate == 0 else 0.0
    return Difference(estimate, float(low), float(high), p)


def sample_size_for_rates(
    control_rate: float | None, effect: float, alpha: float = ALPHA, power: float = POWER
) -> int:
    """Tickets per variant to detect an absolute change of `effect` in a rate around the
    control's (0.5, the most demanding, until the control has data)."""
    base = 0.5 if control_rate is None else min(max(control_rate, 0.01), 0.99)
    target = base + effect if base + effect <= 0.99 else base - effect
    size = proportion_effectsize(min(max(target, 0.01), 0.99), base)
    n = NormalIndPower().solve_power(
        effect_size=abs(size), alpha=alpha, power=power, ratio=1.0, alternative="two-sided"
    )
    return math.ceil(float(n))


def sample_size_for_means(
    spread: float | None, effect: float, alpha: float = ALPHA, power: float = POWER
) -> int:
    """Tickets with a rating per variant to detect a change of `effect` in a mean whose
    standard deviation is `spread` (1 point on a 1–5 scale until there is data)."""
    sd = spread if spread and spread > 0 else 1.0
    n = TTestIndPower().solve_power(
        effect_size=effect / sd, alpha=alpha, power=power, ratio=1.0, alternative="two-sided"
    )
    return math.ceil(float(n))


def standard_deviation(values: Sequence[float]) -> float | None:
    if len(values) < 2:
        return None
    return float(DescrStatsW(list(values), ddof=1).std)
