"""Phase (ii) (``10_intermediate.ipynb``): intermediate-task training of the encoder.

One run trains one *setting* (a single intermediate task, or the multi-task mixture of all
configured tasks) in one *mode*:

- ``english``: the English training data only (the paper's main condition);
- ``translated``: machine-translated copies in the target languages only;
- ``english+translated``: both, pooled per task;
- ``english+mlm``: English data with multilingual MLM co-training as one more task of the
  examples-proportional mixture (paper v1 §2.3, α = 0.3 corpus), starting from the
  checkpoint's pretrained MLM head where it has one (``metrics.json["mlm_head"]``).

Translated modes train on as many examples as English (equal budget, disjoint items per
language) unless ``translated_per_language`` opts out; the run then records a warning.
``metrics.json["examples_seen"]`` holds the examples each task of the run saw, beside
``examples_alone`` (what the primary task would see in a run of its own), because a capped
mixture shortens the primary task's schedule (``xstilts.train.plan_steps``).

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
from xstilts.models.encoder import count_parameters, load_encoder, load_encoder_for_mlm
from xstilts.phases import common
from xstilts.run_params import IntermediateRunParams
from xstilts.train import TrainResult, load_best, planned_examples, train


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
    mlm_head: str | None = None  # "pretrained" | "random (checkpoint has none)"; None = no MLM
    budget: dict | None = None  # translated modes: examples vs English, warning if unequal
    precision: str = "fp32"  # resolved at plan time (xstilts.precision)


def _equal_slices(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` disjoint, contiguous ``[start, stop)`` ranges covering ``range(n)``."""
    bounds = [round(i * n / parts) for i in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def translated_rows(p: IntermediateRunParams, data_root: Path, task: str, english: list) -> list:
    """Training rows of a translated mode under the run's budget rule.

    Equal budget (``translated_per_language == 0``): the mode trains on as many examples as
    English. The items are split into disjoint slices, one per language (English is one of
    them in ``english+translated``), so every item is seen once, in one language. ``n > 0``
    gives each translated language its own ``n`` items (English whole, as before) and ``-1``
    every row: both are opt-outs that ``budget`` reports.
    """
    n = p.translated_per_language
    if n == 0:
        langs = [*(["en"] if p.mode == "english+translated" else []), *p.languages]
        out = []
        for lang, (lo, hi) in zip(langs, _equal_slices(len(english), len(langs)), strict=True):
            rows = english if lang == "en" else store.read_split(data_root, task, "train", lang)
            out += rows[lo:hi]
        return out
    out = list(english) if p.mode == "english+translated" else []
    for i, lang in enumerate(p.languages):
        rows = store.read_split(data_root, task, "train", lang)
        # Disjoint slices: language i gets items [i*n, (i+1)*n).
        out += rows[i * n : (i + 1) * n] if n > 0 else rows
    return out


def training_rows(p: IntermediateRunParams, data_root: Path, task: str) -> list[dict]:
    """Training rows of one intermediate task under the run's language mode."""
    english = store.read_split(data_root, task, "train", "en")
    if p.mode in ("english", "english+mlm"):
        return english
    if p.mode in ("translated", "english+translated"):
        return translated_rows(p, data_root, task, english)
    raise ValueError(f"unknown mode {p.mode!r}; allowed: {', '.join(xtreme.MULTILINGUAL_MODES)}")


def budget(p: IntermediateRunParams, english_sizes: dict, sizes: dict) -> dict | None:
    """Translated modes: examples per task against English, with a warning when they differ."""
    if "translated" not in p.mode:
        return None
    rule = {0: "equal (English size)", -1: "all rows"}.get(
        p.translated_per_language, f"{p.translated_per_language} per language"
    )
    unequal = {t: (sizes[t], english_sizes[t]) for t in sizes if sizes[t] != english_sizes[t]}
    warning = ""
    if unequal:
        ratio = max(a / max(1, b) for a, b in unequal.values())
        warning = (
            f"translated budget is not the English one ({rule}; up to {ratio:.1f}x the English "
            "examples): the gap to English compares data sizes as well as languages"
        )
    return {"rule": rule, "examples": sizes, "english": english_sizes, "warning": warning}


def _task_setting(p: IntermediateRunParams, task: str, key: str):
    """One featurisation/batch setting of a task: its mixture override, else the run's."""
    return p.per_task.get(task, {}).get(key, p.train.get(key, 0))


def setup(p: IntermediateRunParams) -> Setup:
    """Load the encoder and featurise the training data of the setting."""
    t0 = time.time()
    device = common.setup_device(p.device, p.threads)
    precision = common.check_precision(p.precision, device)
    data_root = store.dataset_dir(p.data_dir)
    mlm = p.mode == "english+mlm"
    head_states, mlm_head = {}, None
    if mlm:
        encoder, tokenizer, head_state, mlm_head = load_encoder_for_mlm(p.model)
        head_states = {"mlm": head_state} if head_state is not None else {}
    else:
        encoder, tokenizer = load_encoder(p.model)
    cache = Path(p.run_dir) / "features"
    specs, train_sets, dev_sets, sizes, english_sizes = {}, {}, {}, {}, {}
    members = [*p.tasks, *(["mlm"] if mlm else [])]
    for task in members:
        if task == "mlm":
            rows = [
                r
                for lang in p.mlm_languages
                for r in store.read_split(data_root, "mlm", "train", lang)
            ]
            spec = xtreme.task("mlm")
        else:
            rows = training_rows(p, data_root, task)
            spec = with_labels(xtreme.task(task), rows)
            dev_sets[task] = {"en": store.read_split(data_root, task, "dev", "en")}
            english_sizes[task] = len(store.read_split(data_root, task, "train", "en"))
        specs[task] = spec
        train_sets[task] = featurize(
            rows,
            spec,
            tokenizer,
            _task_setting(p, task, "max_seq_len"),
            cache_dir=cache,
            seed=p.seed,
            progress=False,
            doc_stride=_task_setting(p, task, "doc_stride") or None,
        )
        sizes[task] = len(rows)
    # Heads seeded by the run's seed: the same run gives the same result in any process.
    model = MultiTaskModel(
        encoder,
        specs,
        tokenizer=tokenizer,
        seed=p.seed,
        head_states=head_states,
        pooling=p.train.get("pooling", "first"),
    )
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
        mlm_head=mlm_head,
        budget=budget(p, english_sizes, {t: sizes[t] for t in p.tasks}),
        precision=precision,
    )


