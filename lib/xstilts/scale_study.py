"""Scale study: how the multilingual vs English-only intermediate-training gap moves with size.

Input is the long ``scores`` table the analysis phase builds from run files, one row per
(model, params_m, setting, mode, seed, task, group, lang) with an XTREME per-language
``score`` in 0-100. The pipeline is

1. :func:`compute_gaps` pairs every multilingual-mode score with the English-only score
   of the same model, setting, task, language and seed (and English-only intermediate
   training with no intermediate training);
2. :func:`summarise_gaps` gives a mean gap per cell with a languages x seeds bootstrap
   interval, a sign-flip p-value over languages, Holm adjustment and a cautious sentence;
3. :func:`scale_trend` fits the gap against log10(parameters) per task family;
4. :func:`plot_gap_vs_scale` draws gap vs parameter count.

Example (synthetic data with a known gap that grows with scale)::

    from xstilts import scale_study as ss
    scores = ss.synthetic_scores({"xlm-roberta-base": 1.0, "xlm-roberta-large": 3.0})
    gaps = ss.compute_gaps(scores)
    tables = ss.summarise_scale_study(gaps, n_boot=2000)
    ss.scale_trend(gaps, n_boot=2000)[["group", "mode", "slope", "statement"]]
    ss.plot_gap_vs_scale(tables["group"], "gap_vs_scale.pdf")
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from xstilts.io import atomic_write_bytes
from xstilts.stats import (
    describe_difference,
    hierarchical_bootstrap_ci,
    hierarchical_bootstrap_distribution,
    holm_bonferroni,
    sign_flip_test,
)
from xstilts.xtreme import MULTILINGUAL_MODES, REFERENCE_MODELS, TARGET_TASKS

SCORE_COLUMNS = ("model", "params_m", "setting", "mode", "seed", "task", "group", "lang", "score")
DEFAULT_MULTILINGUAL_MODES = ("translated", "english+translated", "english+mlm")
# Short human names used in the generated sentences; "none" is the baseline of the
# English-only vs no-intermediate-training comparison.
MODE_LABELS = {
    "english": "English-only",
    "translated": "translated-only",
    "english+translated": "English+translated",
    "english+mlm": "English+MLM",
    "none": "no intermediate training",
}
# Short axis labels for the reference encoders; other names use their last path part.
SHORT_MODEL_NAMES = {
    "bert-base-multilingual-cased": "mBERT",
    "distilbert-base-multilingual-cased": "mDistilBERT",
    "xlm-roberta-base": "XLM-R base",
    "xlm-roberta-large": "XLM-R large",
    "facebook/xlm-roberta-xl": "XLM-R XL",
}
_CELL = ["model", "params_m", "setting", "task", "lang", "seed"]


def _check_scores(scores: pd.DataFrame) -> None:
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise ValueError(f"scores lacks columns {missing}; required: {list(SCORE_COLUMNS)}")
    bad = sorted(set(scores["mode"]) - set(MULTILINGUAL_MODES))
    if bad:
        raise ValueError(f"unknown mode(s) {bad}; allowed: {sorted(MULTILINGUAL_MODES)}")
    dup = scores.duplicated(_CELL + ["mode"], keep=False)
    if dup.any():
        example = scores.loc[dup, _CELL + ["mode"]].head(3).to_dict("records")
        raise ValueError(
            f"{int(dup.sum())} duplicated score rows (same model/setting/mode/task/lang/seed), "
            f"e.g. {example}; deduplicate the run files first"
        )


def _pair(
    treated: pd.DataFrame, base: pd.DataFrame, keys: list[str], broadcast: bool
) -> pd.DataFrame:
    """Inner-join treated and baseline rows on ``keys`` (which include ``seed``)."""
    base = base.rename(columns={"score": "baseline_score"})[keys + ["baseline_score"]]
    if not broadcast:
        return treated.merge(base, on=keys, how="inner", validate="many_to_one")
    # A baseline cell observed under a single seed (e.g. BUCC/Tatoeba without any
    # training, which is deterministic) is paired with every seed of the treated run.
    no_seed = [k for k in keys if k != "seed"]
    single = base.groupby(no_seed)["seed"].transform("nunique") == 1
    by_seed = treated.merge(base[~single], on=keys, how="inner", validate="many_to_one")
    broadcast_rows = treated.merge(
        base[single].drop(columns="seed"), on=no_seed, how="inner", validate="many_to_one"
    )
    return pd.concat([by_seed, broadcast_rows], ignore_index=True)


def compute_gaps(
    scores: pd.DataFrame,
    multilingual_modes: Sequence[str] = DEFAULT_MULTILINGUAL_MODES,
    baseline_mode: str = "english",
    *,
    include_intermediate_vs_none: bool = True,
    broadcast_single_seed_baseline: bool = True,
) -> pd.DataFrame:
    """Pair scores by seed and compute per-language gaps.

    Two kinds of rows are produced:

    - ``baseline == baseline_mode``: gap = score(mode) - score(baseline_mode) for the same
      model, setting, task, language and seed, for each multilingual ``mode``;
    - ``baseline == "none"`` (``mode == baseline_mode``): gap of English-only
      intermediate training over no intermediate training (setting ``none``), same model,
      task, language and seed.

    Args:
        scores: Long score table (see the module docstring for the columns).
        multilingual_modes: Modes compared with ``baseline_mode``.
        baseline_mode: The English-only mode.
        include_intermediate_vs_none: Also emit the English-only vs ``none`` gaps.
        broadcast_single_seed_baseline: Pair a baseline cell that exists under one seed
            only with every seed of the treated cell (deterministic baselines). If False,
            such cells only pair with the same seed.

    Returns:
        DataFrame with ``model, params_m, setting, mode, baseline, task, group, lang,
        seed, score, baseline_score, gap``; treated rows without a partner are dropped
        with a warning.

    Raises:
        ValueError: On missing columns, unknown modes or duplicated score rows.

    """
    _check_scores(scores)
    unknown = sorted(set(multilingual_modes) - set(MULTILINGUAL_MODES))
    if unknown:
        raise ValueError(f"unknown mode(s) {unknown}; allowed: {sorted(MULTILINGUAL_MODES)}")
    trained = scores[scores["setting"] != "none"]
    english = trained[trained["mode"] == baseline_mode]
    parts: list[pd.DataFrame] = []
    comparisons = [
        (trained[trained["mode"].isin(multilingual_modes)], english, baseline_mode, _CELL)
    ]
    if include_intermediate_vs_none:
        none = scores[(scores["setting"] == "none") & (scores["mode"] == baseline_mode)]
        keys = [k for k in _CELL if k != "setting"]
        comparisons.append((english, none, "none", keys))
    for treated, base, label, keys in comparisons:
        if treated.empty:
            continue
        paired = _pair(treated, base, keys, broadcast_single_seed_baseline)
        dropped = len(treated) - len(paired)
        if dropped:
            warnings.warn(
                f"{dropped} score rows have no '{label}' partner with the same "
                f"{'/'.join(keys)} and are left out of the gaps",
                stacklevel=2,
            )
        parts.append(paired.assign(baseline=label))
    columns = [
        "model",
        "params_m",
        "setting",
        "mode",
        "baseline",
        "task",
        "group",
        "lang",
        "seed",
        "score",
        "baseline_score",
        "gap",
    ]
    if not parts:
        return pd.DataFrame(columns=columns)
    gaps = pd.concat(parts, ignore_index=True)
    gaps["gap"] = gaps["score"] - gaps["baseline_score"]
    return gaps[columns].sort_values(columns[:9], ignore_index=True)


def _cell_table(frame: pd.DataFrame, units: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """Pivot one group into a [unit, seed] array plus per-row task strata."""
    if frame.duplicated(units + ["seed"]).any():
        raise ValueError(
            f"several gaps per ({', '.join(units)}, seed) inside one summary cell; add the "
            "varying column (e.g. 'setting') to `by`"
        )
    wide = frame.pivot_table(index=units, columns="seed", values="gap", aggfunc="first")
    strata = None
    if "task" in units:
        strata = wide.index.get_level_values("task").to_numpy()
    return wide.to_numpy(dtype=float), strata


def _sign_flip_weights(strata: np.ndarray | None, n_rows: int) -> np.ndarray:
    # Weight units so that the tested statistic is the task-balanced mean itself.
    if strata is None:
        return np.full(n_rows, 1.0 / n_rows)
    _, inverse, counts = np.unique(strata, return_inverse=True, return_counts=True)
    return 1.0 / (counts[inverse] * counts.size)


def _labels(mode: str, baseline: str) -> tuple[str, str]:
    a, b = MODE_LABELS.get(mode, mode), MODE_LABELS.get(baseline, baseline)
    return f"{a} is ahead of {b} by", f"{b} is ahead of {a} by"


def summarise_gaps(
    gaps: pd.DataFrame,
    by: Sequence[str] = ("model", "params_m", "setting", "mode", "task"),
    *,
    n_boot: int = 10000,
    ci: float = 0.95,
    seed: int = 0,
    alpha: float = 0.05,
    adjust: bool = True,
) -> pd.DataFrame:
    """Mean gap per cell with a hierarchical bootstrap interval, p-value and sentence.

    Rows of the bootstrap table are the (task, language) pairs not fixed by ``by`` and its
    columns are seeds. When ``task`` is not in ``by`` (a task-family or overall summary),
    languages are resampled within each task and tasks get equal weight, as in XTREME's
    averages. The p-value is an exact (n <= 16) or Monte Carlo sign-flip test over the
    rows' seed-averaged gaps, since languages, not runs, are the units one generalises
    over here; with 3 seeds a run-level test could never go below p = 0.25.

    Args:
        gaps: Output of :func:`compute_gaps`.
        by: Grouping columns; ``setting`` is in the default because pooling settings
            would mix different treatments (a ValueError says so if it is left out while
            several settings are present).
        n_boot: Bootstrap replicates.
        ci: Interval coverage.
        seed: Base seed; each cell uses ``seed`` so results do not depend on row order.
        alpha: Significance level for the statement.
        adjust: Holm-adjust the p-values across all rows of the returned table and word
            the statement with the adjusted value.

    Returns:
        One row per group: the ``by`` columns, ``baseline``, ``mean``, ``ci_lo``,
        ``ci_hi``, ``p``, ``p_holm``, ``n_tasks``, ``n_langs``, ``n_seeds``, ``statement``.

    """
    by = list(by)
    if "baseline" not in by:
        by = [*by, "baseline"]
    units = [c for c in ("task", "lang") if c not in by]
    # A failed run has a NaN score; it must not count as an observed language or seed.
    gaps = gaps[gaps["gap"].notna()]
    rows = []
    for key, frame in gaps.groupby(by, sort=True, dropna=False):
        table, strata = _cell_table(frame, units) if units else _single_unit(frame)
        mean, lo, hi = hierarchical_bootstrap_ci(table, n_boot, ci, seed, strata=strata)
        row_means = np.nanmean(table, axis=1)
        p = sign_flip_test(row_means, seed=seed, weights=_sign_flip_weights(strata, len(table)))
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "mean": mean,
                "ci_lo": lo,
                "ci_hi": hi,
                "p": p,
                "n_tasks": frame["task"].nunique(),
                "n_langs": frame["lang"].nunique(),
                "n_seeds": frame["seed"].nunique(),
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["p_holm"] = holm_bonferroni(out["p"].to_numpy()) if adjust else out["p"]
    p_col, p_label = ("p_holm", "Holm-adjusted p") if adjust else ("p", "p")
    statements = []
    for r in out.itertuples(index=False):
        positive, negative = _labels(getattr(r, "mode", "treatment"), r.baseline)
        statements.append(
            describe_difference(
                r.mean,
                r.ci_lo,
                r.ci_hi,
                getattr(r, p_col),
                alpha=alpha,
                ci=ci,
                positive=positive,
                negative=negative,
                p_label=p_label,
            )
        )
    out["statement"] = statements
    return out


def _single_unit(frame: pd.DataFrame) -> tuple[np.ndarray, None]:
    # ``by`` already fixes task and language: the only replication left is seeds.
    if frame["seed"].duplicated().any():
        raise ValueError("several gaps per seed inside one summary cell; refine `by`")
    return frame["gap"].to_numpy(dtype=float)[None, :], None


def per_language_table(gaps: pd.DataFrame) -> pd.DataFrame:
    """Descriptive per-language gaps (mean, sd, min, max over seeds); no inference.

    With a handful of seeds per language an interval would be mostly noise, so this
    table only describes; inference happens at the task and family level.

    Args:
        gaps: Output of :func:`compute_gaps`.

    Returns:
        One row per (model, params_m, setting, mode, baseline, task, group, lang).

    """
    keys = ["model", "params_m", "setting", "mode", "baseline", "task", "group", "lang"]
    return (
        gaps.groupby(keys, sort=True)["gap"]
        .agg(mean="mean", sd="std", min="min", max="max", n_seeds="count")
        .reset_index()
    )


def summarise_scale_study(
    gaps: pd.DataFrame, *, n_boot: int = 10000, ci: float = 0.95, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """All tables of the scale study.

    Args:
        gaps: Output of :func:`compute_gaps`.
        n_boot: Bootstrap replicates.
        ci: Interval coverage.
        seed: Bootstrap seed.

    Returns:
        ``{"task": per-task summary, "group": per-task-family summary, "language":
        per-language descriptive table}``.

    """
    base = ("model", "params_m", "setting", "mode")
    kwargs = {"n_boot": n_boot, "ci": ci, "seed": seed}
    return {
        "task": summarise_gaps(gaps, (*base, "group", "task"), **kwargs),
        "group": summarise_gaps(gaps, (*base, "group"), **kwargs),
        "language": per_language_table(gaps),
    }


def scale_trend(
    gaps: pd.DataFrame,
    by: Sequence[str] = ("setting", "mode", "baseline", "group"),
    *,
    n_boot: int = 10000,
    ci: float = 0.95,
    seed: int = 0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Least-squares slope of the gap against log10(parameters), per task family.

    For each scale (model) the family gap is bootstrapped as in :func:`summarise_gaps`
    (languages within tasks, shared seeds), independently across scales; the slope is
    refitted on every replicate, giving a percentile interval and a two-sided bootstrap
    p-value ``2 * min(P(slope* <= 0), P(slope* >= 0))``.

    The interval reflects language and seed noise *within* each model only. With three
    models of different families (mBERT vs XLM-R), scale is confounded with architecture
    and pretraining data, and there is no replication across models; the statement says
    how many sizes it rests on.

    Args:
        gaps: Output of :func:`compute_gaps` (not a summary: the bootstrap needs the
            per-language, per-seed gaps).
        by: Columns that define one trend (the scale columns must not be in it).
        n_boot: Bootstrap replicates.
        ci: Interval coverage.
        seed: Bootstrap seed.
        alpha: Significance level for the statement.

    Returns:
        One row per trend: the ``by`` columns, ``n_scales``, ``models``, ``slope``
        (points per 10x parameters), ``ci_lo``, ``ci_hi``, ``p``, ``statement``.

    """
    by = list(by)
    gaps = gaps[gaps["gap"].notna()]
    rows = []
    for key, frame in gaps.groupby(by, sort=True, dropna=False):
        task_sets = frame.groupby("model")["task"].agg(frozenset)
        if task_sets.nunique() > 1:
            # Family means over different task sets are not comparable across scales.
            warnings.warn(
                f"scale_trend {dict(zip(by, key, strict=True))}: models cover different "
                f"tasks ({ {m: sorted(t) for m, t in task_sets.items()} })",
                stacklevel=2,
            )
        scales = frame[["model", "params_m"]].drop_duplicates().sort_values("params_m")
        x = np.log10(scales["params_m"].to_numpy(dtype=float))
        points, reps = [], []
        for i, (model, params) in enumerate(scales.itertuples(index=False)):
            cell = frame[(frame["model"] == model) & (frame["params_m"] == params)]
            table, strata = _cell_table(cell, ["task", "lang"])
            # Distinct streams per scale: a shared stream would correlate the replicates.
            point, dist = hierarchical_bootstrap_distribution(
                table, n_boot, seed + 1000 * i, strata=strata
            )
            points.append(point)
            reps.append(dist)
        row = {**dict(zip(by, key, strict=True)), "n_scales": len(scales)}
        row["models"] = ", ".join(scales["model"])
        if len(scales) < 2 or np.ptp(x) == 0 or not np.all(np.isfinite(points)):
            row.update(slope=math.nan, ci_lo=math.nan, ci_hi=math.nan, p=math.nan)
            row["statement"] = "no trend can be estimated (fewer than two model sizes with data)"
            rows.append(row)
            continue
        xc = x - x.mean()
        sxx = float(xc @ xc)
        slope = float(xc @ (np.asarray(points) - np.mean(points)) / sxx)
        rep = np.stack(reps, axis=1)  # (n_boot, n_scales)
        rep_slopes = (rep - rep.mean(axis=1, keepdims=True)) @ xc / sxx
        rep_slopes = rep_slopes[np.isfinite(rep_slopes)]
        tail = (1.0 - ci) / 2.0
        lo, hi = np.quantile(rep_slopes, [tail, 1.0 - tail])
        n = rep_slopes.size
        p = min(1.0, 2 * min(np.sum(rep_slopes <= 0) + 1, np.sum(rep_slopes >= 0) + 1) / (n + 1))
        mode, baseline = row.get("mode", "treatment"), row.get("baseline", "baseline")
        # "Grows" reads as "gets larger in size"; that is only true of a rising slope when
        # the gap is non-negative at every scale. Otherwise name the signed change.
        up, down = ("grows", "shrinks") if min(points) >= 0 else ("increases", "decreases")
        sentence = describe_difference(
            slope,
            lo,
            hi,
            p,
            unit="points per 10x parameters",
            alpha=alpha,
            ci=ci,
            positive=f"the gap ({mode} minus {baseline}) {up} with scale by",
            negative=f"the gap ({mode} minus {baseline}) {down} with scale by",
            null="no significant trend with scale",
            estimate_name="slope",
            p_label="bootstrap p",
        )
        row.update(slope=slope, ci_lo=float(lo), ci_hi=float(hi), p=float(p))
        row["statement"] = (
            f"{sentence}; {len(scales)} model sizes, interval covers language and seed noise only"
        )
        rows.append(row)
    return pd.DataFrame(rows)


