r"""The paper PDF, rendered only from an analysis bundle.

``render_paper`` turns the bundle into LaTeX: ``macros.tex`` holds every result number as a
``\newcommand`` whose name is derived from the data (``\GainSquadVOneXnli``), and the
templates in ``paper/*.tex.j2`` (tables, ``main.tex``) use those macros or numbers formatted
here, never a number typed by hand. ``build_pdf`` runs latexmk.

Usage::

    python -m xstilts.paper runs/analysis/<run_id>        # render + build paper/build/paper.pdf

or from Python::

    from xstilts import paper
    paper.build_pdf(paper.render_paper("runs/analysis/<run_id>"))
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from xstilts import io, paths, real_text, report
from xstilts.bundle import Bundle
from xstilts.report import ZERO

TEMPLATES = (
    "macros.tex.j2",
    "table_main.tex.j2",
    "table_claims.tex.j2",
    "table_scale.tex.j2",
    "table_real.tex.j2",
    "provenance.tex.j2",
    "main.tex.j2",
)
STATIC_FILES = ("refs.bib",)
LATEX_LOG_TAIL = 40  # lines of the log shown when the build fails

_DIGITS = "Zero One Two Three Four Five Six Seven Eight Nine".split()
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "−": r"\ensuremath{-}",
    "–": "--",
    "—": "---",
    "×": r"\ensuremath{\times}",
    "✓": r"\checkmark{}",
    "✗": r"\ensuremath{\times}",
    "≥": r"\ensuremath{\geq}",
    "≤": r"\ensuremath{\leq}",
    "±": r"\ensuremath{\pm}",
    "→": r"\ensuremath{\rightarrow}",
    "…": r"\ldots{}",
    "“": "``",
    "”": "''",
    "’": "'",
    "‘": "`",
}


class PaperBuildError(RuntimeError):
    """The LaTeX toolchain is missing or latexmk failed (the message has the log tail)."""


# --------------------------------------------------------------------------- LaTeX helpers


def latex_escape(value: object) -> str:
    """Escape text for LaTeX body text.

    Characters outside Latin-1 without a LaTeX spelling become ``?``, because pdflatex
    with T1 fonts would otherwise stop on them.
    """
    out = []
    for char in str(value):
        if char in _LATEX_SPECIAL:
            out.append(_LATEX_SPECIAL[char])
        elif ord(char) < 256:
            out.append(char)
        else:
            out.append("?")
    return "".join(out)


def macro_name(*parts: object) -> str:
    """Build a LaTeX macro name (letters only) from data values.

    Words are capitalised and joined; digits are spelled out because TeX control words
    cannot contain them: ``macro_name("Gain", "squad_v1", "xnli") == "GainSquadVOneXnli"``.
    """
    words = []
    for part in parts:
        for token in re.split(r"[^A-Za-z0-9]+", str(part)):
            token = re.sub(r"\d", lambda d: _DIGITS[int(d.group())], token)
            words.append(token[:1].upper() + token[1:])
    name = "".join(words)
    if not name.isalpha():
        raise ValueError(f"cannot build a macro name from {parts!r}")
    return name


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt(value: object, digits: int = 1) -> str:
    """Format a number for LaTeX (``--`` when missing)."""
    return "--" if _missing(value) else f"{float(value):.{digits}f}"


def signed(value: object, digits: int = 1) -> str:
    r"""Format a signed number with a proper minus sign (``+3.1``, ``\ensuremath{-}0.8``)."""
    if _missing(value):
        return "--"
    text = report.signed_text(value, digits)
    return text.replace("-", r"\ensuremath{-}")


def verb(value: float, lo: float | None = None, hi: float | None = None) -> str:
    """Choose "improves" / "hurts" / "does not change" from a gain and optional CI.

    With a confidence interval the verb follows whether it excludes zero; without one, a
    gain that rounds to 0.0 counts as no change.
    """
    if lo is not None and hi is not None:
        return "improves" if lo > 0 else ("hurts" if hi < 0 else "does not change")
    return "improves" if value >= ZERO else ("hurts" if value <= -ZERO else "does not change")


TREND_WORDS = {
    "increase": "increases with size",
    "decrease": "decreases with size",
    "not significant": "shows no significant trend",
    "no inference": "is not tested (fewer than 3 seeds)",
    "no trend": "has no trend estimate (fewer than two rungs)",
}


def trend_word(decision: str) -> str:
    """Describe a slope by the analysis's decision (the same rule as its statement)."""
    return TREND_WORDS.get(str(decision), "is not tested")


