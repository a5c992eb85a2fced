"""Scale study: how the multilingual vs English-only intermediate-training gap moves with size.

Input is the long ``scores`` table the analysis phase builds from run files, one row per
(model, params_m, nonemb_m, setting, mode, seed, task, group, lang) with an XTREME
per-language ``score`` in 0-100. The pipeline is

1. :func:`compute_gaps` pairs every multilingual-mode score with the English-only score
   of the same model, setting, task, language and **seed** (and English-only intermediate
   training with no intermediate training);
2. :func:`summarise_gaps` averages the languages inside each run (seed), then tests the
   per-seed gaps with a t-test over seeds (:func:`xstilts.stats.seed_inference`); with
   fewer than three seeds it states no direction;
3. :func:`scale_trend` fits the gap against log2(non-embedding parameters) per seed and
   tests the per-seed slopes the same way (points per doubling; per rung when the ladder
   spans less than one doubling), never beyond the measured range;
4. :func:`plot_gap_vs_scale` draws gap vs non-embedding parameter count.

One decision rule serves every output: Bonferroni-adjusted p < 0.05 over the rows of the
table, and the interval shown is the matching simultaneous t-interval, so a bold cell, the
``decision`` column, the p column and the sentence never disagree.

Example (synthetic data with a known gap that grows with scale)::

    from xstilts import scale_study as ss
    scores = ss.synthetic_scores({"xlm-roberta-base": 1.0, "xlm-roberta-large": 3.0})
    gaps = ss.compute_gaps(scores)
    tables = ss.summarise_scale_study(gaps)
    ss.scale_trend(gaps)[["group", "mode", "slope", "statement"]]
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
from xstilts.stats import SeedResult, describe_seed_result, seed_inference, seed_means
from xstilts.xtreme import MULTILINGUAL_MODES, REFERENCE_MODELS, TARGET_TASKS

SCORE_COLUMNS = (
    "model", "params_m", "nonemb_m", "setting", "mode", "seed", "task", "group", "lang", "score",
)  # fmt: skip
DEFAULT_MULTILINGUAL_MODES = ("translated", "english+translated", "english+mlm")
ALPHA = 0.05  # family-wise level of every table (Bonferroni over its rows)
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
DECISION_LABELS = {1: "increase", -1: "decrease", 0: "not significant", None: "no inference"}
_CELL = ["model", "params_m", "nonemb_m", "setting", "task", "lang", "seed"]
SCALE_KEYS = ("setting", "baseline", "mode", "model", "params_m", "nonemb_m")


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


GAP_COLUMNS = [
    "model", "params_m", "nonemb_m", "setting", "mode", "baseline", "task", "group", "lang",
    "seed", "score", "baseline_score", "gap",
]  # fmt: skip


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
        DataFrame with :data:`GAP_COLUMNS`; treated rows without a partner are dropped
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
    if not parts:
        return pd.DataFrame(columns=GAP_COLUMNS)
    gaps = pd.concat(parts, ignore_index=True)
    gaps["gap"] = gaps["score"] - gaps["baseline_score"]
    return gaps[GAP_COLUMNS].sort_values(GAP_COLUMNS[:10], ignore_index=True)


def _cell_table(frame: pd.DataFrame, units: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """Pivot one group into a [unit, seed] array plus per-row task strata."""
    if not units:
        if frame["seed"].duplicated().any():
            raise ValueError("several gaps per seed inside one summary cell; refine `by`")
        return frame.sort_values("seed")["gap"].to_numpy(dtype=float)[None, :], None
    if frame.duplicated(units + ["seed"]).any():
        raise ValueError(
            f"several gaps per ({', '.join(units)}, seed) inside one summary cell; add the "
            "varying column (e.g. 'setting') to `by`"
        )
    wide = frame.pivot_table(index=units, columns="seed", values="gap", aggfunc="first")
    strata = wide.index.get_level_values("task").to_numpy() if "task" in units else None
    return wide.to_numpy(dtype=float), strata


def _spread(table: np.ndarray) -> tuple[float, float]:
    """Descriptive range over units (languages) of the seed-averaged gaps."""
    rows = np.nanmean(table, axis=1) if table.size else np.empty(0)
    rows = rows[np.isfinite(rows)]
    return (float(rows.min()), float(rows.max())) if rows.size else (math.nan, math.nan)


def _labels(mode: str, baseline: str) -> tuple[str, str]:
    a, b = MODE_LABELS.get(mode, mode), MODE_LABELS.get(baseline, baseline)
    return f"{a} is ahead of {b} by", f"{b} is ahead of {a} by"


def _result_columns(r: SeedResult) -> dict:
    return {
        "mean": r.mean,
        "ci_lo": r.lo,
        "ci_hi": r.hi,
        "ci_level": r.ci_level,
        "p": r.p,
        "p_adj": r.p_adj,
        "family": r.family,
        "decision": DECISION_LABELS[r.decision],
        "significant": r.decision in (1, -1),
        "lang_min": r.spread_lo,
        "lang_max": r.spread_hi,
    }


def summarise_gaps(
    gaps: pd.DataFrame,
    by: Sequence[str] = (*SCALE_KEYS, "group", "task"),
    *,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Mean gap per cell with a seed-level t-test and interval, and its sentence.

    Inside each cell the (task, language) gaps not fixed by ``by`` are averaged per seed
    (tasks with equal weight, as XTREME averages), giving one gap per seed; the t-test
    and t-interval run over those seeds (:func:`xstilts.stats.seed_inference`). The
    family of the Bonferroni adjustment is every row of the returned table with enough
    seeds. With fewer than three seeds a row gets no interval, no p and no direction;
    its sentence says so and gives the range over languages as a description.

    Args:
        gaps: Output of :func:`compute_gaps`.
        by: Grouping columns; ``setting`` and ``baseline`` must be in it (pooling
            settings would mix different treatments).
        alpha: Family-wise significance level.

    Returns:
        One row per group: the ``by`` columns, ``mean``, ``ci_lo``, ``ci_hi``,
        ``ci_level``, ``p``, ``p_adj``, ``family``, ``decision``, ``significant``,
        ``lang_min``, ``lang_max``, ``n_tasks``, ``n_langs``, ``n_seeds``, ``statement``.

    """
    by = list(by)
    if "baseline" not in by:
        by = [*by, "baseline"]
    units = [c for c in ("task", "lang") if c not in by]
    # A failed run has a NaN score; it must not count as an observed language or seed.
    gaps = gaps[gaps["gap"].notna()]
    cells = []
    for key, frame in gaps.groupby(by, sort=True, dropna=False):
        table, strata = _cell_table(frame, units)
        cells.append(
            (dict(zip(by, key, strict=True)), seed_means(table, strata), _spread(table), frame)
        )
    family = sum(1 for _, per_seed, _, _ in cells if per_seed.size >= 3)
    rows = []
    for keys, per_seed, spread, frame in cells:
        r = seed_inference(per_seed, family, alpha, spread=spread)
        positive, negative = _labels(keys.get("mode", "treatment"), keys["baseline"])
        rows.append(
            {
                **keys,
                **_result_columns(r),
                "n_tasks": frame["task"].nunique(),
                "n_langs": frame["lang"].nunique(),
                "n_seeds": r.n_seeds,
                "statement": describe_seed_result(
                    r, positive=positive, negative=negative, alpha=alpha
                ),
            }
        )
    return pd.DataFrame(rows)


