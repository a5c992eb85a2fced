"""Analysis (``30_analysis.ipynb``): every finished run → the analysis bundle.

The bundle (``<run_dir>/bundle/``) is the only input of the HTML index and the paper
(showyourwork style: numbers come from files). Files::

    scores.csv          per (model, setting, mode, seed, task, lang) score (long format)
    task_scores.csv     mean over languages, then seeds
    xtreme.csv          mean over the target tasks present, per model/setting/mode
    claims.json         the nine seed claims checked against published numbers and this run
    references.json     what the seed's three references are and what they bear on
    scale_summary.csv   gap (multilingual − English-only, and English-only − none) per scale
    scale_group.csv     the same per task family; scale_language.csv per language
    scale_trend.csv     slope of the gap against log10(parameters)
    costs.csv           wall time and device-hours per run
    runs.csv            every run with its HTML report
    published_v1.csv    the paper's v1 Table 2 (absolute), for side-by-side tables
    provenance.json     git commit, profile, versions, run ids
    figures/            gap_vs_scale.png
"""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from xstilts import io, paths, runs, xtreme
from xstilts.run_params import AnalysisRunParams

SCALE_NOTE = {
    "mini": "scale axis = layer-truncated multilingual-e5-small (3/6/12 layers), the offline "
    "stand-in for mBERT / XLM-R base / XLM-R large; data are mini-XTREME (synthetic tasks, "
    "real parallel text)",
    "smoke": "smoke test: a tiny random encoder; numbers are meaningless",
    "full": "scale axis = mBERT-base, XLM-R base, XLM-R large",
}


@dataclass
class Bundle:
    """The analysis results held in memory before writing."""

    dir: Path
    tables: dict
    claims: list
    references: list
    provenance: dict


def _score_rows(p: AnalysisRunParams, section: str, extra: tuple[str, ...]) -> pd.DataFrame:
    """One row per (finished target run, language) of ``metrics.json[section]``."""
    rows = []
    for d in p.target_dirs:
        m = runs.read_metrics(d)
        if m.get("status") != "ok":
            continue
        cell = {
            k: m.get(k) for k in ("model", "params_m", "setting", "mode", "seed", "task", "group")
        }
        for lang, s in (m.get(section) or {}).items():
            rows.append({**cell, "lang": lang, "score": s["score"], **{k: s.get(k) for k in extra}})
    return pd.DataFrame(rows)


def collect(p: AnalysisRunParams) -> pd.DataFrame:
    """Long score table from every finished target run's ``metrics.json``."""
    return _score_rows(p, "per_language", ("f1", "exact_match"))


def collect_real(p: AnalysisRunParams) -> pd.DataFrame:
    """Scores on the real annotated test sets (mini: Turkish POS, Japanese NER).

    They are kept apart from the per-language table so task averages stay over the
    parallel languages.
    """
    return _score_rows(p, "real_test_sets", ("n",))