def _config(s: Setup, p: IntermediateRunParams):
    batch_sizes = {t: _task_setting(p, t, "batch_size") for t in s.sizes}
    # Accumulation inside a task's draw (a mixture's per_task grad_accum); the run's own
    # grad_accum counts draws per optimizer step.
    accum = {
        t: p.per_task[t]["grad_accum"] for t in s.sizes if "grad_accum" in p.per_task.get(t, {})
    }
    cfg = common.train_config(
        p.train,
        p.seed,
        s.device,
        precision=s.precision,
        task_batch_sizes=batch_sizes,
        task_grad_accum=accum,
        deterministic=p.deterministic,
    )
    return cfg, batch_sizes


def example_counts(s: Setup, p: IntermediateRunParams) -> dict:
    """Planned examples per task of this run and of the primary task(s) trained alone.

    ``alone`` is about ``epochs x size`` (a single task is not capped): beside ``planned`` it
    shows how much a capped mixture with MLM shortens the primary task's schedule.
    """
    cfg, batch_sizes = _config(s, p)
    planned = planned_examples(cfg, s.sizes, batch_sizes)
    alone = {t: planned_examples(cfg, {t: s.sizes[t]}, {t: batch_sizes[t]})[t] for t in p.tasks}
    return {"planned": planned, "alone": alone}


def describe(s: Setup, p: IntermediateRunParams | None = None) -> None:
    """Print what will be trained (sizes, planned examples per task, MLM head, budget)."""
    print(f"device {s.device}; precision {s.precision}; encoder parameters {s.params}")
    for task, n in s.sizes.items():
        print(f"  {task}: {n} training examples, {len(s.train_sets[task])} features")
    if p is None:
        return
    counts = example_counts(s, p)
    seen = ", ".join(f"{t} {n}" for t, n in counts["planned"].items())
    alone = ", ".join(f"{t} {n}" for t, n in counts["alone"].items())
    print(f"  examples planned in this run: {seen} (trained alone: {alone})")
    if s.mlm_head is not None:
        print(f"  MLM head: {s.mlm_head}")
    if s.budget is not None:
        print(
            f"  translated budget: {s.budget['rule']}; {s.budget['warning'] or 'equal to English'}"
        )


def run(s: Setup, p: IntermediateRunParams) -> TrainResult:
    """Train (resuming from ``checkpoint/`` if present), restore the best weights, save the encoder."""
    cfg, _ = _config(s, p)
    lengths = {t: _task_setting(p, t, "max_seq_len") for t in s.specs}
    evaluate_fn = common.make_evaluate_fn(
        s.specs, s.tokenizer, p.train["max_seq_len"], task_lengths=lengths, precision=s.precision
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


def plot(result: TrainResult, evaluation: dict) -> None:
    """Show the loss trace and dev curves (``common.plot_training``)."""
    fig = common.plot_training(result)
    if fig is not None:
        common.show_figure(fig)


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
        "examples_seen": result.examples_seen,
        "examples_alone": example_counts(s, p)["alone"],
        "mlm_head": s.mlm_head,
        "translated_budget": s.budget,
        "warnings": [s.budget["warning"]] if s.budget and s.budget["warning"] else [],
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
