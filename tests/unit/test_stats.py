"""Known-answer tests for xstilts.stats (bootstrap intervals, sign-flip test, wording)."""

import math

import numpy as np
import pytest

from xstilts.stats import (
    describe_difference,
    hierarchical_bootstrap_ci,
    hierarchical_bootstrap_distribution,
    holm_bonferroni,
    paired_bootstrap_ci,
    sign_flip_test,
    wilcoxon_p,
)

N_BOOT = 2000


# --- paired bootstrap ---------------------------------------------------------------


def test_paired_bootstrap_constant_diffs_collapse_to_the_constant():
    assert paired_bootstrap_ci([1.5] * 10, n_boot=N_BOOT) == (1.5, 1.5, 1.5)


def test_paired_bootstrap_single_value_has_no_interval():
    mean, lo, hi = paired_bootstrap_ci([2.0, math.nan], n_boot=N_BOOT)
    assert mean == 2.0 and math.isnan(lo) and math.isnan(hi)


def test_paired_bootstrap_empty_input_is_nan():
    assert all(math.isnan(v) for v in paired_bootstrap_ci([], n_boot=N_BOOT))


def test_paired_bootstrap_is_deterministic_and_close_to_normal_theory():
    d = np.random.default_rng(1).normal(1.0, 2.0, 60)
    first = paired_bootstrap_ci(d, n_boot=N_BOOT, seed=3)
    assert first == paired_bootstrap_ci(d, n_boot=N_BOOT, seed=3)
    mean, lo, hi = first
    assert mean == pytest.approx(d.mean())
    assert lo < mean < hi
    # Percentile width vs 2 * 1.96 * s / sqrt(n) (bootstrap uses the biased sd).
    expected = 2 * 1.96 * d.std(ddof=0) / math.sqrt(d.size)
    assert hi - lo == pytest.approx(expected, rel=0.15)


# --- hierarchical bootstrap ---------------------------------------------------------


def test_hierarchical_constant_table_collapses():
    out = hierarchical_bootstrap_ci(np.full((5, 3), -0.7), n_boot=N_BOOT)
    assert out == pytest.approx((-0.7, -0.7, -0.7), abs=1e-12)


def test_hierarchical_single_seed_and_1d_input_work():
    langs = np.array([1.0, 2.0, 4.0, 3.0, 0.5])
    as_column = hierarchical_bootstrap_ci(langs[:, None], n_boot=N_BOOT)
    as_vector = hierarchical_bootstrap_ci(langs, n_boot=N_BOOT)
    assert as_column == as_vector
    mean, lo, hi = as_column
    assert mean == pytest.approx(langs.mean())
    assert langs.min() <= lo < mean < hi <= langs.max()


def test_hierarchical_single_cell_has_no_interval():
    mean, lo, hi = hierarchical_bootstrap_ci([[4.0, math.nan]], n_boot=N_BOOT)
    assert mean == 4.0 and math.isnan(lo) and math.isnan(hi)


def test_hierarchical_point_estimate_averages_seeds_then_languages_and_skips_nan():
    table = np.array([[1.0, 3.0], [10.0, math.nan], [math.nan, math.nan]])
    mean, _, _ = hierarchical_bootstrap_ci(table, n_boot=N_BOOT)
    assert mean == pytest.approx((2.0 + 10.0) / 2)


def test_hierarchical_strata_weight_tasks_equally():
    table = np.array([[1.0], [1.0], [1.0], [1.0], [3.0]])
    point, reps = hierarchical_bootstrap_distribution(table, N_BOOT, strata=list("AAAAB"))
    assert point == pytest.approx(2.0)  # not the pooled 1.4
    # Within each stratum every unit is identical, so every replicate equals the point.
    assert np.allclose(reps, 2.0)


def test_crossed_seed_resampling_keeps_shared_seed_effects():
    rng = np.random.default_rng(0)
    lang_effect = rng.normal(0, 0.2, (12, 1))
    seed_effect = np.array([[-2.0, 0.0, 2.0]])  # a lucky run lifts every language
    table = 1.0 + lang_effect + seed_effect
    _, lo_c, hi_c = hierarchical_bootstrap_ci(table, n_boot=N_BOOT, crossed=True)
    _, lo_n, hi_n = hierarchical_bootstrap_ci(table, n_boot=N_BOOT, crossed=False)
    assert hi_c - lo_c > 2 * (hi_n - lo_n)


def test_hierarchical_rejects_3d_and_bad_strata():
    with pytest.raises(ValueError, match="2-D"):
        hierarchical_bootstrap_ci(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="one label per row"):
        hierarchical_bootstrap_ci(np.zeros((3, 2)), strata=["a", "b"])


# --- sign-flip test -----------------------------------------------------------------


def test_sign_flip_exact_by_hand():
    # 8 sign patterns of [1, 2, 3]; only +++ and --- reach |sum| = 6.
    assert sign_flip_test([1.0, 2.0, 3.0]) == 0.25
    # [1, -1]: |sum| = 0 and every pattern is at least as extreme.
    assert sign_flip_test([1.0, -1.0]) == 1.0
    assert sign_flip_test([0.0, 0.0, 0.0]) == 1.0
    assert math.isnan(sign_flip_test([]))


def test_sign_flip_exact_with_weights_by_hand():
    # d = [1, 1], w = [1, 3]: patterns give |4|, |-2|, |2|, |-4|; observed 4 -> 2/4.
    assert sign_flip_test([1.0, 1.0], weights=[1.0, 3.0]) == 0.5
    # d = [1, -1], w = [1, 3]: observed |1 - 3| = 2 is the smallest value -> p = 1.
    assert sign_flip_test([1.0, -1.0], weights=[1.0, 3.0]) == 1.0