def latex_env() -> Environment:
    r"""Jinja2 environment whose delimiters do not clash with TeX braces.

    ``\BLOCK{...}`` for statements, ``\VAR{...}`` for expressions, ``\#{...}`` for comments.
    """
    env = Environment(
        loader=FileSystemLoader(paths.PAPER),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        undefined=StrictUndefined,
    )
    env.filters.update(
        latex_escape=latex_escape, e=latex_escape, fmt=fmt, signed=signed, size=report.size_text
    )
    env.globals.update(mac=lambda *parts: "\\" + macro_name(*parts))
    return env


# --------------------------------------------------------------------------- macros


@dataclass(frozen=True)
class Macro:
    r"""One ``\newcommand``: a name from ``macro_name`` and LaTeX-ready content."""

    name: str
    value: str
    comment: str = ""


class MacroSet:
    """Ordered macros with a uniqueness check (two data values must not share a name)."""

    def __init__(self) -> None:
        self.items: dict[str, Macro] = {}

    def add(self, parts: Iterable[object], value: str, comment: str = "") -> None:
        """Add a macro named from ``parts``; raise on a name clash."""
        name = macro_name(*parts)
        if name in self.items:
            raise ValueError(f"macro \\{name} defined twice ({comment!r})")
        self.items[name] = Macro(name, value, comment)

    def text(self, parts: Iterable[object], value: object, comment: str = "") -> None:
        """Add a macro holding escaped text."""
        self.add(parts, latex_escape(value), comment)


def _english(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["mode"] == "english"]


def _setup_macros(ms: MacroSet, bundle: Bundle) -> None:
    ts = bundle.task_scores
    inter = [s for s in bundle.settings if s != "none"]
    ms.text(["Profile"], bundle.profile)
    ms.text(["PrimaryModel"], bundle.primary_model)
    ms.add(["PrimaryParams"], fmt(bundle.params[bundle.primary_model]), "million parameters")
    ms.add(["NumModels"], str(len(bundle.models)))
    ms.add(["NumTasks"], str(len(bundle.tasks)))
    ms.add(["NumInterSettings"], str(len(inter)), "settings other than none")
    ms.add(["NumModes"], str(ts["mode"].nunique()))
    ms.add(["NumSeeds"], str(int(ts["n_seeds"].max())) if "n_seeds" in ts else "--")
    n_langs = bundle.scores["lang"].nunique() if bundle.scores is not None else ts["n_langs"].max()
    ms.add(["NumLangs"], str(int(n_langs)))
    ms.text(["ModelList"], ", ".join(bundle.models))
    ms.add(["MinParams"], fmt(min(bundle.params.values())))
    ms.add(["MaxParams"], fmt(max(bundle.params.values())))
    ms.text(["TaskList"], ", ".join(bundle.tasks))
    ms.text(["ModeList"], ", ".join(report.mode_order(ts["mode"].unique())))


def _model_macros(ms: MacroSet, bundle: Bundle, model: str, prefix: str) -> None:
    # prefix "" for the primary model (short names used in prose), the model name otherwise.
    avgs = _english(report.add_avg_gains(bundle.xtreme))
    avgs = avgs[(avgs["model"] == model)].set_index("setting")
    if "none" in avgs.index:
        ms.add([prefix, "BaselineAvg"], fmt(avgs.loc["none", "avg"]), f"{model} XTREME avg, none")
    inter = avgs.drop(index="none", errors="ignore").dropna(subset=["gain"])
    if inter.empty:
        return
    best, worst = inter["gain"].idxmax(), inter["gain"].idxmin()
    ms.text([prefix, "BestSetting"], best)
    ms.add([prefix, "BestGain"], signed(inter.loc[best, "gain"]), f"{model} best avg gain")
    ms.add([prefix, "BestGainAbs"], fmt(abs(inter.loc[best, "gain"])))
    ms.add([prefix, "BestAvg"], fmt(inter.loc[best, "avg"]))
    ms.text([prefix, "BestVerb"], verb(inter.loc[best, "gain"]))
    ms.text([prefix, "WorstSetting"], worst)
    ms.add([prefix, "WorstGain"], signed(inter.loc[worst, "gain"]))
    ms.text([prefix, "WorstVerb"], verb(inter.loc[worst, "gain"]))
    ms.add([prefix, "NumImproving"], str(int((inter["gain"] >= ZERO).sum())))
    for setting, row in inter.iterrows():
        ms.add([prefix, "AvgGain", setting], signed(row["gain"]))