def plot_gap_vs_scale(
    summary: pd.DataFrame,
    path: str | Path,
    *,
    panel: str = "group",
    title: str | None = None,
) -> list[Path]:
    """Plot gap vs parameter count (log x axis), one panel per task family.

    Hue is the comparison (mode minus baseline); error bars are the summary's interval;
    a solid line marks zero; the English-only vs ``none`` comparison is dashed. Tick
    labels carry short model names and sizes. Rows of panels are settings when the
    summary holds several.

    Args:
        summary: Output of :func:`summarise_gaps` with ``panel`` among its columns (the
            ``"group"`` table of :func:`summarise_scale_study` by default).
        path: Target file. ``.png`` writes a PNG; ``.pdf`` writes the PDF and a PNG next
            to it (same stem).
        panel: Column that defines the panels (``group`` or ``task``).
        title: Optional figure title.

    Returns:
        The written paths.

    Raises:
        ValueError: If the summary is empty or lacks a needed column.

    """
    # A bare Figure renders with Agg without touching pyplot's global backend, so calling
    # this from a notebook with an inline backend has no side effects.
    import seaborn as sns
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    needed = ["model", "params_m", "setting", "mode", "baseline", "mean", "ci_lo", "ci_hi", panel]
    missing = [c for c in needed if c not in summary.columns]
    if summary.empty or missing:
        raise ValueError(f"cannot plot: summary is empty or lacks columns {missing}")
    names = summary["mode"].map(lambda m: MODE_LABELS.get(m, m))
    bases = summary["baseline"].map(lambda m: MODE_LABELS.get(m, m))
    data = summary.assign(comparison=names + " \u2212 " + bases)
    # English-only vs none answers a different question (does intermediate training
    # help at all), so it is drawn dashed to keep it apart from the multilingual gaps.
    dashed = set(data.loc[data["baseline"] == "none", "comparison"])
    panels = sorted(data[panel].unique())
    settings = sorted(data["setting"].unique())
    comparisons = sorted(data["comparison"].unique())
    colours = dict(zip(comparisons, sns.color_palette("colorblind", len(comparisons)), strict=True))
    short = data["model"].map(lambda m: SHORT_MODEL_NAMES.get(m, str(m).rsplit("/", 1)[-1]))
    ticks = short.groupby(data["params_m"]).agg(lambda m: "/".join(sorted(set(m))))
    tick_labels = [f"{name}\n{p:g}M" for p, name in ticks.items()]
    # Small multiplicative offsets keep error bars of different hues apart on a log axis.
    offsets = {
        c: 10 ** (0.015 * (i - (len(comparisons) - 1) / 2)) for i, c in enumerate(comparisons)
    }
    with sns.axes_style("whitegrid"):
        fig = Figure(figsize=(3.6 * len(panels), 3.2 * len(settings)))
        axes = fig.subplots(len(settings), len(panels), sharex=True, sharey=True, squeeze=False)
        for r, setting in enumerate(settings):
            for c, name in enumerate(panels):
                ax = axes[r, c]
                cell = data[(data["setting"] == setting) & (data[panel] == name)]
                for comp, part in cell.sort_values("params_m").groupby("comparison"):
                    x = part["params_m"].to_numpy(float) * offsets[comp]
                    y = part["mean"].to_numpy(float)
                    err = np.vstack([y - part["ci_lo"], part["ci_hi"] - y])
                    ax.errorbar(
                        x,
                        y,
                        yerr=np.nan_to_num(err),
                        marker="o",
                        capsize=3,
                        color=colours[comp],
                        ls="--" if comp in dashed else "-",
                        label=comp,
                    )
                ax.axhline(0.0, color="0.2", lw=0.9)
                ax.set_xscale("log")
                ax.set_xticks(ticks.index.to_numpy(float), tick_labels, fontsize=7)
                ax.minorticks_off()
                ax.set_title(f"{name}" + (f" ({setting})" if len(settings) > 1 else ""))
                if c == 0:
                    ax.set_ylabel("gap (points)")
                if r == len(settings) - 1:
                    ax.set_xlabel("parameters (log scale)")
        handles = [
            Line2D([], [], color=colours[k], marker="o", ls="--" if k in dashed else "-", label=k)
            for k in comparisons
        ]
        fig.legend(
            handles=handles,
            loc="lower center",
            ncol=min(2, len(handles)),
            fontsize=8,
            frameon=False,
            bbox_to_anchor=(0.5, 0.0),
        )
        if title:
            fig.suptitle(title)
        fig.tight_layout(rect=(0, 0.03 + 0.045 * math.ceil(len(handles) / 2), 1, 1))
    path = Path(path)
    targets = [path] if path.suffix.lower() != ".pdf" else [path, path.with_suffix(".png")]
    written = []
    for target in targets:
        buffer = io.BytesIO()
        fmt = "pdf" if target.suffix.lower() == ".pdf" else "png"
        # Fixed metadata keeps the PDF bytes stable across rebuilds (no creation date).
        metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None}
        fig.savefig(buffer, format=fmt, dpi=200, metadata=metadata)
        written.append(atomic_write_bytes(target, buffer.getvalue()))
    return written