def test_sign_flip_ties_are_counted_despite_float_rounding():
    d = [0.1, 0.2, 0.3, -0.6]  # sum is 0 up to rounding; every pattern is as extreme
    assert sign_flip_test(d) == 1.0


def test_sign_flip_monte_carlo_for_large_n():
    p = sign_flip_test(np.ones(20), n_perm=2000)
    # Only 2 of 2**20 patterns are as extreme; the (1 + hits) / (1 + n) rule is never 0.
    assert 0 < p <= 3 / 2001
    noise = np.random.default_rng(2).normal(0, 1, 40)
    assert sign_flip_test(noise, n_perm=2000) > 0.05
    assert sign_flip_test(noise, n_perm=2000, seed=5) == sign_flip_test(noise, 2000, 5)


def test_wilcoxon_secondary():
    assert wilcoxon_p([0.0, 0.0]) == 1.0
    assert wilcoxon_p(np.arange(1.0, 11.0)) < 0.01
    assert math.isnan(wilcoxon_p([]))


# --- Holm ---------------------------------------------------------------------------


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 -> 0.03, 0.06, 0.04 -> running max 0.03, 0.06, 0.06
    assert np.allclose(holm_bonferroni([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    out = holm_bonferroni([0.01, math.nan, 0.04])
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1]) and out[2] == pytest.approx(0.04)
    assert np.allclose(holm_bonferroni([0.6, 0.7]), [1.0, 1.0])


# --- wording ------------------------------------------------------------------------


def test_wording_no_difference_when_interval_spans_zero():
    assert (
        describe_difference(0.4, -1.2, 2.0)
        == "no significant difference (mean +0.4 points, 95% CI [-1.2, +2.0])"
    )


def test_wording_directional_only_when_significant():
    assert (
        describe_difference(2.3, 0.8, 3.9, 0.004)
        == "multilingual is ahead by 2.3 points (mean +2.3, 95% CI [+0.8, +3.9], p = 0.004)"
    )
    assert (
        describe_difference(-2.3, -3.9, -0.8, 0.0004)
        # The size is in words; the estimate and interval stay signed, as in the tables.
        == "English-only is ahead by 2.3 points (mean -2.3, 95% CI [-3.9, -0.8], p < 0.001)"
    )


def test_wording_suggestive_band_says_not_significant():
    text = describe_difference(1.1, -0.2, 2.4, 0.07)
    assert text.startswith("no significant difference, only a suggestive one")
    assert "p = 0.070" in text
    assert "suggestive" not in describe_difference(1.1, -0.2, 2.4, 0.12)
    assert "suggestive" not in describe_difference(1.1, -0.2, 2.4, 0.04)


def test_wording_flags_disagreement_between_interval_and_test():
    assert "does not reject" in describe_difference(1.3, 0.2, 2.0, 0.25)
    assert "interval spans 0" in describe_difference(1.3, -0.2, 2.0, 0.03)
    assert describe_difference(1.3, 0.2, 2.0, 0.25).startswith("no significant difference")


def test_wording_edge_cases():
    assert describe_difference(math.nan, math.nan, math.nan, None).startswith("no estimate")
    assert "single observation" in describe_difference(1.0, math.nan, math.nan, None)
    assert "mean 0.0 points" in describe_difference(-0.04, -1.0, 1.0)  # never "-0.0"
    custom = describe_difference(
        1.2, 0.5, 2.0, 0.01, unit="points per 10x parameters", positive="grows by"
    )
    assert custom == (
        "grows by 1.2 points per 10x parameters (mean +1.2, 95% CI [+0.5, +2.0], p = 0.010)"
    )


# --------------------------------------------------------------------------- seed level


def test_seed_means_average_languages_inside_each_seed_and_tasks_equally():
    from xstilts.stats import seed_means

    table = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, np.nan]])  # rows: de, fr (xnli), de (pawsx)
    got = seed_means(table, strata=["xnli", "xnli", "pawsx"])
    assert got.tolist() == [(2.0 + 10.0) / 2, 3.0]  # seed 1 lacks pawsx: xnli alone


def test_seed_inference_is_the_t_test_and_its_dual_interval():
    from scipy import stats

    from xstilts.stats import seed_inference

    v = [1.0, 2.0, 4.0]
    r = seed_inference(v, family=4)
    t = stats.ttest_1samp(v, 0.0)
    assert r.p == pytest.approx(t.pvalue) and r.p_adj == pytest.approx(min(1, 4 * t.pvalue))
    lo, hi = stats.t.interval(1 - 0.05 / 4, df=2, loc=np.mean(v), scale=stats.sem(v))
    assert (r.lo, r.hi) == pytest.approx((lo, hi))
    assert r.decision == (1 if r.p_adj < 0.05 else 0)
    assert (r.lo > 0) == (r.p_adj < 0.05)  # the interval agrees with the decision


def test_seed_inference_needs_three_seeds():
    from xstilts.stats import describe_seed_result, seed_inference

    r = seed_inference([-50.0, -49.0], spread=(-60.0, -40.0))
    assert r.decision is None and math.isnan(r.lo) and math.isnan(r.p)
    text = describe_seed_result(r)
    assert text.startswith("2 seeds: no inference")
    assert "ahead" not in text and "-60.0 to -40.0" in text


def test_seed_wording_follows_the_decision():
    from xstilts.stats import describe_seed_result, seed_inference

    down = describe_seed_result(seed_inference([-50.0, -51.0, -49.5]))
    assert down.startswith("English-only is ahead by 50.2 points (mean -50.2 points, 95% CI [-")
    flat = describe_seed_result(seed_inference([-1.0, 1.5, 0.2]))
    assert flat.startswith("no significant difference at the 0.05 level (mean +0.2")