def _cell_macros(ms: MacroSet, bundle: Bundle) -> None:
    # Every cell of the primary model's main table, so prose and table share one number.
    gains = _english(report.add_gains(bundle.task_scores))
    gains = gains[gains["model"] == bundle.primary_model]
    for row in gains.itertuples():
        ms.add(["Score", row.setting, row.task], fmt(row.score))
        if row.setting != "none":
            ms.add(["Gain", row.setting, row.task], signed(row.gain))
    avgs = _english(report.add_avg_gains(bundle.xtreme))
    for row in avgs[avgs["model"] == bundle.primary_model].itertuples():
        ms.add(["Score", row.setting, "avg"], fmt(row.avg))
        if row.setting != "none":
            ms.add(["Gain", row.setting, "avg"], signed(row.gain))
    _dev_macros(ms, bundle)


def _dev_macros(ms: MacroSet, bundle: Bundle) -> None:
    # Our dev scores: the side compared with v1 Table 2, which holds dev numbers.
    ts = _english(bundle.task_scores)
    ts = ts[(ts["model"] == bundle.primary_model)].dropna(subset=["dev_score"])
    if ts.empty:
        return
    gains = report.add_gains(ts.assign(score=ts["dev_score"]))
    for row in gains.itertuples():
        ms.add(["DevScore", row.setting, row.task], fmt(row.score))
        if row.setting != "none":
            ms.add(["DevGain", row.setting, row.task], signed(row.gain))
    tasks = _avg_tasks(bundle)
    # A dev average only where every task of the test average has a dev score: an
    # average over fewer tasks would not compare with v1's average over these tasks.
    covered = gains[gains["task"].isin(tasks)].groupby("setting")["task"].nunique()
    full = covered[covered == len(tasks)].index
    avg = gains[gains["task"].isin(tasks) & gains["setting"].isin(full)]
    avg = avg.groupby("setting")["score"].mean()
    if "none" in avg.index:
        for setting, value in avg.items():
            if setting == "none":
                ms.add(["DevScore", "none", "avg"], fmt(value))
            else:
                ms.add(["DevGain", setting, "avg"], signed(value - avg["none"]))


def _avg_tasks(bundle: Bundle) -> list[str]:
    """The tasks the average covers (those every compared row has)."""
    if bundle.xtreme.empty:
        return []
    text = str(bundle.xtreme["avg_tasks"].iloc[0])
    return [t.strip() for t in text.split(",") if t.strip() and text != "nan"]


def _task_macros(ms: MacroSet, bundle: Bundle) -> None:
    gains = _english(report.add_gains(bundle.task_scores))
    gains = gains[(gains["model"] == bundle.primary_model) & (gains["setting"] != "none")]
    for task, group in gains.groupby("task"):
        ms.add(["MeanGain", task], signed(group["gain"].mean()), "mean over intermediate settings")
        ms.add(["NumPositive", task], str(int((group["gain"] >= ZERO).sum())))
        ms.add(["NumNegative", task], str(int((group["gain"] <= -ZERO).sum())))
        best = group.loc[group["gain"].idxmax()]
        ms.text(["BestSettingFor", task], best["setting"])
        ms.add(["BestGainFor", task], signed(best["gain"]))
        ms.text(["MeanVerb", task], verb(group["gain"].mean()))