def synthetic_scores(
    gap_by_scale: Mapping[str, float],
    noise: float = 1.0,
    n_langs: int = 6,
    n_seeds: int = 3,
    seed: int = 0,
    *,
    params_m: Mapping[str, float] | None = None,
    tasks: Sequence[str] = ("xnli",),
    modes: Sequence[str] = ("english+translated",),
    setting: str = "mnli",
    intermediate_gain: float = 1.0,
    lang_sd: float = 3.0,
) -> pd.DataFrame:
    """Score table with known gaps, for tests and documentation examples.

    Each score is ``base(model) + language effect + gain + noise * N(0, 1)`` where the
    gain is ``gap_by_scale[model]`` for every mode in ``modes`` (relative to English-only),
    ``0`` for English-only and ``-intermediate_gain`` for ``none``. The true mean gap of a
    mode is therefore exactly ``gap_by_scale[model]``; each paired difference has standard
    deviation ``noise * sqrt(2)``.

    Args:
        gap_by_scale: True multilingual minus English-only gap per model name.
        noise: Standard deviation of the independent per-score noise.
        n_langs: Languages per task (the first ones of the task's XTREME list).
        n_seeds: Seeds per cell (0 .. n_seeds - 1).
        seed: Seed of the generator.
        params_m: Parameter count (millions) per model; defaults to
            ``xtreme.REFERENCE_MODELS`` for known names.
        tasks: XTREME target tasks to generate.
        modes: Multilingual modes that receive the gap.
        setting: Intermediate setting of the trained rows.
        intermediate_gain: True gap of English-only intermediate training over ``none``.
        lang_sd: Standard deviation of the per-language level (shared by all modes, so
            it cancels in the paired gaps, as in real data).

    Returns:
        A score table with the columns of :data:`SCORE_COLUMNS`.

    Raises:
        ValueError: For a model without a known parameter count, or too many languages.

    """
    params_m = dict(params_m or {})
    rng = np.random.default_rng(seed)
    frames = []
    for model, gap in gap_by_scale.items():
        size = params_m.get(model, REFERENCE_MODELS.get(model, {}).get("params_m"))
        if size is None:
            raise ValueError(f"no parameter count for {model!r}; pass params_m={{...}}")
        for task_name in tasks:
            spec = TARGET_TASKS[task_name]
            if n_langs > len(spec.languages):
                raise ValueError(f"{task_name} has only {len(spec.languages)} languages")
            langs = np.array(spec.languages[:n_langs])
            level = 50.0 + 10.0 * np.log10(size) + rng.normal(0.0, lang_sd, n_langs)
            arms = [("none", "english", -intermediate_gain), (setting, "english", 0.0)]
            arms += [(setting, m, float(gap)) for m in modes]
            for arm_setting, mode, shift in arms:
                noise_draw = rng.normal(0.0, noise, (n_langs, n_seeds))
                frames.append(
                    pd.DataFrame(
                        {
                            "model": model,
                            "params_m": float(size),
                            "setting": arm_setting,
                            "mode": mode,
                            "seed": np.tile(np.arange(n_seeds), n_langs),
                            "task": task_name,
                            "group": spec.group,
                            "lang": np.repeat(langs, n_seeds),
                            "score": (level[:, None] + shift + noise_draw).ravel(),
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)[list(SCORE_COLUMNS)]
