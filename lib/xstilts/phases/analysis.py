"""Analysis (``30_analysis.ipynb``): every finished run → the analysis bundle.

The bundle (``<run_dir>/bundle/``) is the only input of the HTML index and the paper
(showyourwork style: numbers come from files). Its schema, one typed dataclass with the
columns of every table, is :mod:`xstilts.bundle`; this module only computes the tables.
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
from pathlib import Path

import pandas as pd

from xstilts import bundle as bundle_schema
from xstilts import io, paths, runs, xtreme
from xstilts.bundle import Bundle
from xstilts.run_params import AnalysisRunParams

SCALE_NOTE = {
    "mini": "scale axis = non-embedding parameters of layer-truncated multilingual-e5-small "
    "(3/6/12 layers), the offline stand-in for mBERT / XLM-R base / XLM-R large; data are "
    "mini-XTREME (synthetic tasks, real parallel text)",
    "smoke": "smoke test: a tiny random encoder; numbers are meaningless",
    "full": "scale axis = non-embedding parameters of mBERT-base, XLM-R base, XLM-R large",
}
RUN_KEYS = ("model", "params_m", "nonemb_m", "setting", "mode", "seed", "task", "group")
NO_DEV_NOTE = (
    "no dev scores recorded: the best setting cannot be selected on dev, and a maximum "
    "over test scores would be biased, so none is selected"
)


def _millions(count) -> float:
    return round(count / 1e6, 2) if count else math.nan


def _run_cell(m: dict) -> dict:
    """The keys of one target run; the scale axis is its non-embedding parameter count."""
    cell = {k: m.get(k) for k in RUN_KEYS if k != "nonemb_m"}
    params = m.get("parameters") or {}
    cell["nonemb_m"] = _millions(params.get("non_embedding")) if isinstance(params, dict) else None
    if cell["nonemb_m"] is None or math.isnan(cell["nonemb_m"]):
        cell["nonemb_m"] = cell["params_m"]  # an old record without the split: total count
    return cell


def task_records(m: dict) -> list[dict]:
    """One metrics record per task a target run scored.

    A shared fine-tune (XQuAD's run also scores MLQA: ``xtreme.SHARED_FINETUNE``) keeps
    the other task's scores under ``also``; each becomes a record of its own, so every
    table has separate XQuAD and MLQA rows.
    """
    base = {k: v for k, v in m.items() if k != "also"}
    return [base, *({**base, **extra} for extra in (m.get("also") or {}).values())]


def _score_rows(p: AnalysisRunParams, section: str, extra: tuple[str, ...]) -> pd.DataFrame:
    """One row per (finished target run, language) of ``metrics.json[section]``."""
    rows = []
    for m in (r for d in p.target_dirs for r in task_records(runs.read_metrics(d))):
        if m.get("status") != "ok":
            continue
        cell = _run_cell(m)
        dev = m.get("dev_per_language") or {}
        run_dev = (m.get("dev_average") or {}).get("score", math.nan)
        for lang, s in (m.get(section) or {}).items():
            rows.append(
                {
                    **cell,
                    "lang": lang,
                    "score": s["score"],
                    "dev_score": (dev.get(lang) or {}).get("score", math.nan),
                    "run_dev_avg": run_dev,
                    **{k: s.get(k) for k in extra},
                }
            )
    return pd.DataFrame(rows)


def collect(p: AnalysisRunParams) -> pd.DataFrame:
    """Long score table from every finished target run's ``metrics.json``.

    ``score`` is the test score; ``dev_score`` the same language's dev score and
    ``run_dev_avg`` the run's dev average (``dev_per_language`` / ``dev_average``), NaN
    where the run recorded none.
    """
    return _score_rows(p, "per_language", ("f1", "exact_match"))


def collect_real(p: AnalysisRunParams) -> pd.DataFrame:
    """Scores on the real annotated test sets (mini: Turkish POS, Japanese NER).

    They are kept apart from the per-language table so task averages stay over the
    parallel languages.
    """
    return _score_rows(p, "real_test_sets", ("n",))


def task_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean over languages per seed, then mean over seeds (XTREME per-task score).

    ``dev_score`` is the mean over seeds of each run's dev average (NaN without dev).
    """
    keys = ["model", "params_m", "nonemb_m", "setting", "mode", "task"]
    per_seed = scores.groupby([*keys, "seed"], as_index=False).agg(
        score=("score", "mean"), dev_score=("run_dev_avg", "first"), n_langs=("lang", "nunique")
    )
    return per_seed.groupby(keys, as_index=False).agg(
        score=("score", "mean"),
        dev_score=("dev_score", lambda v: v.mean() if v.notna().all() else math.nan),
        n_langs=("n_langs", "max"),
        n_seeds=("seed", "nunique"),
    )


def xtreme_avg(tasks: pd.DataFrame) -> pd.DataFrame:
    """Mean over the tasks *every* compared row has, with what each row lacks.

    A comparison of averages over different task sets compares task mixes, not models
    (in mini the smaller rungs skip POS and NER). So ``avg`` covers the tasks common to
    all (model, setting, mode) rows (``avg_tasks``); ``lacks`` lists the tasks of the
    union a row does not have, ``left_out`` the tasks a row has that the average omits.
    """
    keys = ["model", "params_m", "setting", "mode"]
    sets = tasks.groupby(keys)["task"].agg(frozenset)
    common = frozenset.intersection(*sets) if len(sets) else frozenset()
    union = frozenset.union(*sets) if len(sets) else frozenset()
    shown = ", ".join(bundle_schema.task_order(common))
    rows = []
    for key, frame in tasks.groupby(keys):
        own = set(frame["task"])
        used = frame[frame["task"].isin(common)]
        dev = used["dev_score"]
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "avg": used["score"].mean() if len(used) else math.nan,
                "dev_avg": dev.mean() if len(dev) and dev.notna().all() else math.nan,
                "n_tasks": len(used),
                "avg_tasks": shown,
                "lacks": ", ".join(bundle_schema.task_order(union - own)),
                "left_out": ", ".join(bundle_schema.task_order(own - common)),
            }
        )
    return pd.DataFrame(rows, columns=list(bundle_schema.TABLES["xtreme"]))