def _published_macros(ms: MacroSet, bundle: Bundle) -> None:
    if bundle.published is None or bundle.published.empty:
        return
    # Every v1 cell, but v1's average over the same tasks as ours, so the Avg columns compare
    tasks = _avg_tasks(bundle)
    cells = _english(report.published_with_gains(bundle.published))
    shared = bundle.published[bundle.published["task"].isin(tasks)] if tasks else bundle.published
    pub = _english(report.published_with_gains(shared))
    pub = pd.concat([cells[cells["task"] != "avg"], pub[pub["task"] == "avg"]], ignore_index=True)
    for row in pub.itertuples():
        ms.add(["PubScore", row.setting, row.task], fmt(row.score))
        if row.setting != "none":
            ms.add(["PubGain", row.setting, row.task], signed(row.gain))
    avg = pub[(pub["task"] == "avg") & (pub["setting"] != "none")].set_index("setting")
    if not avg.empty:
        best = avg["gain"].idxmax()
        ms.text(["PubBestSetting"], best)
        ms.add(["PubBestGain"], signed(avg.loc[best, "gain"]))
        ms.add(["PubNumImproving"], str(int((avg["gain"] >= ZERO).sum())))
        ms.add(["PubNumSettings"], str(len(avg)))


def _claim_macros(ms: MacroSet, bundle: Bundle) -> None:
    ms.add(["NumClaims"], str(len(bundle.claims)))
    for side in ("published", "run"):
        for status, n in report.claim_counts(bundle.claims, side).items():
            ms.add(["Claims", side, status], str(n))


def scale_key(row) -> tuple:
    """Macro-name parts of one trend row: unique per setting, baseline, mode and group."""
    return (row.setting, row.mode, "vs", row.baseline, row.group)


def _scale_macros(ms: MacroSet, bundle: Bundle) -> None:
    if bundle.scale_trend is None:
        return
    for row in bundle.scale_trend.itertuples():
        key = scale_key(row)
        ms.add(["ScaleSlope", *key], signed(row.slope, 2))
        ms.text(["ScaleTrend", *key], row.statement)
        ms.text(["ScaleTrendVerb", *key], trend_word(row.decision))


def _cost_macros(ms: MacroSet, bundle: Bundle, timing: dict | None) -> None:
    phases, total = report.cost_summary(bundle.costs)
    if not total:
        return
    ms.add(["NumRuns"], str(total["runs"]))
    if timing:
        # The pipeline's own record of its last execution (cli writes it), not a guess
        # from the run files, which only say that a run finished.
        ms.add(["NumRunsRan"], str(int(timing["runs_executed"])))
        ms.add(["NumRunsPlanned"], str(int(timing["runs_total"])))
    ms.add(["TotalWallHours"], fmt(total["wall_h"], 2))
    ms.add(["TotalDeviceHours"], fmt(total["device_hours"], 2))
    for phase in phases:
        ms.add(["DeviceHours", phase["phase"]], fmt(phase["device_hours"], 2))


def build_macros(bundle: Bundle, timing: dict | None = None) -> MacroSet:
    """Derive every result macro of the paper from the bundle (and the pipeline timing)."""
    ms = MacroSet()
    _setup_macros(ms, bundle)
    _model_macros(ms, bundle, bundle.primary_model, "")
    for model in bundle.models:
        if model != bundle.primary_model:
            _model_macros(ms, bundle, model, model)
    _cell_macros(ms, bundle)
    _task_macros(ms, bundle)
    _published_macros(ms, bundle)
    _claim_macros(ms, bundle)
    _scale_macros(ms, bundle)
    _cost_macros(ms, bundle, timing)
    real_text.add_paper_macros(ms, real_text.section(bundle))
    return ms


# --------------------------------------------------------------------------- table contexts


def _main_table(bundle: Bundle, macros: MacroSet) -> dict:
    # Rows: ours (primary model, English mode, test), our dev scores, and v1 underneath
    # where v1 has the setting. v1 Table 2 holds dev numbers, so it is compared with our
    # dev row; without dev scores the caption says the comparison is test vs dev.
    ours = set(_english(bundle.task_scores).query("model == @bundle.primary_model")["setting"])
    dev = bundle.has_dev
    pub = set() if bundle.published is None else set(_english(bundle.published)["setting"])
    rows = []
    for setting in report.setting_order(ours | pub):
        for source, prefix, present in (
            ("ours", "", setting in ours),
            ("ours, dev", "Dev", dev and setting in ours and bool(pub)),
            ("v1", "Pub", setting in pub),
        ):
            if not present:
                continue
            kind = "Score" if setting == "none" else "Gain"
            cells = []
            for task in [*bundle.tasks, "avg"]:
                name = macro_name(prefix + kind, setting, task)
                cells.append("\\" + name if name in macros.items else "--")
            rows.append(
                dict(
                    setting=setting,
                    source=source,
                    cells=cells,
                    first=source == "ours" or setting not in ours,
                )
            )
    return dict(rows=rows, has_published=bool(pub), dev=dev, avg_tasks=_avg_tasks(bundle))


