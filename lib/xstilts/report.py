"""HTML index report, rendered only from an analysis bundle.

An *analysis bundle* is the folder ``30_analysis.ipynb`` writes; its schema is
:mod:`xstilts.bundle`. This module loads it, derives the views both the HTML page and
the paper need (gains against the ``none`` setting, the gain matrix, cost totals), draws
the heatmaps and renders ``templates/index.html.j2``. No number is typed here.

Usage::

    from xstilts import report
    report.render_index("runs/analysis/<run_id>", paths.report_dir() / "index.html")
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from xstilts import bundle as bundle_schema
from xstilts import claims as claims_statuses
from xstilts import io, paths, real_text, xtreme
from xstilts.bundle import (  # noqa: F401  (re-exported: report.setting_order etc.)
    MODE_ORDER,
    SETTING_ORDER,
    STAND_IN_PROFILES,
    Bundle,
    mode_order,
    order_key,
    setting_order,
    task_order,
)

STATUS_ORDER = tuple(claims_statuses.STATUSES)
ZERO = 0.05  # |gain| below this rounds to 0.0 at one decimal: "does not change"


def load_bundle(bundle_dir: str | os.PathLike) -> Bundle:
    """Load an analysis bundle (:func:`xstilts.bundle.load`)."""
    return bundle_schema.load(bundle_dir)


# --------------------------------------------------------------------------- derived views


def _baseline_mode(frame: pd.DataFrame) -> pd.DataFrame:
    # `none` has no intermediate data, so its mode is nominal; prefer `english` when
    # several were recorded so every gain has one well-defined reference.
    none = frame[frame["setting"] == "none"]
    if none.empty:
        return none
    best = none["mode"].map(lambda m: 0 if m == "english" else 1)
    return none.assign(order_key=best).sort_values("order_key", kind="stable")


def add_gains(task_scores: pd.DataFrame) -> pd.DataFrame:
    """Return ``task_scores`` with a ``gain`` column: score minus the ``none`` score.

    The reference is the same model (when a ``model`` column exists) and task with
    setting ``none``; rows without a reference get ``NaN``.
    """
    keys = [k for k in ("model", "task") if k in task_scores.columns]
    base = _baseline_mode(task_scores).drop_duplicates(keys)[[*keys, "score"]]
    merged = task_scores.merge(base.rename(columns={"score": "_base"}), on=keys, how="left")
    return merged.assign(gain=merged["score"] - merged["_base"]).drop(columns="_base")


def add_avg_gains(xtreme_avg: pd.DataFrame) -> pd.DataFrame:
    """Return ``xtreme.csv`` rows with ``gain``: the XTREME average minus that of ``none``."""
    base = _baseline_mode(xtreme_avg).drop_duplicates("model")[["model", "avg"]]
    merged = xtreme_avg.merge(base.rename(columns={"avg": "_base"}), on="model", how="left")
    return merged.assign(gain=merged["avg"] - merged["_base"]).drop(columns="_base")


def published_with_gains(published: pd.DataFrame) -> pd.DataFrame:
    """Published v1 task table with gains and an ``avg`` pseudo-task (mean over tasks)."""
    avg = published.groupby(["setting", "mode"], as_index=False)["score"].mean()
    table = pd.concat([published, avg.assign(task="avg")], ignore_index=True)
    return add_gains(table)


def main_rows(bundle: Bundle) -> list[dict]:
    """Rows of the main results table: one per (model, setting, mode).

    Returns:
        Dicts with ``model``, ``params_m``, ``setting``, ``mode``, ``cells`` (task ->
        ``{"score", "gain", "few_seeds"}``; ``few_seeds`` is the cell's seed count when
        below the study's most, else None), ``avg`` and ``avg_gain``.
    """
    gains = add_gains(bundle.task_scores)
    avgs = add_avg_gains(bundle.xtreme).set_index(["model", "setting", "mode"])
    most = int(gains["n_seeds"].max()) if len(gains) else 0
    # A cell with fewer seeds than the study (a budget's target.restrict) is marked, so a
    # one-seed mean is not read as a replicated one.
    cells = {
        key: {
            r.task: {
                "score": r.score,
                "gain": r.gain,
                "few_seeds": int(r.n_seeds) if int(r.n_seeds) < most else None,
            }
            for r in group.itertuples()
        }
        for key, group in gains.groupby(["model", "setting", "mode"])
    }
    rows = []
    for model in bundle.models:
        for setting in bundle.settings:
            for mode in mode_order(gains.loc[gains["setting"] == setting, "mode"]):
                if (model, setting, mode) not in cells:
                    continue
                avg = (
                    avgs.loc[(model, setting, mode)]
                    if (model, setting, mode) in avgs.index
                    else None
                )
                rows.append(
                    dict(
                        model=model,
                        params_m=bundle.params[model],
                        setting=setting,
                        mode=mode,
                        cells=cells[(model, setting, mode)],
                        avg=None if avg is None else avg["avg"],
                        avg_gain=None if avg is None else avg["gain"],
                        avg_note="" if avg is None else avg_note(avg),
                    )
                )
    return rows


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def avg_note(row: Any) -> str:
    """What an XTREME-average cell covers: the tasks a row lacks or that were left out."""
    parts = []
    if _text(row["lacks"]):
        parts.append(f"lacks {row['lacks']}")
    if _text(row["left_out"]):
        parts.append(f"{row['left_out']} not averaged (other rows of the table lack them)")
    return "; ".join(parts)


def scale_table(bundle: Bundle) -> dict | None:
    """The scale table: one row per (setting, baseline, mode, group), one cell per model.

    Cells are looked up by the full key (setting, baseline, mode, group, model), so two
    settings can never overwrite each other's cells. ``bold`` is the table's decision
    (Bonferroni-adjusted p < 0.05, the simultaneous interval excludes 0).
    """
    frame = bundle.scale_group
    if frame is None or frame.empty:
        return None
    models = [m for m in bundle.models if m in set(frame["model"])]
    key_cols = ["setting", "baseline", "mode", "group"]
    cells = {
        (*(getattr(r, k) for k in key_cols), r.model): r for r in frame.itertuples(index=False)
    }
    trend = {}
    if bundle.scale_trend is not None:
        trend = {tuple(getattr(r, k) for k in key_cols): r for r in bundle.scale_trend.itertuples()}
    order = list(xtreme.TASK_GROUPS)
    keys = sorted(
        {k[:4] for k in cells},
        key=lambda k: (
            order_key(list(SETTING_ORDER), k[0]),
            k[1] != "english",
            order_key(list(MODE_ORDER), k[2]),
            order_key(order, k[3]),
        ),
    )
    rows = [
        dict(
            setting=k[0],
            baseline=k[1],
            mode=k[2],
            group=k[3],
            cells=[cells.get((*k, m)) for m in models],
            trend=trend.get(k),
        )
        for k in keys
    ]
    level = float(frame["ci_level"].dropna().iloc[0]) if frame["ci_level"].notna().any() else None
    trend_level, x_unit = None, ""
    if bundle.scale_trend is not None and bundle.scale_trend["ci_level"].notna().any():
        trend_level = float(bundle.scale_trend["ci_level"].dropna().iloc[0])
    if bundle.scale_trend is not None:
        units = [u for u in bundle.scale_trend["x_unit"] if _text(u)]
        x_unit = units[0] if units else ""
    return dict(
        trend_level=trend_level,
        x_unit=x_unit,
        models=[(m, bundle.nonemb.get(m), bundle.params.get(m)) for m in models],
        rows=rows,
        ci_level=level,
        n_seeds=int(frame["n_seeds"].max()),
        has_trend=bool(trend),
    )


def dev_comparison(bundle: Bundle) -> dict | None:
    """Our dev scores (primary model, English mode) beside v1 Table 2, which holds dev numbers.

    Returns ``None`` without published numbers; ``rows`` is empty when the run recorded
    no dev scores (the template then says the comparison cannot be made).
    """
    if bundle.published is None or bundle.published.empty:
        return None
    ours = bundle.task_scores
    ours = ours[(ours["model"] == bundle.primary_model) & (ours["mode"] == "english")]
    ours = ours.dropna(subset=["dev_score"])
    rows = []
    if len(ours):
        dev = ours.assign(score=ours["dev_score"])[["setting", "mode", "task", "score"]]
        gains = add_gains(dev)
        for setting, group in gains.groupby("setting"):
            rows.append(dict(setting=setting, cells={r.task: r for r in group.itertuples()}))
        rows.sort(key=lambda r: order_key(list(SETTING_ORDER), r["setting"]))
    return dict(model=bundle.primary_model, tasks=bundle.tasks, rows=rows)


def gain_matrix(bundle: Bundle, model: str, mode: str = "english") -> pd.DataFrame:
    """Gains of one model: intermediate setting (rows) x target task (columns)."""
    gains = add_gains(bundle.task_scores)
    sel = gains[(gains["model"] == model) & (gains["mode"] == mode) & (gains["setting"] != "none")]
    matrix = sel.pivot_table(index="setting", columns="task", values="gain")
    return matrix.reindex(index=setting_order(matrix.index), columns=task_order(matrix.columns))


def language_tables(bundle: Bundle) -> dict[str, pd.DataFrame]:
    """Per-language scores (mean over seeds), one table per task.

    Returns:
        Task -> table indexed by (model, setting, mode), one column per language.
    """
    if bundle.scores is None or bundle.scores.empty:
        return {}
    per_lang = bundle.scores.groupby(["task", "model", "setting", "mode", "lang"])["score"].mean()
    tables = {}
    for task in task_order(bundle.scores["task"].unique()):
        table = per_lang.loc[task].unstack("lang")
        langs = list(xtreme.TARGET_TASKS[task].languages) if task in xtreme.TARGET_TASKS else []
        table = table[sorted(table.columns, key=lambda lang: order_key(langs, lang))]
        order = [
            (m, s, md)
            for m in bundle.models
            for s in bundle.settings
            for md in MODE_ORDER
            + tuple(sorted(set(table.index.get_level_values(2)) - set(MODE_ORDER)))
            if (m, s, md) in table.index
        ]
        tables[task] = table.loc[order]
    return tables


def real_test_table(bundle: Bundle) -> pd.DataFrame | None:
    """Scores on the real annotated test sets (mean over seeds).

    Returns:
        A table indexed by (model, setting, mode) with one ``task:lang`` column per set,
        or ``None`` when the bundle has none.
    """
    real = bundle.real_test_sets
    if real is None or real.empty:
        return None
    real = real.assign(column=real["task"] + ":" + real["lang"])
    table = real.pivot_table(
        index=["model", "setting", "mode"], columns="column", values="score", aggfunc="mean"
    )
    order = sorted(
        table.index,
        key=lambda k: (
            bundle.params.get(k[0], 0.0),
            order_key(list(SETTING_ORDER), k[1]),
            order_key(list(MODE_ORDER), k[2]),
        ),
    )
    return table.loc[order]


TIMING_FILE = "pipeline_timing.json"
TIMING_HISTORY = 200  # executions kept in the timing file


def pipeline_timing(report_dir: Path, profile: str, run_ids: set[str] | None = None) -> dict | None:
    """Wall time of the last pipeline execution that ran something and of the current results.

    Args:
        report_dir: Folder of the timing file (``cli.record_execution``).
        profile: Profile of the bundle; a file of another profile is ignored.
        run_ids: Runs behind the current results (the bundle's cost rows).

    Returns:
        The last execution's fields (``wall_s``, ``runs_executed``...) plus
        ``results_wall_s`` (end-to-end wall time summed over the executions
        that finished any of those runs), ``results_executions``, ``results_runs_covered``
        (runs of ``run_ids`` those executions finished) and ``results_runs``; ``None``
        without a file.
    """
    path = Path(report_dir) / TIMING_FILE
    if not path.is_file():
        return None
    timing = io.read_json(path)
    if timing.get("profile") != profile:
        return None
    run_ids = run_ids or set()
    made = [e for e in timing.get("executions", []) if run_ids & set(e.get("run_ids", []))]
    covered = set().union(*(set(e["run_ids"]) for e in made)) & run_ids if made else set()
    timing.update(
        results_wall_s=sum(float(e["wall_s"]) for e in made),
        results_executions=len(made),  # 0: the template shows the last execution only
        results_runs_covered=len(covered),
        results_runs=len(run_ids),
    )
    return timing


def _devices(frame: pd.DataFrame) -> str:
    """Devices with the precision their numbers came from, e.g. ``cpu, cpu bf16``."""
    precision = frame["precision"] if "precision" in frame else pd.Series("", index=frame.index)
    pairs = zip(frame["device"].fillna("").astype(str), precision.fillna("").astype(str))
    return ", ".join(sorted({f"{d} {p}".strip() for d, p in pairs if d}))


def last_execution_ids(timing: dict | None) -> set[str] | None:
    """Run ids the pipeline's last recorded execution finished (``cli.record_execution``)."""
    executions = (timing or {}).get("executions") or []
    return set(executions[-1].get("run_ids", [])) if executions else None


def cost_summary(
    costs: pd.DataFrame | None, executed: set[str] | None = None
) -> tuple[list[dict], dict]:
    """Wall time and device-hours per phase, plus the total.

    Args:
        costs: The bundle's cost rows.
        executed: Run ids the last pipeline execution finished (from its own record);
            ``None`` when there is no record, and ``ran`` is then ``None``.

    Returns:
        ``(per_phase, total)``; each entry has ``phase``, ``runs``, ``ran`` (runs of the
        phase the last execution finished), ``wall_h``, ``device_hours`` and ``devices``
        (device and precision, ``cpu bf16``).
    """
    if costs is None or costs.empty:
        return [], {}
    rows = []
    for phase, frame in [*costs.groupby("phase", sort=False), ("total", costs)]:
        ids = set(frame["run_id"].astype(str))
        rows.append(
            dict(
                phase=str(phase),
                runs=int(len(frame)),
                ran=None if executed is None else len(ids & executed),
                wall_h=float(frame["wall_s"].sum()) / 3600,
                device_hours=float(frame["device_hours"].sum()),
                devices=_devices(frame),
            )
        )
    return rows[:-1], rows[-1]


def claim_counts(claims: list[dict], side: str) -> dict[str, int]:
    """Count claims per status on one side (``published`` or ``run``)."""
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for claim in claims:
        status = str((claim.get(side) or {}).get("status", "not checkable"))
        counts[status] = counts.get(status, 0) + 1
    return counts


def describe(value: Any, digits: int = 2) -> str:
    """Plain-text form of a ``compared`` value (number, string, list or dict)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {describe(v, digits)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(describe(v, digits) for v in value)
    return str(value)


def slug(text: str) -> str:
    """File-name-safe form of a model name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "model"


# --------------------------------------------------------------------------- figures


def draw_gain_heatmap(matrix: pd.DataFrame, title: str, path: Path) -> Path:
    """Draw a diverging heatmap of gains (blue = gain, red = loss) and save it as PNG.

    Args:
        matrix: Setting x task gains (``gain_matrix``).
        title: Figure title.
        path: Output PNG.

    Returns:
        The PNG path.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; never open a display
    import matplotlib.pyplot as plt
    import seaborn as sns

    matrix = matrix.round(1) + 0.0  # annotations: no "-0.0"
    limit = max(1.0, float(matrix.abs().max().max()) if matrix.size else 1.0)
    width = 1.6 + 0.75 * max(3, matrix.shape[1])
    height = 1.2 + 0.42 * max(3, matrix.shape[0])
    fig, ax = plt.subplots(figsize=(width, height))
    sns.heatmap(
        matrix,
        ax=ax,
        cmap="RdBu",
        center=0.0,
        vmin=-limit,
        vmax=limit,
        annot=True,
        fmt="+.1f",
        annot_kws={"size": 8},
        linewidths=0.5,
        linecolor="white",
        cbar_kws={"label": "gain vs. no intermediate task (points)"},
    )
    ax.set_xlabel("target task")
    ax.set_ylabel("intermediate setting")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _heatmaps(bundle: Bundle, out_dir: Path) -> list[dict]:
    figures = []
    for model in bundle.models:
        matrix = gain_matrix(bundle, model)
        if matrix.empty:
            continue
        png = draw_gain_heatmap(
            matrix,
            f"{model}: gain per target task (English mode)",
            out_dir / f"gains_{slug(model)}.png",
        )
        figures.append(dict(model=model, src=png.name))
    return figures


# --------------------------------------------------------------------------- HTML


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.{digits}f}"


def signed_text(value: float, digits: int = 1) -> str:
    """Format with an explicit sign; a value that rounds to zero prints as ``+0.0``, not ``-0.0``."""
    rounded = round(float(value), digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:+.{digits}f}"


def size_text(value: Any) -> str:
    """Parameter count in millions: one decimal, or three significant digits below 1 M."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    value = float(value)
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.3g}"


def _signed(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return signed_text(value, digits).replace("-", "−")  # typographic minus


def _gain_style(value: Any, scale: float = 10.0) -> str:
    # Background opacity grows with |gain| up to `scale` points; blue gains, red losses,
    # the same convention as the heatmap's RdBu colour map.
    if value is None or (isinstance(value, float) and math.isnan(value)) or abs(value) < ZERO:
        return ""
    alpha = 0.12 + 0.55 * min(1.0, abs(float(value)) / scale)
    rgb = "33,102,172" if value > 0 else "178,24,43"
    return f"background-color: rgba({rgb},{alpha:.2f})"


def html_env() -> Environment:
    """Jinja2 environment for the HTML templates (autoescaping on)."""
    env = Environment(
        loader=FileSystemLoader(paths.TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        fmt=_fmt, signed=_signed, gain_style=_gain_style, describe=describe, size=size_text
    )
    return env


def _link(html_path: str, bundle: Bundle, out_dir: Path) -> tuple[str, bool]:
    # `html_path` is relative to one of: the index folder, the bundle, the run store.
    # The first that exists wins; the link is written relative to the index folder.
    path = Path(html_path)
    candidates = (
        [path]
        if path.is_absolute()
        else [out_dir / path, bundle.root / path, paths.runs_root() / path]
    )
    for candidate in candidates:
        if candidate.is_file():
            return Path(os.path.relpath(candidate.resolve(), out_dir.resolve())).as_posix(), True
    return path.as_posix(), False


def _run_links(bundle: Bundle, out_dir: Path) -> list[dict]:
    if bundle.runs is None:
        return []
    links = []
    for row in bundle.runs.itertuples():
        href, exists = _link(str(row.html_path), bundle, out_dir)
        links.append(
            dict(phase=row.phase, run_id=row.run_id, title=row.title, href=href, exists=exists)
        )
    return links


def _copy_scale_figure(bundle: Bundle, out_dir: Path) -> str | None:
    if bundle.scale_figure is None:
        return None
    target = out_dir / "figures" / bundle.scale_figure.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bundle.scale_figure, target)
    return target.relative_to(out_dir).as_posix()


def _what_ran(bundle: Bundle) -> dict:
    ts = bundle.task_scores
    return dict(
        models=[(m, bundle.params[m]) for m in bundle.models],
        settings=bundle.settings,
        modes=mode_order(ts["mode"].unique()),
        tasks=bundle.tasks,
        seeds=int(ts["n_seeds"].max()) if "n_seeds" in ts else None,
        fewest_seeds=int(ts["n_seeds"].min()) if "n_seeds" in ts else None,
        langs=int(bundle.scores["lang"].nunique()) if bundle.scores is not None else None,
    )


def _context(bundle: Bundle, out_dir: Path) -> dict:
    from xstilts import bench_unfrozen  # imports the pipeline, which imports this module

    run_ids = None if bundle.costs is None else set(bundle.costs["run_id"].astype(str))
    timing = pipeline_timing(out_dir, bundle.profile, run_ids)
    phases, total = cost_summary(bundle.costs, last_execution_ids(timing))
    rows = main_rows(bundle)
    published = None
    if bundle.published is not None and not bundle.published.empty:
        pub = published_with_gains(bundle.published)
        published = dict(
            tasks=[t for t in task_order(pub["task"]) if t != "avg"],
            rows=[
                dict(setting=s, mode=m, cells={r.task: r for r in g.itertuples()})
                for (s, m), g in pub.groupby(["setting", "mode"])
            ],
        )
        published["rows"].sort(
            key=lambda r: (setting_order(pub["setting"]).index(r["setting"]), r["mode"])
        )
    return dict(
        bundle=bundle,
        prov=bundle.provenance,
        unfrozen_check=bench_unfrozen.for_report(
            bundle.profile, bundle.provenance.get("disclosures") or []
        ),
        ran=_what_ran(bundle),
        claims=bundle.claims,
        counts={side: claim_counts(bundle.claims, side) for side in ("published", "run")},
        references=bundle.references,
        tasks=bundle.tasks,
        rows=rows,
        few_seeds_shown=any(c["few_seeds"] for r in rows for c in r["cells"].values()),
        published=published,
        heatmaps=_heatmaps(bundle, out_dir),
        lang_tables=language_tables(bundle),
        real_table=real_test_table(bundle),
        acceptance=None
        if bundle.acceptance is None
        else bundle.acceptance.fillna("").to_dict("records"),
        timing=timing,
        scale=scale_table(bundle),
        real_text=real_text.section(bundle),
        scale_tasks=None
        if bundle.scale_summary is None
        else bundle.scale_summary.to_dict("records"),
        trend=None if bundle.scale_trend is None else bundle.scale_trend.to_dict("records"),
        best=None if bundle.best_settings is None else bundle.best_settings.to_dict("records"),
        dev_compare=dev_comparison(bundle),
        avg_tasks=_text(bundle.xtreme["avg_tasks"].iloc[0]) if len(bundle.xtreme) else "",
        scale_figure=_copy_scale_figure(bundle, out_dir),
        cost_phases=phases,
        cost_total=total,
        costs=None if bundle.costs is None else bundle.costs.to_dict("records"),
        runs=_run_links(bundle, out_dir),
    )


def render_index(bundle_dir: str | os.PathLike, out_html: str | os.PathLike) -> Path:
    """Render the index page of a bundle, with its figures next to it.

    Args:
        bundle_dir: Analysis bundle folder.
        out_html: Target HTML file; heatmap PNGs and the scale figure go in its folder.

    Returns:
        The written HTML path.
    """
    out_html = Path(out_html)
    out_dir = out_html.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    bundle = load_bundle(bundle_dir)
    html = html_env().get_template("index.html.j2").render(**_context(bundle, out_dir))
    return io.atomic_write_text(out_html, html)


def render_phase_html(
    executed_notebook: str | os.PathLike, out_html: str | os.PathLike, hide_code: bool = True
) -> Path:
    """Convert an executed notebook to standalone HTML (nbconvert Python API).

    The API is used rather than ``jupyter nbconvert`` because it avoids several seconds of
    process start-up per notebook.

    Args:
        executed_notebook: ``.ipynb`` written by papermill.
        out_html: Target HTML file.
        hide_code: Drop code inputs and prompts, keeping outputs and markdown.

    Returns:
        The written HTML path.
    """
    import nbformat

    notebook = nbformat.read(str(executed_notebook), as_version=4)
    body, _ = _html_exporter(hide_code).from_notebook_node(notebook)
    return io.atomic_write_text(out_html, body)


@functools.cache
def _html_exporter(hide_code: bool):
    """The nbconvert HTML exporter of this worker process, built once.

    Building one loads and compiles its templates (0.26 to 0.33 s measured on 2 cores), while
    converting a run's notebook with it takes 0.03 s, and the pipeline renders one per run.
    """
    from nbconvert import HTMLExporter

    return HTMLExporter(exclude_input=hide_code, exclude_input_prompt=hide_code)
