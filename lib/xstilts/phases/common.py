"""Glue shared by the phase-(ii) and phase-(iii) notebooks: devices, configs, scoring."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from xstilts import metrics, xtreme
from xstilts.device import setup_device as resolve_device_setting
from xstilts.precision import resolve_precision
from xstilts.predict import predict, references
from xstilts.train import TrainConfig


def setup_device(device: str, threads: int) -> str:
    """Resolve ``compute.device`` (``xstilts.device``, the one resolver) and pin CPU threads.

    Returns:
        ``"cuda"`` or ``"cpu"``.
    """
    return resolve_device_setting(device, threads)


def check_precision(precision: str, device: str) -> str:
    """Validate the run's (plan-resolved) precision; ``auto`` is resolved for ``device``."""
    return resolve_precision(precision, device)


def train_config(
    train: dict,
    seed: int,
    device: str,
    precision: str = "fp32",
    task_batch_sizes: dict | None = None,
    task_grad_accum: dict | None = None,
    deterministic: bool = False,
) -> TrainConfig:
    """Map the profile's ``TrainSpec`` fields onto the trainer's ``TrainConfig``.

    ``device`` is the resolved device of the run (``setup_device``): the trainer puts the
    model there, whatever else the machine has.
    """
    return TrainConfig(
        device=device,
        task_batch_sizes=dict(task_batch_sizes or {}),
        task_grad_accum=dict(task_grad_accum or {}),
        gradient_checkpointing=train.get("gradient_checkpointing", False),
        deterministic=deterministic,
        lr=train["lr"],
        warmup_ratio=train["warmup_ratio"],
        weight_decay=train["weight_decay"],
        epochs=train["epochs"],
        max_steps=train["max_steps"],
        batch_size=train["batch_size"],
        grad_accum=train["grad_accum"],
        max_seq_len=train["max_seq_len"],
        eval_every=train["eval_every"],
        early_stopping_patience=train["patience"],
        dev_subset=train["dev_subset"],
        seed=seed,
        freeze_embeddings=train["freeze_embeddings"],
        precision=precision,
        checkpoint_every=train["checkpoint_every"],
        progress=False,  # notebooks are logs; the pipeline prints one line per run
    )


def make_evaluate_fn(
    specs: dict,
    tokenizer,
    max_seq_len: int,
    batch_size: int = 64,
    task_lengths: dict | None = None,
    precision: str = "fp32",
):
    """``(model, head, lang, rows) -> score`` for the trainer's dev curves and selection.

    ``task_lengths`` gives a task of a mixture its own maximum length (SQuAD's 384 among
    256-token tasks); other tasks use ``max_seq_len``.
    """
    lengths = task_lengths or {}

    def evaluate(model, head: str, lang: str, rows) -> float:
        spec = specs[head]
        rows = list(rows)
        length = lengths.get(head, max_seq_len)
        preds = predict(
            model, spec, rows, tokenizer, batch_size, length, head=head, precision=precision
        )
        return metrics.score(spec.metric, preds, references(spec, rows), lang)["score"]

    return evaluate


def score_rows(
    model,
    spec,
    head: str,
    rows: list[dict],
    tokenizer,
    max_seq_len: int,
    lang: str,
    batch_size: int = 64,
    precision: str = "fp32",
) -> dict:
    """Predict and score one language's test rows with XTREME's metric for ``spec``."""
    preds = predict(
        model, spec, rows, tokenizer, batch_size, max_seq_len, head=head, precision=precision
    )
    return metrics.score(spec.metric, preds, references(spec, rows), lang)


def atomic_save_encoder(model, tokenizer, target: Path) -> Path:
    """Save the encoder into ``target`` via a temp sibling folder + rename (never half-written)."""
    tmp = target.with_name(target.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_encoder(tmp, tokenizer)
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    return target


def group_of(task: str) -> str:
    """XTREME task family of a target task."""
    for group, tasks in xtreme.TASK_GROUPS.items():
        if task in tasks:
            return group
    return "intermediate"


FIGURE_DPI = 100  # the inline backend's


def show_figure(fig, margins: tuple[float, float, float, float] = (0.8, 0.25, 0.6, 0.4)) -> None:
    """Display a run's figure as one PNG, with fixed margins, and close it.

    Through the inline backend a figure is drawn three times (``tight_layout``, then
    ``bbox_inches="tight"``, then the PNG): about 0.25 s of a tiny rehearsal run's 1 to 2 s.
    The run figures have short labels (steps, scores, language codes), so fixed margins
    hold them and one draw does.

    Args:
        fig: A matplotlib figure.
        margins: Left, right, bottom and top margins in inches.
    """
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    width, height = fig.get_size_inches()
    left, right, bottom, top = margins
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height
    )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
    plt.close(fig)
    display(Image(data=buffer.getvalue(), format="png"))


def plot_training(result, title: str = "dev score (selection on English)"):
    """Loss against step and dev score against step, side by side; ``None`` if untrained.

    Args:
        result: A ``TrainResult`` (``loss_trace`` per step, ``dev_curves`` rows with
            ``task``, ``lang``, ``step``, ``score``) or ``None`` (BUCC/Tatoeba).
        title: Title of the dev panel.

    Returns:
        The matplotlib figure, or ``None``.
    """
    if result is None or not result.loss_trace:
        return None
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    axes[0].plot(range(1, len(result.loss_trace) + 1), result.loss_trace, lw=0.8)
    axes[0].set(title="training loss", xlabel="step", ylabel="loss")
    for key in sorted({(c["task"], c["lang"]) for c in result.dev_curves}):
        pts = [c for c in result.dev_curves if (c["task"], c["lang"]) == key]
        axes[1].plot(
            [c["step"] for c in pts], [c["score"] for c in pts], marker="o", label="/".join(key)
        )
    if result.best_step is not None:
        axes[1].axvline(result.best_step, color="grey", ls=":", lw=1, label="selected")
    axes[1].set(title=title, xlabel="step", ylabel="score")
    if result.dev_curves:
        axes[1].legend(fontsize=8)
    fig.subplots_adjust(wspace=0.25)
    return fig


def training_summary(result) -> dict:
    """The few numbers of a training run a reader looks for first (empty if untrained)."""
    if result is None:
        return {}
    return {
        "status": result.status,
        "steps": f"{result.steps} of {result.total_steps or result.steps}",
        "selected step (English dev)": result.best_step,
        "best English dev score": None if result.best_dev is None else round(result.best_dev, 2),
        "final loss": round(result.loss_trace[-1], 4) if result.loss_trace else None,
        "examples/s": round(result.examples_per_s, 1),
        "training time (s)": round(result.wall_s, 1),
    }