def _scale_table(bundle: Bundle) -> dict | None:
    # The same keyed table as the HTML page (setting, baseline, mode, group, model).
    return report.scale_table(bundle)


def _status_rows(bundle: Bundle) -> list[dict]:
    return [
        dict(
            id=c.get("id", "?"),
            claim=c.get("claim", ""),
            seed_verified=bool(c.get("seed_verified")),
            seed_confidence=c.get("seed_confidence"),
            seed_mark_note=c.get("seed_mark_note", "the seed's own mark"),
            sides={
                side: dict(
                    status=str((c.get(side) or {}).get("status", "not checkable")),
                    compared=report.describe((c.get(side) or {}).get("compared")),
                    reason=(c.get(side) or {}).get("reason") or "",
                )
                for side in ("published", "run")
            },
        )
        for c in bundle.claims
    ]


# --------------------------------------------------------------------------- rendering


def _facts(bundle: Bundle) -> dict:
    # Raw values used only to choose wording and sections, never printed.
    avgs = _english(report.add_avg_gains(bundle.xtreme))
    inter = avgs[(avgs["model"] == bundle.primary_model) & (avgs["setting"] != "none")]
    best = None if inter["gain"].dropna().empty else float(inter["gain"].max())
    gains = _english(report.add_gains(bundle.task_scores))
    gains = gains[(gains["model"] == bundle.primary_model) & (gains["setting"] != "none")]
    retrieval = gains[gains["task"].isin(["bucc2018", "tatoeba"])]["gain"].dropna()
    n_seeds = int(bundle.task_scores["n_seeds"].max()) if len(bundle.task_scores) else 0
    return dict(
        best_gain=best,
        worst_gain=None if best is None else float(inter["gain"].min()),
        zero=ZERO,
        best_changes=best is not None and abs(best) >= ZERO,
        n_tasks=len(bundle.tasks),
        n_seeds=n_seeds,
        # the direction of the retrieval gains, to word the sentence after the data
        retrieval_sign=_sign_class(retrieval),
    )


def _sign_class(gains: pd.Series) -> str | None:
    """``positive`` / ``negative`` / ``zero`` (all round to 0.0) / ``mixed`` / None (empty)."""
    if gains.empty:
        return None
    if (gains.abs() < ZERO).all():
        return "zero"
    if (gains >= ZERO).all():
        return "positive"
    return "negative" if (gains <= -ZERO).all() else "mixed"


def _figures(bundle: Bundle, fig_dir: Path) -> dict:
    fig_dir.mkdir(parents=True, exist_ok=True)
    figures = {"heatmap": None, "scale": None}
    matrix = report.gain_matrix(bundle, bundle.primary_model)
    if not matrix.empty:
        report.draw_gain_heatmap(matrix, "", fig_dir / "gains_heatmap.png")
        figures["heatmap"] = "figures/gains_heatmap.png"
    if bundle.scale_figure is not None:
        shutil.copyfile(bundle.scale_figure, fig_dir / "gap_vs_scale.png")
        figures["scale"] = "figures/gap_vs_scale.png"
    return figures


def _one_decimal(value: float) -> str:
    return "--" if pd.isna(value) else f"{value:.1f}"


def _real_table(bundle: report.Bundle) -> dict | None:
    """Scores on the real annotated test sets as LaTeX-ready strings (one decimal)."""
    table = report.real_test_table(bundle)
    if table is None:
        return None
    return dict(
        columns=list(table.columns),
        rows=[
            dict(model=k[0], setting=k[1], mode=k[2], cells=[_one_decimal(v) for v in row])
            for k, row in table.iterrows()
        ],
    )