def best_settings(tasks: pd.DataFrame) -> pd.DataFrame:
    """Best intermediate (setting, mode) per (model, task), chosen on dev, scored on test.

    The paper picks its best model per target task (claim 5). Picking the maximum of
    many test scores and reporting it is biased upwards, so the choice uses the dev
    score and the reported number is the chosen row's test score. Without dev scores
    for a task nothing is selected, and the note says why.
    """
    rows = []
    for (model, task), frame in tasks.groupby(["model", "task"]):
        base = frame.loc[frame["setting"] == "none", "score"]
        base_score = float(base.iloc[0]) if len(base) else math.nan
        cands = frame[frame["setting"] != "none"]
        row = {"model": model, "task": task, "baseline_score": base_score}
        if cands.empty:
            continue
        if cands["dev_score"].notna().all():
            best = cands.loc[cands["dev_score"].idxmax()]
            row.update(selected_on="dev", setting=best["setting"], mode=best["mode"],
                       dev_score=best["dev_score"], score=best["score"],
                       gain=best["score"] - base_score,
                       note=f"chosen on dev among {len(cands)} (setting, mode) rows")  # fmt: skip
        else:
            row.update(selected_on="not selected", setting="", mode="", dev_score=math.nan,
                       score=math.nan, gain=math.nan, note=NO_DEV_NOTE)  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows, columns=list(bundle_schema.TABLES["best_settings"]))


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
                # the run store's own record: DONE says whether the run resumed
                "status": ("resumed" if stamp.get("resumed") else "done")
                if stamp
                else m.get("status", "unfinished"),
                "result": m.get("status", ""),
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
        "disclosures": disclosures(p),
    }


def disclosures(p: AnalysisRunParams) -> list[str]:
    """Protocol deviations to state beside the numbers: from the profile and from the runs.

    The profile's settings (``params.disclosures``, e.g. frozen word embeddings) and what the
    phase-(ii) runs recorded: MLM co-training from a random head (the checkpoint had none)
    and translated budgets that differ from the English one.
    """
    from xstilts import params

    out = []
    if p.profile_file and Path(p.profile_file).exists():
        out += params.disclosures(params.load_profile(p.profile_file))
    inter = [runs.read_metrics(d) for d in p.intermediate_dirs]
    random_head = sorted(
        {m["model"] for m in inter if str(m.get("mlm_head", "")).startswith("random")}
    )
    if random_head:
        out.append(
            f"MLM co-training of {', '.join(random_head)} starts from a randomly initialised MLM "
            "head (the checkpoint has none); the paper continued the pretrained head."
        )
    out += sorted({w for m in inter for w in m.get("warnings", [])})
    return out


