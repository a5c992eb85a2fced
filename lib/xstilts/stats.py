"""Bootstrap confidence intervals, paired randomisation tests and careful wording.

Everything here works on plain numpy arrays of *paired differences* (treatment minus
baseline, one value per matched unit), so it has no pandas dependency and can be reused
by any table of the analysis phase.

The scale study uses the seed-level functions (:func:`seed_means`, :func:`seed_inference`,
:func:`describe_seed_result`): the seed is the unit of replication, the languages of one
run are repeated measures averaged inside the run. The bootstrap and sign-flip functions
remain for descriptive use and for tables with many independent units.

Conventions:

- Intervals are percentile bootstrap intervals of the mean; ``seed`` fixes the resampling
  stream, so every number in the paper is reproducible bit for bit.
- Missing cells are ``NaN`` and are skipped, never imputed.
- A difference is only called significant when the interval excludes zero *and* the
  p-value (when one is given) is below ``alpha``; wording never claims more than that.

Example:
    >>> mean, lo, hi = paired_bootstrap_ci([2.0, 3.0, 4.0], n_boot=2000)
    >>> describe_difference(mean, lo, hi, sign_flip_test([2.0, 3.0, 4.0]))
    'no significant difference (mean +3.0 points, 95% CI [+2.0, +4.0], p = 0.250; the interval excludes 0 but the test does not reject)'

    Three units can never reach p < 0.05 in an exact sign-flip test (the smallest
    possible two-sided p is 2/8), so no direction is claimed.

"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Cap on the number of float64 elements one resampling block holds (~32 MB), so wide
# tables (40 languages x many seeds x 10k replicates) never exhaust memory.
_MAX_BLOCK_ELEMENTS = 4_000_000
# Exact sign-flip enumeration costs 2**n rows; 2**16 x 16 is still tiny.
_EXACT_MAX_N = 16


def _nanmean(a: np.ndarray, axis: int) -> np.ndarray:
    """Mean over ``axis`` ignoring NaN; all-NaN slices give NaN without a warning."""
    mask = ~np.isnan(a)
    total = np.where(mask, a, 0.0).sum(axis=axis)
    count = mask.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def _percentile_interval(replicates: np.ndarray, ci: float) -> tuple[float, float]:
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must lie in (0, 1), got {ci}")
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return math.nan, math.nan
    tail = (1.0 - ci) / 2.0
    lo, hi = np.quantile(finite, [tail, 1.0 - tail])
    return float(lo), float(hi)


def paired_bootstrap_ci(
    diffs: Sequence[float] | np.ndarray,
    n_boot: int = 10000,
    ci: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Percentile bootstrap interval for the mean of paired differences.

    Args:
        diffs: One difference per matched pair (e.g. per language). NaNs are dropped.
        n_boot: Number of bootstrap replicates.
        ci: Coverage of the interval, e.g. 0.95.
        seed: Seed of the resampling generator.

    Returns:
        ``(mean, lo, hi)``. With fewer than two observations the bounds are NaN: one
        value carries no information about its own variability.

    """
    d = np.asarray(diffs, dtype=float).ravel()
    d = d[~np.isnan(d)]
    if d.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(d.mean())
    if d.size < 2:
        return mean, math.nan, math.nan
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    block = max(1, _MAX_BLOCK_ELEMENTS // d.size)
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        reps[start : start + b] = d[rng.integers(0, d.size, size=(b, d.size))].mean(axis=1)
    lo, hi = _percentile_interval(reps, ci)
    return mean, lo, hi


def _clean_table(
    diff_table: np.ndarray, strata: Sequence | np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    table = np.asarray(diff_table, dtype=float)
    if table.ndim == 1:
        table = table[:, None]
    if table.ndim != 2:
        raise ValueError(f"diff_table must be 2-D [unit, seed], got shape {table.shape}")
    labels = np.zeros(table.shape[0], dtype=int) if strata is None else np.asarray(strata)
    if labels.shape != (table.shape[0],):
        raise ValueError(
            f"strata needs one label per row ({table.shape[0]}), got shape {labels.shape}"
        )
    # Units or seeds with no observation at all (a missing run) carry no information.
    keep_rows = ~np.all(np.isnan(table), axis=1)
    table, labels = table[keep_rows], labels[keep_rows]
    keep_cols = ~np.all(np.isnan(table), axis=0) if table.size else np.zeros(0, bool)
    return table[:, keep_cols], labels


def _point_estimate(table: np.ndarray, labels: np.ndarray) -> float:
    # Seeds are averaged within a unit, units within a stratum, then strata are weighted
    # equally, i.e. the XTREME convention "mean over languages, then over tasks".
    row_means = _nanmean(table, 1)
    stratum_means = np.array([_nanmean(row_means[labels == k], 0) for k in np.unique(labels)])
    return float(_nanmean(stratum_means, 0))


def hierarchical_bootstrap_distribution(
    diff_table: np.ndarray,
    n_boot: int = 10000,
    seed: int = 0,
    *,
    strata: Sequence | np.ndarray | None = None,
    crossed: bool = True,
) -> tuple[float, np.ndarray]:
    """Point estimate and bootstrap replicates of a two-level mean of differences.

    Each replicate resamples the rows (languages, or (task, language) units) with
    replacement, separately within each stratum, and resamples the seed columns with
    replacement. The statistic averages seeds within a unit, units within a stratum and
    then strata with equal weight.

    Args:
        diff_table: 2-D array ``[unit, seed]`` of paired differences; NaN = missing run.
            A 1-D array is treated as a single seed.
        n_boot: Number of replicates.
        seed: Seed of the resampling generator.
        strata: Optional label per row (e.g. the task of each (task, language) unit);
            rows are resampled within their stratum and strata get equal weight.
        crossed: If True (default), one seed resample per replicate is shared by all
            units. Seeds index *runs*, and one run is evaluated on every language, so a
            lucky seed lifts all languages at once; sharing keeps that correlation in
            the replicates. If False, seeds are resampled independently per resampled
            unit (a purely nested design), which is narrower when seed effects are
            shared across languages.

    Returns:
        ``(point, replicates)``; ``replicates`` has shape ``(n_boot,)`` and may hold NaN
        only when a replicate drew nothing but missing cells. Empty input gives
        ``(nan, empty array)``.

    """
    table, labels = _clean_table(diff_table, strata)
    if table.size == 0:
        return math.nan, np.empty(0)
    point = _point_estimate(table, labels)
    groups = [table[labels == k] for k in np.unique(labels)]
    n_seeds = table.shape[1]
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    block = max(1, _MAX_BLOCK_ELEMENTS // (table.shape[0] * n_seeds))
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        shared_seeds = rng.integers(0, n_seeds, size=(b, 1, n_seeds)) if crossed else None
        means = []
        for g in groups:
            rows = rng.integers(0, g.shape[0], size=(b, g.shape[0], 1))
            cols = (
                shared_seeds if crossed else rng.integers(0, n_seeds, size=(b, g.shape[0], n_seeds))
            )
            means.append(_nanmean(_nanmean(g[rows, cols], 2), 1))
        reps[start : start + b] = _nanmean(np.stack(means, axis=1), 1)
    return point, reps


def hierarchical_bootstrap_ci(
    diff_table: np.ndarray,
    n_boot: int = 10000,
    ci: float = 0.95,
    seed: int = 0,
    *,
    strata: Sequence | np.ndarray | None = None,
    crossed: bool = True,
) -> tuple[float, float, float]:
    """Percentile interval of a two-level (languages x seeds) mean of differences.

    See :func:`hierarchical_bootstrap_distribution` for the resampling scheme. With a
    single seed the scheme reduces to a bootstrap over languages (seed noise is then not
    represented in the interval); with a single language it reduces to one over seeds.

    Args:
        diff_table: 2-D array ``[language, seed]`` of paired differences (NaN = missing).
        n_boot: Number of replicates.
        ci: Coverage, e.g. 0.95.
        seed: Seed of the resampling generator.
        strata: Optional stratum label per row (see the distribution function).
        crossed: Share one seed resample across units (see the distribution function).

    Returns:
        ``(mean, lo, hi)``; bounds are NaN when fewer than two cells are observed.

    """
    point, reps = hierarchical_bootstrap_distribution(
        diff_table, n_boot, seed, strata=strata, crossed=crossed
    )
    n_obs = int(np.sum(~np.isnan(np.asarray(diff_table, dtype=float))))
    if n_obs < 2:
        return point, math.nan, math.nan
    lo, hi = _percentile_interval(reps, ci)
    return point, lo, hi


def sign_flip_test(
    diffs: Sequence[float] | np.ndarray,
    n_perm: int = 10000,
    seed: int = 0,
    *,
    weights: Sequence[float] | np.ndarray | None = None,
) -> float:
    """Two-sided paired randomisation (sign-flip) test of a zero mean difference.

    Under the null hypothesis each paired difference is symmetric around zero, so its
    sign is exchangeable. The statistic is ``|sum(w * d)|``; the p-value is the share
    of sign patterns whose statistic is at least the observed one. With n <= 16 all
    ``2**n`` patterns are enumerated (exact); otherwise ``n_perm`` random patterns are
    drawn and ``(1 + hits) / (1 + n_perm)`` is returned, which is never zero.

    Args:
        diffs: One difference per independent unit; NaNs are dropped.
        n_perm: Random sign patterns for n > 16.
        seed: Seed of the generator for the Monte Carlo case.
        weights: Optional non-negative weight per unit (e.g. ``1 / n_langs_of_task`` so
            that the tested statistic equals a task-balanced mean). Default: equal.

    Returns:
        The p-value, or NaN for empty input.

    """
    d = np.asarray(diffs, dtype=float).ravel()
    w = np.ones_like(d) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != d.shape:
        raise ValueError(f"weights shape {w.shape} does not match diffs shape {d.shape}")
    keep = ~np.isnan(d)
    wd = (w * d)[keep]
    n = wd.size
    if n == 0:
        return math.nan
    observed = abs(wd.sum())
    # Floating-point sums of the same multiset can differ in the last bits; a pattern
    # that ties with the observed statistic must count as "at least as extreme".
    tol = 1e-9 * max(1.0, float(np.abs(wd).sum()))
    if n <= _EXACT_MAX_N:
        bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
        stats = np.abs((1 - 2 * bits) @ wd)
        return float(np.mean(stats >= observed - tol))
    rng = np.random.default_rng(seed)
    hits = 0
    block = max(1, _MAX_BLOCK_ELEMENTS // n)
    for start in range(0, n_perm, block):
        b = min(block, n_perm - start)
        signs = rng.integers(0, 2, size=(b, n)) * 2 - 1
        hits += int(np.sum(np.abs(signs @ wd) >= observed - tol))
    return (1 + hits) / (1 + n_perm)


def wilcoxon_p(diffs: Sequence[float] | np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value (scipy), a rank-based secondary check.

    Args:
        diffs: Paired differences; NaNs are dropped.

    Returns:
        The p-value; 1.0 when every difference is zero, NaN for empty input.

    """
    from scipy.stats import wilcoxon

    d = np.asarray(diffs, dtype=float).ravel()
    d = d[~np.isnan(d)]
    if d.size == 0:
        return math.nan
    if np.all(d == 0):
        return 1.0
    return float(wilcoxon(d).pvalue)


def holm_bonferroni(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment for a family of p-values.

    Controls the family-wise error rate without assuming independence. NaN entries are
    left as NaN and do not count towards the family size.

    Args:
        pvalues: Raw p-values.

    Returns:
        Adjusted p-values, same shape as the input, capped at 1.

    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    flat, res = p.ravel(), out.reshape(-1)
    idx = np.flatnonzero(~np.isnan(flat))
    m = idx.size
    if m == 0:
        return out
    order = idx[np.argsort(flat[idx], kind="stable")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * flat[order])
    res[order] = np.minimum(adjusted, 1.0)
    return out


def _num(x: float, digits: int, signed: bool = False) -> str:
    text = f"{x:{'+' if signed else ''}.{digits}f}"
    # A value that rounds to zero must not print as "-0.0", which reads as a direction.
    return f"{0.0:.{digits}f}" if float(text) == 0 else text


def _format_p(p: float, label: str) -> str:
    return f"{label} < 0.001" if p < 0.001 else f"{label} = {p:.3f}"


def describe_difference(
    mean: float,
    lo: float,
    hi: float,
    p: float | None = None,
    unit: str = "points",
    alpha: float = 0.05,
    *,
    ci: float = 0.95,
    digits: int = 1,
    positive: str = "multilingual is ahead by",
    negative: str = "English-only is ahead by",
    null: str = "no significant difference",
    estimate_name: str = "mean",
    p_label: str = "p",
    suggestive_below: float = 0.1,
) -> str:
    """Word a difference so that the sentence never claims more than the numbers.

    Rules: a direction is stated only when the interval excludes zero and ``p < alpha``
    (``p`` may be omitted, then the interval alone decides). If ``alpha <= p <
    suggestive_below`` the result is called suggestive and explicitly not significant.
    Otherwise the null wording is used with the estimate and interval, and a note is
    added when the interval and the test disagree.

    Args:
        mean: Point estimate of the difference (treatment minus baseline).
        lo: Lower interval bound.
        hi: Upper interval bound.
        p: Two-sided p-value, or None.
        unit: Unit after the numbers, e.g. ``"points"``.
        alpha: Significance level.
        ci: Interval coverage, used for the label ("95% CI").
        digits: Decimals of the estimate and bounds.
        positive: Phrase for a significant positive difference; the magnitude follows.
        negative: Phrase for a significant negative difference; the magnitude follows
            (the estimate and interval in parentheses stay signed).
        null: Phrase when no direction can be claimed.
        estimate_name: Name of the estimate inside the parentheses (``mean``, ``slope``).
        p_label: Name of the p-value (e.g. ``"Holm-adjusted p"``).
        suggestive_below: Upper p bound of the "suggestive" band.

    Returns:
        One sentence fragment, e.g. ``"multilingual is ahead by 2.3 points (mean +2.3,
        95% CI [+0.8, +3.9], p = 0.004)"``.

    """
    if mean is None or not np.isfinite(mean):
        return "no estimate (no paired observations)"
    label = f"{ci * 100:g}% CI"
    has_p = p is not None and np.isfinite(p)
    p_part = f", {_format_p(p, p_label)}" if has_p else ""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return (
            f"{null} can be claimed ({estimate_name} {_num(mean, digits, True)} {unit} "
            f"from a single observation, no interval)"
        )
    excludes_zero = lo > 0 or hi < 0
    if excludes_zero and (not has_p or p < alpha):
        phrase = positive if lo > 0 else negative
        # The words carry the direction and size; the parentheses keep the signed estimate
        # and interval, so they read the same as the table cell beside the sentence.
        signed = (_num(v, digits, True) for v in (mean, lo, hi))
        est, a, b = signed
        size = _num(abs(mean), digits)
        return f"{phrase} {size} {unit} ({estimate_name} {est}, {label} [{a}, {b}]{p_part})"
    numbers = (
        f"{estimate_name} {_num(mean, digits, True)} {unit}, "
        f"{label} [{_num(lo, digits, True)}, {_num(hi, digits, True)}]"
        f"{p_part}"
    )
    if has_p and alpha <= p < suggestive_below:
        return f"{null}, only a suggestive one at the {alpha:g} level ({numbers})"
    note = ""
    if excludes_zero and has_p:
        note = "; the interval excludes 0 but the test does not reject"
    elif not excludes_zero and has_p and p < alpha:
        note = "; the test rejects but the interval spans 0"
    return f"{null} ({numbers}{note})"


# --------------------------------------------------------------------------- seed level

MIN_SEEDS = 3  # fewer seeds: no direction and no significance is stated
NO_INFERENCE = "no inference"


def seed_means(diff_table: np.ndarray, strata: Sequence | np.ndarray | None = None) -> np.ndarray:
    """Per-seed run means of a ``[unit, seed]`` table of paired differences.

    Languages (and, with ``strata``, tasks with equal weight, as XTREME averages) are
    averaged *inside* each seed, so each seed contributes one number: the languages of
    one run are repeated measures of that run, not independent replicates.

    Args:
        diff_table: 2-D array ``[unit, seed]``; NaN = missing cell.
        strata: Optional task label per row.

    Returns:
        One value per seed column that has any observation.
    """
    table, labels = _clean_table(diff_table, strata)
    if table.size == 0:
        return np.empty(0)
    per_stratum = [_nanmean(table[labels == k], 0) for k in np.unique(labels)]
    return _nanmean(np.vstack(per_stratum), 0)


@dataclass(frozen=True)
class SeedResult:
    """Seed-level estimate, interval, test and decision of one cell of a table.

    Attributes:
        mean: Mean over seeds of the per-seed run means.
        lo: Lower bound of the simultaneous interval (NaN with < ``MIN_SEEDS`` seeds).
        hi: Upper bound.
        p: Two-sided one-sample t-test p-value over seeds (unadjusted).
        p_adj: Bonferroni-adjusted p (``min(1, family * p)``): the decision's p.
        n_seeds: Seeds the cell rests on.
        family: Number of cells the adjustment covers.
        ci_level: Coverage of the interval, ``1 - alpha / family``.
        decision: +1 significant increase, -1 significant decrease, 0 not significant,
            ``None`` no inference (too few seeds).
        spread_lo: Smallest per-language (seed-averaged) value, descriptive only.
        spread_hi: Largest per-language value, descriptive only.
    """

    mean: float
    lo: float
    hi: float
    p: float
    p_adj: float
    n_seeds: int
    family: int
    ci_level: float
    decision: int | None
    spread_lo: float = math.nan
    spread_hi: float = math.nan


def seed_inference(
    per_seed: Sequence[float] | np.ndarray,
    family: int = 1,
    alpha: float = 0.05,
    *,
    spread: tuple[float, float] = (math.nan, math.nan),
) -> SeedResult:
    """t-test and t-interval over seeds, Bonferroni-adjusted over a family of cells.

    Why a t-test over seeds: with 3 seeds an exact sign-flip test has only 8 sign
    patterns, so its smallest two-sided p is 0.25 and it can never reject; a bootstrap
    over 3 values is degenerate. The one-sample t-test on the per-seed run means is
    exact under normal seed noise and has power with 3 seeds (df = 2).

    Why Bonferroni, not Holm: the decision, the bold cells, the p column and the
    interval must agree. The interval shown has level ``1 - alpha / family`` and the
    adjusted p is ``min(1, family * p)``, so the interval excludes 0 exactly when the
    adjusted p is below ``alpha`` (the t-test and the t-interval are dual). Holm is
    uniformly more powerful but has no interval with that property.

    Args:
        per_seed: One value per seed (see :func:`seed_means`); NaNs are dropped.
        family: Number of cells tested together (family-wise error control).
        alpha: Family-wise significance level.
        spread: Descriptive (min, max) over languages, carried into the result.

    Returns:
        A :class:`SeedResult`; with fewer than ``MIN_SEEDS`` seeds only the mean and the
        spread are set and ``decision`` is ``None``.
    """
    from scipy import stats as sps

    v = np.asarray(per_seed, dtype=float).ravel()
    v = v[~np.isnan(v)]
    n, family = int(v.size), max(1, int(family))
    level = 1.0 - alpha / family
    mean = float(v.mean()) if n else math.nan
    if n < MIN_SEEDS:
        return SeedResult(mean, math.nan, math.nan, math.nan, math.nan, n, family, level, None,
                          *spread)  # fmt: skip
    sd = float(v.std(ddof=1))
    if sd == 0.0:
        # Identical seeds: the t statistic is infinite unless the mean is 0.
        p = 1.0 if mean == 0.0 else 0.0
        lo = hi = mean
    else:
        se = sd / math.sqrt(n)
        p = float(2 * sps.t.sf(abs(mean) / se, df=n - 1))
        half = float(sps.t.ppf(1 - (1 - level) / 2, df=n - 1)) * se
        lo, hi = mean - half, mean + half
    p_adj = min(1.0, family * p)
    decision = (1 if mean > 0 else -1) if p_adj < alpha else 0
    return SeedResult(mean, lo, hi, p, p_adj, n, family, level, decision, *spread)


def describe_seed_result(
    r: SeedResult,
    *,
    unit: str = "points",
    digits: int = 1,
    positive: str = "multilingual is ahead by",
    negative: str = "English-only is ahead by",
    null: str = "no significant difference",
    estimate_name: str = "mean",
    alpha: float = 0.05,
    described: str = "the spread over languages is shown for description only",
) -> str:
    """Word a :class:`SeedResult`; the sentence follows ``decision`` and nothing else.

    Args:
        r: The result.
        unit: Unit after the numbers.
        digits: Decimals.
        positive: Phrase for a significant positive value (magnitude follows).
        negative: Phrase for a significant negative value.
        null: Phrase when the test does not reject.
        estimate_name: Name of the estimate (``mean``, ``slope``).
        alpha: The family-wise level, named in the sentence.
        described: What the no-inference sentence says is shown for description.

    Returns:
        One sentence fragment. With too few seeds it states no direction.
    """
    if r.mean is None or not np.isfinite(r.mean):
        return "no estimate (no paired observations)"
    if r.decision is None:
        spread = ""
        if np.isfinite(r.spread_lo) and np.isfinite(r.spread_hi):
            spread = (
                f"; languages range {_num(r.spread_lo, digits, True)} to "
                f"{_num(r.spread_hi, digits, True)}"
            )
        seeds = f"{r.n_seeds} seed{'s' if r.n_seeds != 1 else ''}"
        return f"{seeds}: {NO_INFERENCE}; {described} ({estimate_name} {_num(r.mean, digits, True)} {unit}{spread})"
    label = f"{r.ci_level * 100:.4g}% CI"
    p_text = _format_p(r.p_adj, "Bonferroni-adjusted p" if r.family > 1 else "p")
    tail = f"{r.n_seeds} seeds, t-test over seeds"
    if r.decision != 0:
        phrase = positive if r.decision > 0 else negative
        size = _num(abs(r.mean), digits)
        # Size in words, signed estimate and interval in parentheses (as in the table cells).
        est, a, b = (_num(v, digits, True) for v in (r.mean, r.lo, r.hi))
        return (
            f"{phrase} {size} {unit} ({estimate_name} {est} {unit}, {label} [{a}, {b}], "
            f"{p_text}; {tail})"
        )
    return (
        f"{null} at the {alpha:g} level ({estimate_name} {_num(r.mean, digits, True)} {unit}, "
        f"{label} [{_num(r.lo, digits, True)}, {_num(r.hi, digits, True)}], {p_text}; {tail})"
    )