def render_paper(bundle_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> Path:
    """Render the paper's LaTeX sources from an analysis bundle.

    Writes ``macros.tex``, ``table_main.tex``, ``table_claims.tex``, ``table_scale.tex``,
    ``provenance.tex``, ``main.tex``, ``refs.bib`` and ``figures/`` into ``out_dir``, which
    is then a self-contained LaTeX project.

    Args:
        bundle_dir: Analysis bundle folder.
        out_dir: Output folder (default ``paper/generated/``).

    Returns:
        ``out_dir``.
    """
    out_dir = Path(out_dir or paths.paper_generated())
    bundle = report.load_bundle(bundle_dir)
    timing = report.pipeline_timing(paths.report_dir(), bundle.profile)
    macros = build_macros(bundle, timing)
    context = dict(
        bundle=bundle,
        prov=bundle.provenance,
        macros=list(macros.items.values()),
        has=lambda *parts: macro_name(*parts) in macros.items,
        tasks=bundle.tasks,
        settings=[s for s in bundle.settings if s != "none"],
        main=_main_table(bundle, macros),
        claims=_status_rows(bundle),
        scale=_scale_table(bundle),
        trend=[]
        if bundle.scale_trend is None
        else [
            dict(r, key=scale_key(t))
            for r, t in zip(
                bundle.scale_trend.to_dict("records"), bundle.scale_trend.itertuples(), strict=True
            )
        ],  # fmt: skip
        figures=_figures(bundle, out_dir / "figures"),
        other_models=[m for m in bundle.models if m != bundle.primary_model],
        facts=_facts(bundle),
        timing=timing or {},
        zero=ZERO,
        task_facts=[
            dict(task=t) for t in bundle.tasks if macro_name("MeanGain", t) in macros.items
        ],
        real=_real_table(bundle),
        real_text=real_text.section(bundle),
        key=real_text.cell_key,
        acceptance=[]
        if bundle.acceptance is None
        else bundle.acceptance.fillna("").to_dict("records"),
    )
    env = latex_env()
    for name in TEMPLATES:
        text = env.get_template(name).render(**context)
        io.atomic_write_text(out_dir / name.removesuffix(".j2"), text)
    for name in STATIC_FILES:
        shutil.copyfile(paths.PAPER / name, out_dir / name)
    return out_dir


def _log_tail(build_dir: Path, output: str) -> str:
    log = build_dir / "paper.log"
    lines = log.read_text(errors="replace").splitlines() if log.is_file() else output.splitlines()
    return "\n".join(lines[-LATEX_LOG_TAIL:])


def build_pdf(
    out_dir: str | os.PathLike | None = None,
    build_dir: str | os.PathLike | None = None,
) -> Path:
    """Compile ``out_dir/main.tex`` with latexmk into ``build_dir/paper.pdf``.

    Args:
        out_dir: Folder written by ``render_paper``.
        build_dir: latexmk output folder (default ``paper/build/``).

    Returns:
        Path of the PDF.

    Raises:
        PaperBuildError: latexmk is not installed, or the build failed (with the log tail).
    """
    if shutil.which("latexmk") is None:
        raise PaperBuildError(
            "latexmk not found: run scripts/setup-system.sh to install the LaTeX toolchain"
        )
    out_dir = Path(out_dir or paths.paper_generated()).resolve()
    build_dir = Path(build_dir or paths.paper_build()).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        "latexmk",
        "-pdf",
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-file-line-error",
        f"-outdir={build_dir}",
        "-jobname=paper",
        "main.tex",
    ]
    # BIBINPUTS: bibtex runs on the aux file in build_dir and must still find refs.bib.
    env = {**os.environ, "BIBINPUTS": f"{out_dir}{os.pathsep}"}
    proc = subprocess.run(cmd, cwd=out_dir, env=env, capture_output=True, text=True, timeout=600)
    pdf = build_dir / "paper.pdf"
    if proc.returncode != 0 or not pdf.is_file():
        raise PaperBuildError(
            f"latexmk failed (exit {proc.returncode}) in {out_dir}; last lines of the log:\n"
            + _log_tail(build_dir, proc.stdout + proc.stderr)
        )
    return pdf


def main(argv: list[str] | None = None) -> Path:
    """Command line: render the paper from a bundle and build the PDF."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="analysis bundle folder (runs/analysis/<run_id>)")
    parser.add_argument("--out", default=str(paths.paper_generated()), help="rendered LaTeX folder")
    parser.add_argument("--build", default=str(paths.paper_build()), help="latexmk output folder")
    args = parser.parse_args(argv)
    pdf = build_pdf(render_paper(args.bundle, args.out), args.build)
    print(pdf)
    return pdf


if __name__ == "__main__":
    main()