def run_context(p: AnalysisRunParams, scores: pd.DataFrame) -> dict:
    """Setup facts of this run for the setup claims."""
    inter = [runs.read_metrics(d) for d in p.intermediate_dirs]
    main = main_model(scores)
    names = {m["model"]: m["model_name"] for m in inter}
    tasks = sorted({t for m in inter for t in m.get("tasks", [])})
    phases = (
        ["pretrained"] + (["intermediate"] if inter else []) + (["target"] if p.target_dirs else [])
    )
    seeds = (
        scores[scores["model"] == main].groupby(["setting", "mode", "task"])["seed"].nunique()
        if len(scores)
        else pd.Series(dtype=int)
    )
    return {
        "base_model": names.get(main, main),
        "profile": p.profile,
        "phases": phases,
        "n_intermediate_tasks": len(tasks),
        "intermediate_tasks": tasks,
        "models": sorted(scores["model"].unique()) if len(scores) else [],
        # seeds of the main model's cells (the fewest): below 3 no direction is decided
        "n_seeds": int(seeds.min()) if len(seeds) else None,
        "n_seeds_max": int(seeds.max()) if len(seeds) else None,  # said beside the fewest
    }


def main_model(scores: pd.DataFrame) -> str:
    """The largest model of the run (the one compared with the paper's XLM-R Large)."""
    if not len(scores):
        return ""
    return scores.sort_values("params_m").iloc[-1]["model"]


def _scale_tables(scores: pd.DataFrame, out: Path) -> dict:
    """Scale-study tables (seed-level tests) and the gap figure."""
    from xstilts import scale_study

    gaps = scale_study.compute_gaps(scores[list(scale_study.SCORE_COLUMNS)])
    if not len(gaps):
        return {}
    summary = scale_study.summarise_scale_study(gaps)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    scale_study.plot_gap_vs_scale(summary["group"], out / "figures" / "gap_vs_scale.png")
    return {
        "scale_summary": summary["task"],
        "scale_group": summary["group"],
        "scale_language": summary["language"],
        "scale_trend": scale_study.scale_trend(gaps),
    }


def analyse(scores: pd.DataFrame, p: AnalysisRunParams) -> Bundle:
    """Compute every table of the bundle (nothing is written yet)."""
    from xstilts import acceptance, claims

    out = Path(p.run_dir) / "bundle"
    empty = pd.DataFrame(columns=list(bundle_schema.TABLES["task_scores"]))
    tasks = task_scores(scores) if len(scores) else empty
    main = main_model(scores)
    run_table = (
        tasks[tasks["model"] == main][["setting", "mode", "task", "score", "dev_score"]]
        if len(tasks)
        else None
    )
    real = collect_real(p)
    from xstilts import readout_depth

    layers = readout_depth.layer_table(p.target_dirs)  # retrieval score at every layer
    return Bundle(
        root=out,
        scores=scores if len(scores) else None,
        task_scores=tasks,
        xtreme=xtreme_avg(tasks)
        if len(tasks)
        else pd.DataFrame(columns=list(bundle_schema.TABLES["xtreme"])),
        best_settings=best_settings(tasks) if len(tasks) else None,
        claims=claims.verify_claims(run_table, run_context(p, scores)),
        references=claims.check_references(),
        provenance=provenance(p),
        published_v1=claims.published_task_table("v1", "dev"),
        acceptance=acceptance.check(scores, p.profile),
        real_test_sets=real if len(real) else None,
        retrieval_layers=layers if len(layers) else None,
        readout_depth=readout_depth.depth_effect(layers) if len(layers) else None,
        costs=pd.DataFrame(_cost_rows(p)),
        runs=pd.DataFrame(_run_links(p)),
        **(_scale_tables(scores, out) if len(scores) else {}),
    )


def show(bundle: Bundle):
    """Display the main tables in the notebook (a log; the index page is the report)."""
    from IPython.display import Image, Markdown, display

    if len(bundle.task_scores):
        display(Markdown("### Task scores (mean over languages and seeds)"))
        display(
            bundle.task_scores.pivot_table(
                index=["model", "setting", "mode"], columns="task", values="score"
            ).round(1)
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
    if bundle.scale_group is not None:
        display(Markdown("### Scale study (gap per task family, seed-level test)"))
        cols = ["setting", "baseline", "mode", "model", "nonemb_m", "group", "mean", "ci_lo",
                "ci_hi", "p_adj", "decision", "statement"]  # fmt: skip
        display(bundle.scale_group[cols].round(3))
    fig = bundle.scale_figure
    if fig is not None:
        display(Image(filename=str(fig)))


def write_results(bundle: Bundle, p: AnalysisRunParams) -> dict:
    """Write the bundle files atomically, then ``metrics.json``."""
    bundle_schema.write(bundle)
    xt = bundle.xtreme
    m = {
        "phase": "analysis",
        "status": "ok",
        "bundle": str(bundle.root),
        "n_scores": 0 if bundle.scores is None else len(bundle.scores),
        "claims": {
            c["id"]: {"published": c["published"]["status"], "run": c["run"]["status"]}
            for c in bundle.claims
        },
        "xtreme": xt.to_dict(orient="records") if len(xt) else [],
        "targets": list(xtreme.TARGET_TASKS),
    }
    runs.write_metrics(p.run_dir, m)
    return m
