"""Phase (ii) (``10_intermediate.ipynb``): intermediate-task training of the encoder.

One run trains one *setting* (a single intermediate task, or the multi-task mixture of all
configured tasks) in one *mode*:

- ``english``: the English training data only (the paper's main condition);
- ``translated``: machine-translated copies in the target languages only;
- ``english+translated``: both, pooled per task;
- ``english+mlm``: English data with multilingual MLM co-training as one more task of the
  examples-proportional mixture (paper v1 §2.3, α = 0.3 corpus).

The encoder is saved to ``<run_dir>/encoder`` (safetensors); heads are dropped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from xstilts import runs, xtreme
from xstilts.data import store
from xstilts.features import featurize, with_labels
from xstilts.heads import MultiTaskModel
from xstilts.models.encoder import count_parameters, load_encoder
from xstilts.phases import common
from xstilts.run_params import IntermediateRunParams
from xstilts.train import TrainResult, load_best, train


@dataclass
class Setup:
    """Everything ``run`` needs."""

    model: MultiTaskModel
    tokenizer: object
    specs: dict
    train_sets: dict
    dev_sets: dict
    sizes: dict
    device: str
    params: dict
    t0: float
    precision: str = "fp32"


def training_rows(p: IntermediateRunParams, data_root: Path, task: str) -> list[dict]:
    """Training rows of one intermediate task under the run's language mode."""
    english = store.read_split(data_root, task, "train", "en")
    translated = []
    n = p.translated_per_language
    for i, lang in enumerate(p.languages):
        rows = store.read_split(data_root, task, "train", lang)
        # Disjoint slices: language i gets items [i*n, (i+1)*n), so the translated set covers
        # as many distinct items as the English one instead of n copies of the same items.
        translated += rows[i * n : (i + 1) * n] if n else rows
    return {
        "english": english,
        "english+mlm": english,
        "translated": translated,
        "english+translated": english + translated,
    }[p.mode]


def setup(p: IntermediateRunParams) -> Setup:
    """Load the encoder and featurise the training data of the setting."""
    t0 = time.time()
    device = common.setup_device(p.device, p.threads)
    precision = common.check_precision(p.precision, device)
    data_root = store.dataset_dir(p.data_dir)
    encoder, tokenizer = load_encoder(p.model)
    max_len = p.train["max_seq_len"]
    cache = Path(p.run_dir) / "features"
    specs, train_sets, dev_sets, sizes = {}, {}, {}, {}
    for task in p.tasks:
        rows = training_rows(p, data_root, task)
        spec = with_labels(xtreme.task(task), rows)
        specs[task] = spec
        train_sets[task] = featurize(
            rows, spec, tokenizer, max_len, cache_dir=cache, seed=p.seed, progress=False
        )
        sizes[task] = len(rows)
        dev_sets[task] = {"en": store.read_split(data_root, task, "dev", "en")}
    if p.mode == "english+mlm":
        mlm_rows = [
            r for lang in p.mlm_languages for r in store.read_split(data_root, "mlm", "train", lang)
        ]
        specs["mlm"] = xtreme.task("mlm")
        train_sets["mlm"] = featurize(
            mlm_rows, specs["mlm"], tokenizer, max_len, cache_dir=cache, seed=p.seed, progress=False
        )
        sizes["mlm"] = len(mlm_rows)
    # Heads seeded by the run's seed: the same run gives the same result in any process.
    model = MultiTaskModel(encoder, specs, tokenizer=tokenizer, seed=p.seed)
    return Setup(
        model,
        tokenizer,
        specs,
        train_sets,
        dev_sets,
        sizes,
        device,
        count_parameters(encoder),
        t0,
        precision,
    )


def describe(s: Setup) -> None:
    """Print what will be trained."""
    print(f"device {s.device}; precision {s.precision}; encoder parameters {s.params}")
    for task, n in s.sizes.items():
        print(f"  {task}: {n} training examples, {len(s.train_sets[task])} features")


def run(s: Setup, p: IntermediateRunParams) -> TrainResult:
    """Train (resuming from ``checkpoint/`` if present), restore the best weights, save the encoder."""
    cfg = common.train_config(p.train, p.seed, s.device, s.precision)
    evaluate_fn = common.make_evaluate_fn(
        s.specs, s.tokenizer, p.train["max_seq_len"], precision=s.precision
    )
    result = train(s.model, s.train_sets, s.dev_sets, cfg, p.run_dir, evaluate_fn)
    if result.status != "diverged":
        load_best(s.model, p.run_dir)
        common.atomic_save_encoder(s.model, s.tokenizer, Path(p.run_dir) / "encoder")
    return result


def evaluate(s: Setup, result: TrainResult, p: IntermediateRunParams) -> dict:
    """Summarise dev scores of the selected checkpoint."""
    final = [c for c in result.dev_curves if c["step"] == result.best_step]
    return {"best_dev": result.best_dev, "best_step": result.best_step, "dev_at_best": final}


def plot(result: TrainResult, evaluation: dict):
    """Loss trace and dev curves."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    axes[0].plot(result.loss_trace, lw=0.8)
    axes[0].set(title="training loss", xlabel="step", ylabel="loss")
    for key in sorted({(c["task"], c["lang"]) for c in result.dev_curves}):
        pts = [c for c in result.dev_curves if (c["task"], c["lang"]) == key]
        axes[1].plot(
            [c["step"] for c in pts], [c["score"] for c in pts], marker="o", label="/".join(key)
        )
    axes[1].set(title="dev score (selection on English)", xlabel="step")
    if result.dev_curves:
        axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def write_results(s: Setup, result: TrainResult, evaluation: dict, p: IntermediateRunParams):
    """Write ``metrics.json`` (a diverged run records its reason; the sweep goes on)."""
    metrics = {
        "phase": "intermediate",
        "status": "ok" if result.status != "diverged" else "diverged",
        "model": p.model_label or p.model,
        "model_name": p.model,
        "setting": p.setting,
        "mode": p.mode,
        "seed": p.seed,
        "tasks": p.tasks,
        "train_sizes": s.sizes,
        "parameters": s.params,
        "device": s.device,
        "precision": s.precision,
        "train": result.to_dict(),
        "evaluation": evaluation,
        "encoder_dir": str(Path(p.run_dir) / "encoder") if result.status != "diverged" else None,
        "wall_s": round(time.time() - s.t0, 2),
    }
    runs.write_metrics(p.run_dir, metrics)
    return metrics