def per_language_table(gaps: pd.DataFrame) -> pd.DataFrame:
    """Descriptive per-language gaps (mean, sd, min, max over seeds); no inference.

    Args:
        gaps: Output of :func:`compute_gaps`.

    Returns:
        One row per (setting, baseline, mode, model, task, group, lang).

    """
    keys = [*SCALE_KEYS, "task", "group", "lang"]
    return (
        gaps.groupby(keys, sort=True)["gap"]
        .agg(mean="mean", sd="std", min="min", max="max", n_seeds="count")
        .reset_index()
    )


def summarise_scale_study(gaps: pd.DataFrame, *, alpha: float = ALPHA) -> dict[str, pd.DataFrame]:
    """All tables of the scale study.

    Args:
        gaps: Output of :func:`compute_gaps`.
        alpha: Family-wise significance level of each table.

    Returns:
        ``{"task": per-task summary, "group": per-task-family summary, "language":
        per-language descriptive table}``.

    """
    return {
        "task": summarise_gaps(gaps, (*SCALE_KEYS, "group", "task"), alpha=alpha),
        "group": summarise_gaps(gaps, (*SCALE_KEYS, "group"), alpha=alpha),
        "language": per_language_table(gaps),
    }


def _axis(nonemb_m: np.ndarray) -> tuple[np.ndarray, str]:
    """The x values and unit of the trend: doublings of non-embedding params, else rungs."""
    x = np.log2(nonemb_m.astype(float))
    if np.ptp(x) >= 1.0:
        return x, "points per doubling of non-embedding parameters"
    # Less than one doubling measured: a per-doubling slope would extrapolate.
    return np.arange(len(x), dtype=float), "points per rung of the ladder"


