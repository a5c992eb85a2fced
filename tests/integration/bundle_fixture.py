"""An analysis bundle built by the REAL analysis from simulated run records.

``simulate_run_store`` writes a run store as the pipeline leaves it: a data run, one
intermediate run per (model, setting, mode, seed) and one target run per (model,
setting, mode, seed, task), each with a ``metrics.json`` in the schema of
``phases/target.py:write_results`` (``per_language``, ``average``, ``dev_per_language``,
``dev_average``, ``parameters``, ...), a ``DONE`` stamp and a ``report.html``.
``make_fake_bundle`` then runs ``phases.analysis.collect / analyse / write_results`` on it,
so the report and paper tests see exactly what the pipeline would give them.

The truth is known: :data:`TRUE_GAP` is the multilingual-minus-English gap of every cell,
:data:`DEV_OFFSET` shifts dev scores by setting, so the dev-selected best setting differs
from the test maximum on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from xstilts import xtreme
from xstilts.phases import analysis
from xstilts.run_params import AnalysisRunParams

# label -> (total, embedding) parameters; the non-embedding part is the scale axis
MODELS = {"e5-L3": (101_500_000, 96_200_000), "e5-L12": (117_500_000, 96_200_000)}
SETTINGS = ["none", "mnli", "squad_v1"]
MODES = ["english", "translated", "english+mlm"]
SEEDS = [0, 1, 2]
TASKS = ["xnli", "udpos", "bucc2018", "tatoeba"]
ONLY_ON = {"udpos": ["e5-L12"]}  # like mini: POS on the largest rung only
N_LANGS = 3
TASK_BASE = {"xnli": 60.0, "udpos": 55.0, "bucc2018": 40.0, "tatoeba": 70.0}
SETTING_GAIN = {"none": 0.0, "mnli": 2.0, "squad_v1": -1.0}
# (mode, model) -> true gap over English-only intermediate training, same setting
TRUE_GAP = {
    ("translated", "e5-L3"): 1.0,
    ("translated", "e5-L12"): -20.0,
    ("english+mlm", "e5-L3"): 0.0,
    ("english+mlm", "e5-L12"): 0.0,
}
DEV_OFFSET = {"none": 0.0, "mnli": -4.0, "squad_v1": 4.0}
NOISE = 0.5  # per (language, run)
SEED_SD = 0.3  # per run, shared by its languages


def _write(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1))


def _finish(run_dir: Path, metrics: dict) -> None:
    _write(run_dir / "metrics.json", metrics)
    _write(
        run_dir / "DONE", {"finished": "2026-06-30T12:00:00", "elapsed_s": 12.5, "resumed": False}
    )
    (run_dir / "report.html").write_text(f"<html><body><h1>{run_dir.name}</h1></body></html>")


def _params(model: str) -> dict:
    total, emb = MODELS[model]
    return {"total": total, "embedding": emb, "non_embedding": total - emb}


def _cells(model: str, task: str):
    if model not in ONLY_ON.get(task, [model]):
        return
    for setting in SETTINGS:
        for mode in ["english"] if setting == "none" else MODES:
            for seed in SEEDS:
                yield setting, mode, seed


def _target_metrics(model, setting, mode, seed, task, rng, real: bool) -> dict:
    spec = xtreme.TARGET_TASKS[task]
    langs = list(spec.languages[:N_LANGS])
    size = 0.0 if model == "e5-L3" else 5.0
    mean = TASK_BASE[task] + size + SETTING_GAIN[setting] + TRUE_GAP.get((mode, model), 0.0)
    run_shift = rng.normal(0.0, SEED_SD)
    per_lang, dev_lang = {}, {}
    for i, lang in enumerate(langs):
        score = round(float(mean + 2.0 * i + run_shift + rng.normal(0.0, NOISE)), 4)
        per_lang[lang] = {"score": score, "n": 100}
        dev_lang[lang] = {"score": round(score + DEV_OFFSET[setting], 4)}
    m = {
        "phase": "target",
        "status": "ok",
        "model": model,
        "model_name": f"mini-{model}",
        "params_m": round(MODELS[model][0] / 1e6, 2),
        "parameters": _params(model),
        "setting": setting,
        "mode": mode,
        "seed": seed,
        "task": task,
        "group": spec.group,
        "metric": spec.metric,
        "languages": langs,
        "per_language": per_lang,
        "average": {"score": float(np.mean([v["score"] for v in per_lang.values()]))},
        "real_test_sets": {"tr": {"score": round(mean - 20.0, 2), "n": 50}} if real else {},
        "device": "cpu",
        "wall_s": 12.5,
    }
    if spec.train_task:  # retrieval tasks have no dev selection of their own
        m["dev_per_language"] = dev_lang
        m["dev_average"] = {"score": float(np.mean([v["score"] for v in dev_lang.values()]))}
    return m


def simulate_run_store(root: str | Path, *, seed: int = 20200527) -> AnalysisRunParams:
    """Write the simulated run store under ``root`` and return the analysis parameters."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    data_dir = root / "data" / "data-0"
    _finish(data_dir, {"phase": "data", "status": "ok"})
    inter_dirs, target_dirs = [], []
    for model in MODELS:
        for setting in SETTINGS[1:]:
            for mode in MODES:
                for s in SEEDS:
                    d = root / "intermediate" / f"{model}-{setting}-{mode}-s{s}"
                    _finish(d, {"phase": "intermediate", "status": "ok", "model": model,
                                "model_name": f"mini-{model}", "setting": setting,
                                "mode": mode, "seed": s, "tasks": [setting]})  # fmt: skip
                    inter_dirs.append(str(d))
        for task in TASKS:
            for setting, mode, s in _cells(model, task):
                d = root / "target" / f"{model}-{setting}-{mode}-s{s}-{task}"
                real = task == "udpos"
                _finish(d, _target_metrics(model, setting, mode, s, task, rng, real))
                target_dirs.append(str(d))
    return AnalysisRunParams(
        run_dir=str(root / "analysis" / "analysis-0"),
        profile="mini",
        profile_file="params/mini.yaml",
        data_dir=str(data_dir),
        intermediate_dirs=inter_dirs,
        target_dirs=target_dirs,
    )


def make_fake_bundle(directory: str | Path, *, profile: str = "mini") -> Path:
    """Simulate a run store in ``directory``, run the real analysis, return the bundle folder."""
    p = simulate_run_store(Path(directory) / "runs")
    p.profile = profile
    scores = analysis.collect(p)
    bundle = analysis.analyse(scores, p)
    analysis.write_results(bundle, p)
    (Path(p.run_dir) / "report.html").write_text("<html><body>analysis</body></html>")
    return bundle.root