def task_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean over languages per seed, then mean over seeds (XTREME per-task score)."""
    keys = ["model", "params_m", "setting", "mode", "task"]
    per_seed = scores.groupby([*keys, "seed"], as_index=False).agg(
        score=("score", "mean"), n_langs=("lang", "nunique")
    )
    return per_seed.groupby(keys, as_index=False).agg(
        score=("score", "mean"), n_langs=("n_langs", "max"), n_seeds=("seed", "nunique")
    )


def xtreme_avg(tasks: pd.DataFrame) -> pd.DataFrame:
    """Mean over the target tasks present (the XTREME score when all nine ran)."""
    return tasks.groupby(["model", "params_m", "setting", "mode"], as_index=False).agg(
        avg=("score", "mean"), n_tasks=("task", "nunique")
    )


def _cost_rows(p: AnalysisRunParams) -> list[dict]:
    out = []
    for d in [p.data_dir, *p.intermediate_dirs, *p.target_dirs]:
        d = Path(d)
        m = runs.read_metrics(d)
        stamp = io.read_json(d / runs.STAMP) if (d / runs.STAMP).exists() else {}
        wall = stamp.get("elapsed_s", m.get("wall_s", 0.0))
        device = m.get("device", "cpu")
        out.append(
            {
                "phase": m.get("phase", d.parent.name),
                "run_id": d.name,
                "model": m.get("model", ""),
                "setting": m.get("setting", ""),
                "task": m.get("task", ",".join(m.get("tasks", []))),
                "status": m.get("status", "ok"),
                "wall_s": round(wall, 2),
                "device": device,
                "precision": m.get("precision", ""),  # fp32 | bf16 (training/eval runs)
                "device_hours": round(wall / 3600, 5) if device == "cuda" else 0.0,
                "cpu_hours": round(wall / 3600, 5) if device != "cuda" else 0.0,
            }
        )
    return out


def _run_links(p: AnalysisRunParams) -> list[dict]:
    out = []
    for d in [p.data_dir, *p.intermediate_dirs, *p.target_dirs, p.run_dir]:
        d = Path(d)
        out.append(
            {
                "phase": d.parent.name,
                "run_id": d.name,
                "title": d.name,
                "html_path": str(d / "report.html"),
            }
        )
    return out


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=paths.ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def provenance(p: AnalysisRunParams) -> dict:
    """Git commit, profile, package versions and run ids."""
    import importlib.metadata as md

    versions = {}
    for pkg in ("torch", "transformers", "datasets", "accelerate", "seqeval", "papermill"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "not installed"
    return {
        "git_commit": _git("rev-parse", "HEAD") or "unknown",
        "git_dirty": bool(_git("status", "--porcelain")),
        "profile": p.profile,
        "profile_file": p.profile_file,
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions,
        "code_version": runs.code_version(),
        "run_ids": [Path(d).name for d in [p.data_dir, *p.intermediate_dirs, *p.target_dirs]],
        "scale_note": SCALE_NOTE.get(p.profile, "custom profile"),
    }


def run_context(p: AnalysisRunParams, scores: pd.DataFrame) -> dict:
    """Setup facts of this run for the setup claims."""
    inter = [runs.read_metrics(d) for d in p.intermediate_dirs]
    main = main_model(scores)
    names = {m["model"]: m["model_name"] for m in inter}
    tasks = sorted({t for m in inter for t in m.get("tasks", [])})
    phases = (
        ["pretrained"] + (["intermediate"] if inter else []) + (["target"] if p.target_dirs else [])
    )
    return {
        "base_model": names.get(main, main),
        "profile": p.profile,
        "scale": p.profile if p.profile in ("mini", "smoke") else "full",
        "phases": phases,
        "n_intermediate_tasks": len(tasks),
        "intermediate_tasks": tasks,
        "models": sorted(scores["model"].unique()) if len(scores) else [],
    }


def main_model(scores: pd.DataFrame) -> str:
    """The largest model of the run (the one compared with the paper's XLM-R Large)."""
    if not len(scores):
        return ""
    return scores.sort_values("params_m").iloc[-1]["model"]


def analyse(scores: pd.DataFrame, p: AnalysisRunParams) -> Bundle:
    """Compute every table of the bundle (nothing is written yet)."""
    from xstilts import acceptance, claims, scale_study

    out = Path(p.run_dir) / "bundle"
    tasks = task_scores(scores) if len(scores) else pd.DataFrame()
    tables = {
        "scores": scores,
        "task_scores": tasks,
        "xtreme": xtreme_avg(tasks) if len(tasks) else pd.DataFrame(),
    }
    main = main_model(scores)
    run_table = (
        tasks[tasks["model"] == main][["setting", "mode", "task", "score"]] if len(tasks) else None
    )
    context = run_context(p, scores)
    claim_results = claims.verify_claims(run_table, context)
    tables["published_v1"] = claims.published_task_table("v1", "dev")
    if len(scores) and scores["model"].nunique() >= 1:
        gaps = scale_study.compute_gaps(scores)
        if len(gaps):
            summary = scale_study.summarise_scale_study(gaps, n_boot=2000)
            ci = {"ci_lo": "lo", "ci_hi": "hi"}  # the bundle contract names the interval lo/hi
            tables["scale_summary"] = summary["task"].rename(columns=ci)
            tables["scale_group"] = summary["group"].rename(columns=ci)
            tables["scale_language"] = summary["language"]
            tables["scale_trend"] = scale_study.scale_trend(gaps, n_boot=2000).rename(columns=ci)
            (out / "figures").mkdir(parents=True, exist_ok=True)
            scale_study.plot_gap_vs_scale(summary["group"], out / "figures" / "gap_vs_scale.png")
    tables["acceptance"] = acceptance.check(scores, p.profile)
    real = collect_real(p)
    if len(real):
        tables["real_test_sets"] = real
    tables["costs"] = pd.DataFrame(_cost_rows(p))
    tables["runs"] = pd.DataFrame(_run_links(p))
    return Bundle(out, tables, claim_results, claims.check_references(), provenance(p))


def show(bundle: Bundle):
    """Display the main tables in the notebook (a log; the index page is the report)."""
    from IPython.display import Image, Markdown, display

    t = bundle.tables
    if len(t["task_scores"]):
        display(Markdown("### Task scores (mean over languages and seeds)"))
        display(
            t["task_scores"]
            .pivot_table(index=["model", "setting", "mode"], columns="task", values="score")
            .round(1)
        )
    display(Markdown("### Claims"))
    display(
        pd.DataFrame(
            [
                {
                    "id": c["id"],
                    "claim": c["claim"][:70],
                    "published": c["published"]["status"],
                    "run": c["run"]["status"],
                }
                for c in bundle.claims
            ]
        )
    )
    if "scale_group" in t:
        display(Markdown("### Scale study (gap per task family)"))
        cols = [
            c
            for c in (
                "model",
                "params_m",
                "mode",
                "baseline",
                "group",
                "mean",
                "lo",
                "hi",
                "p",
                "statement",
            )
            if c in t["scale_group"].columns
        ]
        display(t["scale_group"][cols].round(3))
    fig = bundle.dir / "figures" / "gap_vs_scale.png"
    if fig.exists():
        display(Image(filename=str(fig)))


def write_results(bundle: Bundle, p: AnalysisRunParams) -> dict:
    """Write the bundle files atomically, then ``metrics.json``."""
    bundle.dir.mkdir(parents=True, exist_ok=True)
    for name, frame in bundle.tables.items():
        io.atomic_write_text(bundle.dir / f"{name}.csv", frame.to_csv(index=False))
    io.atomic_write_json(bundle.dir / "claims.json", bundle.claims)
    io.atomic_write_json(bundle.dir / "references.json", bundle.references)
    io.atomic_write_json(bundle.dir / "provenance.json", bundle.provenance)
    xt = bundle.tables["xtreme"]
    m = {
        "phase": "analysis",
        "status": "ok",
        "bundle": str(bundle.dir),
        "n_scores": len(bundle.tables["scores"]),
        "claims": {
            c["id"]: {"published": c["published"]["status"], "run": c["run"]["status"]}
            for c in bundle.claims
        },
        "xtreme": xt.to_dict(orient="records") if len(xt) else [],
        "targets": list(xtreme.TARGET_TASKS),
    }
    runs.write_metrics(p.run_dir, m)
    return m
