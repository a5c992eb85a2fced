"""Known-answer and calibration tests for xstilts.scale_study on simulated bundles.

The seed is the unit: a gap is paired by model and seed, languages are averaged inside a
run, and the decision is a t-test over seeds (Bonferroni over the table's rows).
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from xstilts import scale_study as ss

BY_TASK = ("setting", "baseline", "mode", "model", "params_m", "nonemb_m", "task")
LADDER = {"e5-L3": 101.5, "e5-L6": 107.0, "e5-L12": 117.5}  # total (M)
NONEMB = {"e5-L3": 5.3, "e5-L6": 10.6, "e5-L12": 21.3}  # non-embedding (M): the axis
DIRECTION = re.compile(r"is ahead of|increases|decreases|grows|shrinks")


def _row(summary: pd.DataFrame, mode: str, model: str | None = None) -> pd.Series:
    rows = summary[summary["mode"] == mode]
    if model is not None:
        rows = rows[rows["model"] == model]
    assert len(rows) == 1
    return rows.iloc[0]


def _bundle(gap: float, n_seeds: int, seed: int, **kw) -> pd.DataFrame:
    return ss.synthetic_scores(
        dict.fromkeys(LADDER, gap), n_seeds=n_seeds, seed=seed, params_m=LADDER,
        nonemb_m=NONEMB, n_langs=4, modes=("translated",), **kw,
    )  # fmt: skip


# --------------------------------------------------------------------------- calibration


def test_calibration_a_large_gap_in_every_seed_is_a_significant_decrease():
    # -50 points in each of 3 seeds, with seed noise shared by a run's languages
    scores = _bundle(-50.0, 3, seed=1, noise=2.0, seed_sd=2.0)
    summary = ss.summarise_scale_study(ss.compute_gaps(scores))["group"]
    for model in LADDER:
        row = _row(summary, "translated", model)
        assert row.decision == "decrease" and row.significant
        assert row.ci_hi < 0 and row.p_adj < 0.05
        assert row.statement.startswith("English-only is ahead of translated-only by")


def test_calibration_b_null_bundles_report_a_difference_in_at_most_5_percent():
    # 200 null bundles (true gap 0 everywhere, seed noise shared across languages, which
    # a language-level test would mistake for signal). Each table (the gap table, the
    # trend table) controls its family-wise level at 5%; the stated tolerance is the
    # binomial 2 sd for 200 draws at p = 0.05, 3.1 points, so at most 8.1% per table.
    hits = {"summary": 0, "trend": 0}
    for seed in range(200):
        scores = _bundle(0.0, 3, seed=1000 + seed, noise=1.0, seed_sd=1.5, lang_sd=3.0)
        gaps = ss.compute_gaps(scores, include_intermediate_vs_none=False)
        tables = {
            "summary": ss.summarise_gaps(gaps, (*BY_TASK[:-1], "group")),
            "trend": ss.scale_trend(gaps),
        }
        for name, table in tables.items():
            reported = bool(table["significant"].any())
            assert reported == any(DIRECTION.search(t) for t in table.statement)
            hits[name] += reported
    tolerance = 2 * np.sqrt(0.05 * 0.95 / 200)
    assert all(h / 200 <= 0.05 + tolerance for h in hits.values()), hits


def test_calibration_c_one_seed_gives_no_direction():
    scores = _bundle(-50.0, 1, seed=2, noise=0.5)
    gaps = ss.compute_gaps(scores)
    tables = ss.summarise_scale_study(gaps)
    trend = ss.scale_trend(gaps)
    for statement in [*tables["task"].statement, *tables["group"].statement, *trend.statement]:
        assert not DIRECTION.search(statement), statement
        assert "1 seed: no inference" in statement
    assert tables["group"]["ci_lo"].isna().all() and not tables["group"]["significant"].any()
    assert "spread over languages is shown for description only" in tables["group"].statement[0]


def test_two_seeds_give_no_direction_either():
    gaps = ss.compute_gaps(_bundle(-50.0, 2, seed=3))
    summary = ss.summarise_gaps(gaps)
    assert (summary["decision"] == "no inference").all()
    assert all(s.startswith("2 seeds: no inference") for s in summary.statement)


# --------------------------------------------------------------------------- the decision rule


def test_interval_p_bold_and_sentence_agree_in_every_row():
    frames = [
        _bundle(g, 3, seed=10 + i, noise=2.0, seed_sd=1.0) for i, g in enumerate((0.0, 1.5, 4.0))
    ]
    for scores in frames:
        summary = ss.summarise_gaps(ss.compute_gaps(scores))
        excludes = (summary["ci_lo"] > 0) | (summary["ci_hi"] < 0)
        assert (excludes == summary["significant"]).all()
        assert ((summary["p_adj"] < 0.05) == summary["significant"]).all()
        directional = summary.statement.map(lambda t: bool(DIRECTION.search(t)))
        assert (directional == summary["significant"]).all()
        assert (summary["family"] == len(summary)).all()
        assert np.allclose(summary["ci_level"], 1 - 0.05 / len(summary))


def test_languages_are_averaged_inside_a_run_not_resampled():
    # One seed per language would give 4 "observations"; with 3 seeds the test rests on
    # the 3 per-seed means, so the t-test's df is 2 whatever the number of languages.
    from scipy import stats

    scores = _bundle(1.0, 3, seed=4, noise=1.0)
    gaps = ss.compute_gaps(scores, include_intermediate_vs_none=False)
    cell = gaps[gaps["model"] == "e5-L3"]
    per_seed = cell.groupby("seed")["gap"].mean().to_numpy()
    summary = ss.summarise_gaps(gaps, BY_TASK)
    row = _row(summary, "translated", "e5-L3")
    assert row["mean"] == pytest.approx(per_seed.mean())
    assert row.p == pytest.approx(stats.ttest_1samp(per_seed, 0.0).pvalue)
    assert row.p_adj == pytest.approx(min(1.0, row.p * len(summary)))


# --------------------------------------------------------------------------- trend


def test_trend_is_per_doubling_of_non_embedding_parameters():
    # gap = -4 points per doubling of non-embedding parameters: -0, -4, -8 (approx.)
    gaps_by_model = {m: -4.0 * np.log2(NONEMB[m] / NONEMB["e5-L3"]) for m in LADDER}
    scores = ss.synthetic_scores(
        gaps_by_model, n_seeds=3, seed=5, params_m=LADDER, nonemb_m=NONEMB, n_langs=4,
        modes=("translated",), noise=0.3,
    )  # fmt: skip
    trend = ss.scale_trend(ss.compute_gaps(scores, include_intermediate_vs_none=False))
    row = trend.iloc[0]
    assert row.x_unit == "points per doubling of non-embedding parameters"
    assert row.slope == pytest.approx(-4.0, abs=0.5)
    assert row.decision == "decrease"
    assert "10x" not in row.statement and "from 5.3 to 21.3 M non-embedding" in row.statement
    assert (row.nonemb_min, row.nonemb_max) == (5.3, 21.3)


def test_trend_less_than_one_doubling_is_per_rung():
    nonemb = {"e5-L3": 10.0, "e5-L6": 12.0, "e5-L12": 15.0}
    scores = ss.synthetic_scores(
        dict.fromkeys(LADDER, 1.0), n_seeds=3, seed=6, params_m=LADDER, nonemb_m=nonemb,
        n_langs=4, modes=("translated",),
    )  # fmt: skip
    trend = ss.scale_trend(ss.compute_gaps(scores, include_intermediate_vs_none=False))
    assert trend.iloc[0].x_unit == "points per rung of the ladder"


def test_trend_needs_two_rungs():
    scores = ss.synthetic_scores({"e5-L3": 1.0}, params_m=LADDER, nonemb_m=NONEMB)
    trend = ss.scale_trend(ss.compute_gaps(scores))
    assert trend["slope"].isna().all() and (trend["decision"] == "no trend").all()
    from xstilts import bundle

    bundle.check_table("scale_trend", trend)  # the no-trend rows carry every column


def test_trend_uses_only_tasks_every_rung_has():
    scores = ss.synthetic_scores(
        dict.fromkeys(LADDER, 0.0), n_seeds=3, seed=7, params_m=LADDER, nonemb_m=NONEMB,
        tasks=("xnli", "pawsx"), modes=("translated",),
    )  # fmt: skip
    scores = scores[~((scores["task"] == "pawsx") & (scores["model"] != "e5-L12"))]
    trend = ss.scale_trend(ss.compute_gaps(scores, include_intermediate_vs_none=False))
    assert set(trend["tasks"]) == {"xnli"}


# --------------------------------------------------------------------------- pairing


def _hand_scores() -> pd.DataFrame:
    # 2 languages x 2 seeds; gaps by seed are 1, 3 (de) and 5, 7 (fr). Mis-pairing seeds
    # (or positional pairing of the shuffled rows) would give other numbers.
    cells = {
        ("mnli", "english"): {("de", 0): 50, ("de", 1): 60, ("fr", 0): 40, ("fr", 1): 70},
        ("mnli", "translated"): {("de", 0): 51, ("de", 1): 63, ("fr", 0): 45, ("fr", 1): 77},
        ("none", "english"): {("de", 0): 49, ("de", 1): 58, ("fr", 0): 40, ("fr", 1): 66},
    }
    rows = [
        {"model": "m", "params_m": 10.0, "nonemb_m": 2.0, "setting": s, "mode": m, "seed": seed, "task": "xnli",
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


def test_summary_keys_include_setting_and_baseline():
    scores = ss.synthetic_scores(
        {"e5-L3": 1.0}, params_m=LADDER, nonemb_m=NONEMB, n_langs=3, n_seeds=3
    )
    other = scores[scores.setting != "none"].assign(setting="multitask")
    summary = ss.summarise_gaps(ss.compute_gaps(pd.concat([scores, other])))
    assert set(zip(summary.setting, summary.baseline)) == {
        ("mnli", "english"), ("mnli", "none"), ("multitask", "english"), ("multitask", "none"),
    }  # fmt: skip
    with pytest.raises(ValueError, match="setting"):
        ss.summarise_gaps(
            ss.compute_gaps(pd.concat([scores, other])), ("model", "mode", "baseline", "task")
        )


def test_family_summary_weights_tasks_equally_inside_each_seed():
    a = pd.DataFrame({"task": "xnli", "lang": list("abcd"), "gap": 1.0})
    b = pd.DataFrame({"task": "pawsx", "lang": ["e"], "gap": 3.0})
    fam = pd.concat([a, b]).assign(
        model="m", params_m=1.0, nonemb_m=1.0, setting="mnli", mode="translated",
        baseline="english", group="classification", seed=0,
    )  # fmt: skip
    out = ss.summarise_gaps(fam, ("setting", "baseline", "mode", "model", "group"))
    assert out.iloc[0]["mean"] == pytest.approx(2.0)
    assert out.iloc[0].n_tasks == 2 and out.iloc[0].n_langs == 5
    assert out.iloc[0].decision == "no inference"


def test_plot_writes_png_and_pdf(tmp_path):
    gaps = ss.compute_gaps(_bundle(1.0, 3, seed=8))
    summary = ss.summarise_scale_study(gaps)["group"]
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


def test_plot_draws_only_setting_family_pairs_that_have_rows(tmp_path):
    """A QA-only setting beside an NLI setting makes no empty classification/QA axes."""
    row = {"model": "e5-L3", "nonemb_m": 5.32, "baseline": "english", "mode": "translated"}
    summary = pd.DataFrame(
        [
            {**row, "setting": "mnli", "group": "classification", "mean": -8.0, "ci_lo": -40.0},
            {**row, "setting": "squad_v1", "group": "qa", "mean": 7.0, "ci_lo": np.nan},
        ]
    ).assign(ci_hi=lambda d: d["mean"] + 30.0)
    assert ss.panel_cells(summary) == [("mnli", "classification"), ("squad_v1", "qa")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the hollow no-interval marker draws without warnings
        assert ss.plot_gap_vs_scale(summary, tmp_path / "gap.png")[0].is_file()
