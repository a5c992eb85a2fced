"""Known-answer tests for xstilts.scale_study on synthetic score tables."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from xstilts import scale_study as ss

N_BOOT = 2000
BY_TASK = ("model", "params_m", "setting", "mode", "task")


def _row(summary: pd.DataFrame, mode: str) -> pd.Series:
    rows = summary[summary["mode"] == mode]
    assert len(rows) == 1
    return rows.iloc[0]


def test_known_gap_is_recovered():
    scores = ss.synthetic_scores({"xlm-roberta-base": 3.0}, noise=0.5, n_langs=8, n_seeds=3)
    summary = ss.summarise_gaps(ss.compute_gaps(scores), BY_TASK, n_boot=N_BOOT)
    row = _row(summary, "english+translated")
    assert row.ci_lo < 3.0 < row.ci_hi
    assert row.ci_lo > 0
    assert row.p < 0.05 and row.p_holm < 0.05
    assert (row.n_langs, row.n_seeds, row.n_tasks) == (8, 3, 1)
    assert row.statement.startswith("English+translated is ahead of English-only by ")
    assert "Holm-adjusted p" in row.statement


def test_zero_gap_is_not_called_a_difference():
    scores = ss.synthetic_scores({"xlm-roberta-base": 0.0}, noise=1.0, n_langs=8, n_seeds=3)
    row = _row(
        ss.summarise_gaps(ss.compute_gaps(scores), BY_TASK, n_boot=N_BOOT), "english+translated"
    )
    assert row.ci_lo < 0 < row.ci_hi
    assert row.statement.startswith("no significant difference")


def test_noise_free_gap_collapses_to_the_constant():
    scores = ss.synthetic_scores({"xlm-roberta-base": 2.0}, noise=0.0, intermediate_gain=1.5)
    summary = ss.summarise_gaps(ss.compute_gaps(scores), BY_TASK, n_boot=N_BOOT)
    multi, inter = _row(summary, "english+translated"), _row(summary, "english")
    assert (multi["mean"], multi.ci_lo, multi.ci_hi) == pytest.approx((2.0, 2.0, 2.0))
    assert inter.baseline == "none"
    assert (inter["mean"], inter.ci_lo, inter.ci_hi) == pytest.approx((1.5, 1.5, 1.5))


def _hand_scores() -> pd.DataFrame:
    # 2 languages x 2 seeds; gaps by seed are 1, 3 (de) and 5, 7 (fr). Mis-pairing seeds
    # (or positional pairing of the shuffled rows) would give other numbers.
    cells = {
        ("mnli", "english"): {("de", 0): 50, ("de", 1): 60, ("fr", 0): 40, ("fr", 1): 70},
        ("mnli", "translated"): {("de", 0): 51, ("de", 1): 63, ("fr", 0): 45, ("fr", 1): 77},
        ("none", "english"): {("de", 0): 49, ("de", 1): 58, ("fr", 0): 40, ("fr", 1): 66},
    }
    rows = [
        {"model": "m", "params_m": 10.0, "setting": s, "mode": m, "seed": seed, "task": "xnli",
         "group": "classification", "lang": lang, "score": float(v)}
        for (s, m), vals in cells.items()
        for (lang, seed), v in vals.items()
    ]  # fmt: skip
    return pd.DataFrame(rows).sample(frac=1.0, random_state=3).reset_index(drop=True)


def test_compute_gaps_pairs_by_seed():
    gaps = ss.compute_gaps(_hand_scores())
    got = {(r.mode, r.baseline, r.lang, r.seed): r.gap for r in gaps.itertuples()}
    assert got == {
        ("translated", "english", "de", 0): 1.0,
        ("translated", "english", "de", 1): 3.0,
        ("translated", "english", "fr", 0): 5.0,
        ("translated", "english", "fr", 1): 7.0,
        ("english", "none", "de", 0): 1.0,
        ("english", "none", "de", 1): 2.0,
        ("english", "none", "fr", 0): 0.0,
        ("english", "none", "fr", 1): 4.0,
    }
    assert set(gaps.loc[gaps.baseline == "none", "setting"]) == {"mnli"}


def test_compute_gaps_broadcasts_a_single_seed_baseline_only_when_asked():
    scores = _hand_scores()
    scores = scores[~((scores.setting == "none") & (scores.seed == 1))]
    gaps = ss.compute_gaps(scores)
    none = gaps[gaps.baseline == "none"].set_index(["lang", "seed"])["gap"]
    assert none.to_dict() == {("de", 0): 1.0, ("de", 1): 11.0, ("fr", 0): 0.0, ("fr", 1): 30.0}
    with pytest.warns(UserWarning, match="2 score rows have no 'none' partner"):
        strict = ss.compute_gaps(scores, broadcast_single_seed_baseline=False)
    assert len(strict[strict.baseline == "none"]) == 2


def test_compute_gaps_fails_early_on_bad_input():
    scores = _hand_scores()
    with pytest.raises(ValueError, match="duplicated"):
        ss.compute_gaps(pd.concat([scores, scores.iloc[:1]]))
    with pytest.raises(ValueError, match="unknown mode"):
        ss.compute_gaps(scores.assign(mode="german"))
    with pytest.raises(ValueError, match="lacks columns"):
        ss.compute_gaps(scores.drop(columns="group"))


def test_summary_of_hand_example_and_family_weighting():
    gaps = ss.compute_gaps(_hand_scores())
    row = _row(ss.summarise_gaps(gaps, BY_TASK, n_boot=N_BOOT), "translated")
    assert row["mean"] == pytest.approx(4.0)  # (mean(1, 3) + mean(5, 7)) / 2
    assert row.p == 0.5  # exact sign flip over the 2 languages' means (2, 6)
    # Family level with two tasks of unequal size: tasks weigh equally.
    a = pd.DataFrame({"task": "xnli", "lang": list("abcd"), "gap": 1.0})
    b = pd.DataFrame({"task": "pawsx", "lang": ["e"], "gap": 3.0})
    fam = pd.concat([a, b]).assign(
        model="m", params_m=1.0, setting="mnli", mode="translated", baseline="english",
        group="classification", seed=0,
    )  # fmt: skip
    out = ss.summarise_gaps(fam, ("model", "params_m", "setting", "mode", "group"), n_boot=N_BOOT)
    assert out.iloc[0]["mean"] == pytest.approx(2.0)
    assert out.iloc[0].n_tasks == 2 and out.iloc[0].n_langs == 5


def test_summary_refuses_to_pool_settings():
    scores = ss.synthetic_scores({"xlm-roberta-base": 1.0}, n_langs=3, n_seeds=2)
    other = scores[scores.setting != "none"].assign(setting="multitask")
    gaps = ss.compute_gaps(pd.concat([scores, other]))
    with pytest.raises(ValueError, match="setting"):
        ss.summarise_gaps(gaps, ("model", "params_m", "mode", "task"), n_boot=N_BOOT)


def _ladder(gaps_by_model: dict[str, float]) -> pd.DataFrame:
    params = {"mini-3l": 10.0, "mini-6l": 100.0, "mini-12l": 1000.0}
    return ss.synthetic_scores(
        gaps_by_model, noise=0.5, n_langs=7, n_seeds=3, params_m=params, tasks=("xnli", "pawsx")
    )


def test_scale_trend_detects_a_gap_growing_with_log_params():
    # gap = 2 points per decade of parameters
    gaps = ss.compute_gaps(_ladder({"mini-3l": 1.0, "mini-6l": 3.0, "mini-12l": 5.0}))
    trend = ss.scale_trend(gaps, n_boot=N_BOOT)
    row = _row(trend, "english+translated")
    assert row.n_scales == 3 and row.models == "mini-3l, mini-6l, mini-12l"
    assert 0 < row.ci_lo < 2.0 < row.ci_hi
    assert row.slope == pytest.approx(2.0, abs=0.5)
    assert row.statement.startswith("the gap (english+translated minus english) grows")
    flat = _row(ss.scale_trend(gaps, n_boot=N_BOOT), "english")  # vs none: constant gain
    assert flat.statement.startswith("no significant trend with scale")


def test_scale_trend_wording_for_a_negative_gap_uses_signed_change():
    # Multilingual behind at every size but less so with scale: the gap does not "grow".
    gaps = ss.compute_gaps(_ladder({"mini-3l": -5.0, "mini-6l": -3.0, "mini-12l": -1.0}))
    row = _row(ss.scale_trend(gaps, n_boot=N_BOOT), "english+translated")
    assert row.ci_lo > 0
    assert row.statement.startswith("the gap (english+translated minus english) increases")


def test_scale_trend_needs_two_scales():
    gaps = ss.compute_gaps(ss.synthetic_scores({"xlm-roberta-base": 1.0}, n_langs=3))
    row = ss.scale_trend(gaps, n_boot=N_BOOT).iloc[0]
    assert math.isnan(row.slope) and "fewer than two" in row.statement


def test_summarise_scale_study_tables():
    gaps = ss.compute_gaps(_ladder({"mini-3l": 0.0, "mini-6l": 1.0, "mini-12l": 2.0}))
    tables = ss.summarise_scale_study(gaps, n_boot=N_BOOT)
    assert set(tables) == {"task", "group", "language"}
    assert len(tables["task"]) == 3 * 2 * 2  # scales x comparisons x tasks
    assert len(tables["group"]) == 3 * 2
    assert len(tables["language"]) == 3 * 2 * 2 * 7
    assert (tables["language"].n_seeds == 3).all()
    assert tables["task"]["p_holm"].ge(tables["task"]["p"]).all()


def test_plot_writes_png_and_pdf(tmp_path):
    gaps = ss.compute_gaps(_ladder({"mini-3l": 0.0, "mini-6l": 1.0, "mini-12l": 2.0}))
    summary = ss.summarise_gaps(
        gaps, ("model", "params_m", "setting", "mode", "group"), n_boot=N_BOOT
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no matplotlib/seaborn warnings on the happy path
        # A one-panel subset keeps this second render cheap.
        png = ss.plot_gap_vs_scale(summary[summary["mode"] == "english"], tmp_path / "gap.png")
        both = ss.plot_gap_vs_scale(summary, tmp_path / "figs" / "gap.pdf")
    assert png == [tmp_path / "gap.png"]
    assert png[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in both] == ["gap.pdf", "gap.png"]
    assert both[0].read_bytes()[:5] == b"%PDF-"
    with pytest.raises(ValueError, match="cannot plot"):
        ss.plot_gap_vs_scale(summary.iloc[:0], tmp_path / "empty.png")


def test_synthetic_scores_contract():
    scores = ss.synthetic_scores({"xlm-roberta-large": 1.0}, n_langs=4, n_seeds=2)
    assert list(scores.columns) == list(ss.SCORE_COLUMNS)
    assert scores.params_m.unique().tolist() == [560.0]
    assert len(scores) == 3 * 4 * 2  # none, english, english+translated
    assert np.array_equal(
        scores.score, ss.synthetic_scores({"xlm-roberta-large": 1.0}, n_langs=4, n_seeds=2).score
    )
    with pytest.raises(ValueError, match="no parameter count"):
        ss.synthetic_scores({"my-model": 1.0})
    with pytest.raises(ValueError, match="only 7 languages"):
        ss.synthetic_scores({"xlm-roberta-base": 1.0}, n_langs=8, tasks=("pawsx",))