def _per_seed_slopes(frame: pd.DataFrame, scales: pd.DataFrame, x: np.ndarray) -> np.ndarray:
    """One least-squares slope per seed present at every scale."""
    by_scale = []
    for model in scales["model"]:
        cell = frame[frame["model"] == model]
        table, strata = _cell_table(cell, ["task", "lang"])
        seeds = sorted(cell["seed"].unique())
        by_scale.append(dict(zip(seeds, seed_means(table, strata), strict=True)))
    shared = sorted(set.intersection(*(set(d) for d in by_scale)))
    xc = x - x.mean()
    y = np.array([[d[s] for d in by_scale] for s in shared])  # (seed, scale)
    return (y - y.mean(axis=1, keepdims=True)) @ xc / float(xc @ xc) if len(shared) else np.empty(0)


def scale_trend(
    gaps: pd.DataFrame,
    by: Sequence[str] = ("setting", "baseline", "mode", "group"),
    *,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Slope of the gap against log2(non-embedding parameters), tested over seeds.

    For every seed present at every rung, the family gap (languages within tasks, tasks
    with equal weight) is computed per rung and a least-squares slope is fitted against
    log2 of the non-embedding parameter count: one slope per seed, "points per doubling".
    The seeds' slopes are tested with a t-test (:func:`xstilts.stats.seed_inference`),
    Bonferroni-adjusted over the rows. Seed ``s`` of each rung is an independent run, so
    each seed index gives one independent replicate of the whole ladder. When the ladder
    spans less than one doubling, the slope is per rung instead. The statement names the
    measured range; nothing is extrapolated beyond it.

    With different model families (mBERT vs XLM-R), scale is confounded with architecture
    and pretraining data; the statement says how many rungs it rests on.

    Args:
        gaps: Output of :func:`compute_gaps`.
        by: Columns that define one trend (the scale columns must not be in it).
        alpha: Family-wise significance level.

    Returns:
        One row per trend: the ``by`` columns, ``n_scales``, ``models``, ``x_unit``,
        ``nonemb_min``, ``nonemb_max``, ``slope``, ``ci_lo``, ``ci_hi``, ``p``, ``p_adj``,
        ``decision``, ``significant``, ``n_seeds``, ``statement``.

    """
    by = list(by)
    gaps = gaps[gaps["gap"].notna()]
    staged = []
    for key, frame in gaps.groupby(by, sort=True, dropna=False):
        task_sets = frame.groupby("model")["task"].agg(frozenset)
        if task_sets.nunique() > 1:
            # Family means over different task sets are not comparable across scales.
            common = frozenset.intersection(*task_sets)
            frame = frame[frame["task"].isin(common)]
        scales = frame[["model", "nonemb_m"]].drop_duplicates().sort_values("nonemb_m")
        row = {**dict(zip(by, key, strict=True)), "n_scales": len(scales)}
        row["models"] = ", ".join(scales["model"])
        row["tasks"] = ", ".join(sorted(frame["task"].unique()))
        row["nonemb_min"] = float(scales["nonemb_m"].min()) if len(scales) else math.nan
        row["nonemb_max"] = float(scales["nonemb_m"].max()) if len(scales) else math.nan
        if len(scales) < 2 or scales["nonemb_m"].nunique() < 2:
            staged.append((row, None, ""))
            continue
        x, unit = _axis(scales["nonemb_m"].to_numpy())
        staged.append((row, _per_seed_slopes(frame, scales, x), unit))
    family = sum(1 for _, s, _ in staged if s is not None and s.size >= 3)
    rows = []
    for row, slopes, unit in staged:
        if slopes is None:
            row.update(slope=math.nan, ci_lo=math.nan, ci_hi=math.nan, ci_level=math.nan,
                       p=math.nan, p_adj=math.nan, family=0, decision="no trend",
                       significant=False, n_seeds=0,
                       x_unit="", statement="no trend can be estimated (fewer than two "
                       "rungs with different non-embedding sizes)")  # fmt: skip
            rows.append(row)
            continue
        r = seed_inference(slopes, family, alpha)
        mode, baseline = row.get("mode", "treatment"), row.get("baseline", "baseline")
        sentence = describe_seed_result(
            r,
            unit=unit,
            digits=2,
            positive=f"the gap ({mode} minus {baseline}) increases with scale by",
            negative=f"the gap ({mode} minus {baseline}) decreases with scale by",
            null="no significant trend with scale",
            estimate_name="slope",
            alpha=alpha,
            described="the slope is shown for description only",
        )
        res = _result_columns(r)
        row.update(slope=r.mean, **{k: res[k] for k in ("ci_lo", "ci_hi", "ci_level", "p",
                   "p_adj", "family", "decision", "significant")})  # fmt: skip
        row.update(n_seeds=r.n_seeds, x_unit=unit)
        row["statement"] = (
            f"{sentence}; measured over {row['n_scales']} rungs from {row['nonemb_min']:.1f} "
            f"to {row['nonemb_max']:.1f} M non-embedding parameters, not beyond"
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _readable_limits(ax, x: np.ndarray) -> None:
    """At least +-1 point of y range and a factor 2 of x range around a single rung."""
    lo, hi = ax.get_ylim()
    if hi - lo < 2.0:
        mid = (hi + lo) / 2
        ax.set_ylim(mid - 1.0, mid + 1.0)
    if len(x) and np.ptp(np.log(x)) == 0:
        ax.set_xlim(x[0] / 2, x[0] * 2)


def panel_cells(summary: pd.DataFrame, panel: str = "group") -> list[tuple[str, str]]:
    """The (setting, panel) pairs that get a panel: only those with rows.

    A setting run for one task family (e.g. a QA intermediate task on QA targets) would
    otherwise leave a row of empty axes in a settings-by-families grid.
    """
    return sorted(summary.groupby(["setting", panel]).groups)


NO_CI_LABEL = "hollow: fewer than 3 seeds, no interval (no inference)"


def _draw_cell(ax, cell: pd.DataFrame, colours: dict, offsets: dict, dashed: set) -> None:
    """One panel: each comparison's gap per rung with its interval, and the zero line.

    A point without an interval (fewer than three seeds: no inference) is drawn hollow,
    so that it does not read as a precise estimate.
    """
    for comp, part in cell.sort_values("nonemb_m").groupby("comparison"):
        x = part["nonemb_m"].to_numpy(float) * offsets[comp]
        y = part["mean"].to_numpy(float)
        err = np.vstack([y - part["ci_lo"], part["ci_hi"] - y])
        style = "--" if comp in dashed else "-"
        ax.errorbar(x, y, yerr=np.nan_to_num(err), capsize=3, color=colours[comp], ls=style)
        bare = part["ci_lo"].isna().to_numpy()
        ax.plot(x[~bare], y[~bare], "o", color=colours[comp])
        ax.plot(x[bare], y[bare], "o", color=colours[comp], mfc="white")
    ax.axhline(0.0, color="0.2", lw=0.9)
    ax.set_xscale("log")


def plot_gap_vs_scale(
    summary: pd.DataFrame,
    path: str | Path,
    *,
    panel: str = "group",
    title: str | None = None,
) -> list[Path]:
    """Plot gap vs non-embedding parameter count (log x axis), one panel per task family.

    Hue is the comparison (mode minus baseline); error bars are the summary's
    simultaneous interval (absent with fewer than three seeds: no inference);
    a solid line marks zero; the English-only vs ``none`` comparison is dashed. Tick
    labels carry short model names and sizes. With several settings, each panel is one
    (setting, family) pair that has rows, titled with both; each panel scales its own y axis.

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

    needed = ["model", "nonemb_m", "setting", "mode", "baseline", "mean", "ci_lo", "ci_hi", panel]
    missing = [c for c in needed if c not in summary.columns]
    if summary.empty or missing:
        raise ValueError(f"cannot plot: summary is empty or lacks columns {missing}")
    names = summary["mode"].map(lambda m: MODE_LABELS.get(m, m))
    bases = summary["baseline"].map(lambda m: MODE_LABELS.get(m, m))
    data = summary.assign(comparison=names + " \u2212 " + bases)
    # English-only vs none answers a different question (does intermediate training
    # help at all), so it is drawn dashed to keep it apart from the multilingual gaps.
    dashed = set(data.loc[data["baseline"] == "none", "comparison"])
    settings = sorted(data["setting"].unique())
    cells = panel_cells(data, panel)
    comparisons = sorted(data["comparison"].unique())
    colours = dict(zip(comparisons, sns.color_palette("colorblind", len(comparisons)), strict=True))
    short = data["model"].map(lambda m: SHORT_MODEL_NAMES.get(m, str(m).rsplit("/", 1)[-1]))
    ticks = short.groupby(data["nonemb_m"]).agg(lambda m: "/".join(sorted(set(m))))
    tick_labels = [f"{name}\n{p:g}M" for p, name in ticks.items()]
    # Small multiplicative offsets keep error bars of different hues apart on a log axis.
    offsets = {
        c: 10 ** (0.015 * (i - (len(comparisons) - 1) / 2)) for i, c in enumerate(comparisons)
    }
    ncols = min(4, len(cells))
    nrows = math.ceil(len(cells) / ncols)
    with sns.axes_style("whitegrid"):
        fig = Figure(figsize=(3.6 * ncols, 3.2 * nrows))
        # Not sharey: families differ in scale (a 36-language retrieval interval can span
        # 100 points), and one shared range would squeeze or clip the others.
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()  # same x ticks set on each
        for ax, (setting, name) in zip(axes, cells, strict=False):
            cell = data[(data["setting"] == setting) & (data[panel] == name)]
            _draw_cell(ax, cell, colours, offsets, dashed)
            ax.set_xticks(ticks.index.to_numpy(float), tick_labels, fontsize=7)
            ax.minorticks_off()
            _readable_limits(ax, ticks.index.to_numpy(float))
            if len(ticks) > 1:  # every panel spans the whole ladder, even with one rung drawn
                ax.set_xlim(ticks.index.min() / 1.3, ticks.index.max() * 1.3)
            ax.set_title(f"{name}" + (f" ({setting})" if len(settings) > 1 else ""))
            ax.set_ylabel("gap (points)")
            ax.set_xlabel("non-embedding parameters (M, log scale)", fontsize=8)
        for ax in axes[len(cells) :]:
            ax.set_visible(False)
        handles = [
            Line2D([], [], color=colours[k], marker="o", ls="--" if k in dashed else "-", label=k)
            for k in comparisons
        ]
        if data["ci_lo"].isna().any():
            handles.append(
                Line2D([], [], color="0.3", marker="o", mfc="white", ls="", label=NO_CI_LABEL)
            )
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
    nonemb_m: Mapping[str, float] | None = None,
    tasks: Sequence[str] = ("xnli",),
    modes: Sequence[str] = ("english+translated",),
    setting: str = "mnli",
    intermediate_gain: float = 1.0,
    lang_sd: float = 3.0,
    seed_sd: float = 0.0,
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
        nonemb_m: Non-embedding parameter count (millions) per model (the scale axis);
            defaults to the total count.
        params_m: Parameter count (millions) per model; defaults to
            ``xtreme.REFERENCE_MODELS`` for known names.
        tasks: XTREME target tasks to generate.
        modes: Multilingual modes that receive the gap.
        setting: Intermediate setting of the trained rows.
        intermediate_gain: True gap of English-only intermediate training over ``none``.
        lang_sd: Standard deviation of the per-language level (shared by all modes, so
            it cancels in the paired gaps, as in real data).
        seed_sd: Standard deviation of a per-run shift shared by all languages of that
            run (a lucky seed lifts every language at once), the noise a language-level
            test ignores and a seed-level test must carry.

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
                noise_draw += rng.normal(0.0, seed_sd, (1, n_seeds))
                frames.append(
                    pd.DataFrame(
                        {
                            "model": model,
                            "params_m": float(size),
                            "nonemb_m": float((nonemb_m or {}).get(model, size)),
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
