"""Training-throughput benchmark: our trainer against Hugging Face ``Trainer`` and a bare loop.

Run (tiny encoder built from config, nothing downloaded)::

    python -m xstilts.bench_training --n-examples 2000 --steps 30 --precision bf16

One run, one model initialisation, one precision, the same sentence pairs and number of
steps for:

- ``ours``: ``train.train`` (length-grouped batches, dynamic padding);
- ``hf_trainer``: ``Trainer`` as a careful user sets it up: ``bf16=True`` at bf16,
  ``DataCollatorWithPadding`` (dynamic padding) and ``group_by_length``;
- ``bare``: a plain forward/backward/step loop over exactly our batches, which bounds
  what the trainer's bookkeeping costs.

Throughput is examples/s over the steps after a short warm-up (the first steps pay for
allocations), timed from step-end callbacks in every mode; model FLOP utilisation comes
from ``bench_flops`` against the matmul peak measured in the same run. Also provides the
tiny encoder/tokenizer factory and NLI-like pair generator the tests use.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from xstilts.bench_flops import (
    TokenCounter,
    encoder_flops,
    measure_peak,
    reset_accelerate,
    utilisation,
)
from xstilts.device import resolve_device
from xstilts.features import Collator, LengthGroupedSampler, featurize
from xstilts.heads import MultiTaskModel, freeze_embeddings
from xstilts.io import atomic_write_json, atomic_write_text
from xstilts.precision import autocast
from xstilts.train import TrainConfig, build_optimizer, linear_schedule, train
from xstilts.xtreme import NLI_LABELS, TaskSpec

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
SUFFIXES = ["##s", "##ing", "##ed", "##er", "##ly"]
_WORDS = (
    "the a an man woman child dog cat people group team city house car street park river "
    "market school office friend teacher doctor player worker family game book song film "
    "walks runs sits stands plays reads writes eats drinks sleeps talks looks waits works "
    "is are was were has have will can not no some many every two three old young small "
    "big red blue green happy tired busy quiet loud near under over inside outside along "
    "with without before after during while because and but or in on at to from of for "
    "morning evening night today yesterday outside together alone again slowly quickly"
).split()
BENCH_SPEC = TaskSpec("bench", "classification", "intermediate", "accuracy", labels=NLI_LABELS)


def tiny_tokenizer(words: Sequence[str] = _WORDS):
    """Build an offline XLM-R-style fast tokenizer (WordPiece over ``words``).

    Specials are ``<s> <pad> </s> <unk> <mask>`` (ids 0-4, as in XLM-R) and pairs are
    encoded ``<s> A </s></s> B </s>``. Suffix pieces (``##s``, ``##ing``...) make
    multi-piece words, which the tagging and QA tests need.
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate([*SPECIALS, *dict.fromkeys(words), *SUFFIXES])}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="<unk>", max_input_chars_per_word=100))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()]
    )
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_input_names=["input_ids", "attention_mask"],
    )


def tiny_model_factory(
    words: Sequence[str] = _WORDS,
    hidden_size: int = 32,
    num_layers: int = 2,
    heads: int = 2,
    intermediate_size: int = 64,
    max_positions: int = 514,
):
    """Return ``(encoder, tokenizer)``: a small ``BertModel`` built from config.

    Initialisation uses the current torch RNG; seed before calling for reproducibility.
    """
    from transformers import BertConfig, BertModel

    tokenizer = tiny_tokenizer(words)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id,
        type_vocab_size=1,
    )
    return BertModel(config, add_pooling_layer=False), tokenizer


def synthetic_pairs(n: int, seed: int = 0, words: Sequence[str] = _WORDS) -> list[tuple[str, str]]:
    """NLI-like sentence pairs with MNLI-like length spread.

    Premise and hypothesis lengths are log-normal (medians ~18 and ~9 words, long
    tail up to ~100), so most pairs are far shorter than 128 tokens while a few are
    truncated — the regime where padding strategy matters.
    """
    rng = np.random.default_rng(seed)
    words = list(words)

    def sentence(median: float) -> str:
        k = int(np.clip(rng.lognormal(np.log(median), 0.55), 2, 110))
        return " ".join(rng.choice(words, size=k)) + " ."

    return [(sentence(18), sentence(9)) for _ in range(n)]


def _resolve(model_name_or_factory) -> Callable[[], tuple]:
    if callable(model_name_or_factory):
        return model_name_or_factory

    def load():
        from xstilts.models.encoder import load_encoder

        return load_encoder(model_name_or_factory)

    return load


class _TrainerAdapter(torch.nn.Module):
    """Expose ``MultiTaskModel`` with the keyword interface ``Trainer`` expects."""

    def __init__(self, model: MultiTaskModel):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, labels=None):  # noqa: D102
        batch = {"input_ids": input_ids, "attention_mask": attention_mask}
        if labels is not None:
            batch["labels"] = labels
        loss, out = self.model("bench", batch)
        return {"loss": loss, "logits": out["logits"]}


# Real and padded tokens the encoder saw, counted by a pre-hook: the model FLOPs of each
# mode and a load-independent measure of the compute its padding strategy wastes.
_COUNTER = TokenCounter()


def _fresh_model(factory, seed, freeze):
    torch.manual_seed(seed)
    encoder, tokenizer = factory()
    encoder.register_forward_pre_hook(_COUNTER, with_kwargs=True)
    _COUNTER.reset()
    model = MultiTaskModel(encoder, {"bench": BENCH_SPEC}, tokenizer=tokenizer)
    if freeze:
        freeze_embeddings(model)
    return model, tokenizer


def _rate(times: list[float], batch_size: int, warmup: int) -> tuple[float, int]:
    timed = len(times) - 1 - warmup
    if timed < 1:
        raise ValueError("too few steps to time; use steps >= warmup + 2")
    return batch_size * timed / (times[-1] - times[warmup]), timed


def _run_ours(factory, ds, o):
    model, _ = _fresh_model(factory, o["seed"], False)
    times = []
    cfg = TrainConfig(
        lr=o["lr"],
        max_steps=o["steps"],
        batch_size=o["bs"],
        seed=o["seed"],
        progress=False,
        log_every=0,
        precision=o["precision"],
        freeze_embeddings=o["freeze"],
    )
    with tempfile.TemporaryDirectory() as run_dir:
        train(model, {"bench": ds}, None, cfg, run_dir, on_step=lambda s: times.append(s["time"]))
    return times


def _run_bare(factory, ds, o, compiled=False):
    model, tok = _fresh_model(factory, o["seed"], o["freeze"])
    device = resolve_device("auto")  # the machine measured: its GPU if it has one
    model.to(device).train()
    if compiled:
        # No token-counting hook: its Python list would make dynamo recompile every call.
        model.encoder._forward_pre_hooks.clear()
        model.encoder.compile(dynamic=True)
    steps, bs = o["steps"], o["bs"]
    cfg = TrainConfig(lr=o["lr"], max_steps=steps, batch_size=bs, seed=o["seed"])
    opt = build_optimizer(model, cfg, fused=True)
    sched = linear_schedule(opt, int(0.1 * steps), steps)
    # Same sampler seed and collator as train(): exactly our batches.
    sampler = LengthGroupedSampler(ds.with_format("numpy")["length"], bs, seed=o["seed"] * 1000)
    data = ds.select_columns(["input_ids", "attention_mask", "labels"])
    collate = Collator(tok.pad_token_id)
    times = []
    for _ in range(steps):
        batch = {k: v.to(device) for k, v in collate(data[sampler.next_batch()]).items()}
        with autocast(o["precision"], device):
            loss, _ = model("bench", batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        float(loss.detach())  # our trainer reads every loss (trace + NaN check): same sync here
        times.append(time.perf_counter())
    return times


def _run_hf(factory, pairs, labels, o):
    from datasets import Dataset
    from transformers import DataCollatorWithPadding, Trainer, TrainerCallback, TrainingArguments

    model, tok = _fresh_model(factory, o["seed"], o["freeze"])
    enc = tok([a for a, _ in pairs], [b for _, b in pairs], truncation=True, max_length=128)
    ds = Dataset.from_dict({**dict(enc), "labels": labels})
    times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            times.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=o["bs"],
            max_steps=o["steps"],
            learning_rate=o["lr"],
            seed=o["seed"],
            use_cpu=resolve_device("auto") == "cpu",
            report_to="none",
            save_strategy="no",
            logging_strategy="no",
            disable_tqdm=True,
            dataloader_num_workers=0,
            bf16=o["precision"] == "bf16",
            train_sampling_strategy="group_by_length",
        )
        trainer = Trainer(
            model=_TrainerAdapter(model),
            args=args,
            train_dataset=ds,
            data_collator=DataCollatorWithPadding(tok),
            callbacks=[Clock()],
        )
        try:
            trainer.train()
        finally:
            reset_accelerate()
    return times


def _bench_rows(pairs, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(NLI_LABELS), size=len(pairs)).tolist()
    rows = [
        {"id": str(i), "lang": "en", "text_a": a, "text_b": b, "label": NLI_LABELS[y]}
        for i, ((a, b), y) in enumerate(zip(pairs, labels))
    ]
    return rows, labels


def run_benchmark(
    model_name_or_factory: str | Callable[[], tuple],
    n_examples: int,
    steps: int,
    batch_size: int = 32,
    seed: int = 0,
    pairs: Sequence[tuple[str, str]] | None = None,
    lr: float = 1e-5,
    warmup_steps: int = 2,
    repeats: int = 2,
    precision: str = "fp32",
    freeze: bool = True,
    modes: Sequence[str] = ("ours", "bare", "hf_trainer"),
    max_seq_len: int = 128,
    peak: dict | None = None,
) -> dict:
    """Compare training throughput and model FLOP utilisation of three loops.

    Args:
        model_name_or_factory: Encoder name/path for ``xstilts.models.encoder.load_encoder``
            or a zero-argument callable returning ``(encoder, tokenizer)``.
        n_examples: Number of sentence pairs used (the first ``n_examples`` of ``pairs``).
        steps: Optimizer steps per mode.
        batch_size: Examples per step.
        seed: Seed of model initialisation, labels and data order.
        pairs: ``(premise, hypothesis)`` strings; default: ``synthetic_pairs``.
        lr: Learning rate (throughput does not depend on it).
        warmup_steps: Initial steps left out of the timing.
        repeats: Rounds over the modes, alternating their order; the fastest round of
            each mode is reported (other load on the machine only slows runs down, so
            the maximum is the least disturbed measurement).
        precision: ``fp32`` or ``bf16``, the same for every mode.
        freeze: Freeze the word embeddings in every mode (as the mini profile does).
        modes: Which of ``ours``, ``bare``, ``hf_trainer`` to run.
        max_seq_len: Truncation of our featurisation.
        peak: A ``bench_flops.measure_peak`` result to reuse; measured if ``None``.

    Returns:
        Dict with per-mode ``examples_per_s`` and utilisation, the ratios of ours to the
        others and whether the goals (ours >= 1.2 x HF Trainer, >= 0.95 x bare) were met.
    """
    factory = _resolve(model_name_or_factory)
    pairs = list(pairs if pairs is not None else synthetic_pairs(n_examples, seed))[:n_examples]
    rows, labels = _bench_rows(pairs, seed)
    encoder, tok = factory()
    ds = featurize(rows, BENCH_SPEC, tok, max_seq_len)
    lengths = np.asarray(ds.with_format("numpy")["length"])
    peak = peak or measure_peak(precision)
    o = {"steps": steps, "bs": batch_size, "seed": seed, "lr": lr, "precision": precision}
    o["freeze"] = freeze
    runners = {
        "ours": lambda: _run_ours(factory, ds, o),
        "bare": lambda: _run_bare(factory, ds, o),
        "hf_trainer": lambda: _run_hf(factory, pairs, labels, o),
    }
    runners = {name: runners[name] for name in modes}
    out = {name: {"rounds": []} for name in runners}
    for r in range(repeats):
        for name in list(runners) if r % 2 == 0 else list(runners)[::-1]:
            t0 = time.perf_counter()
            rate, timed = _rate(runners[name](), batch_size, warmup_steps)
            m = out[name]
            m["rounds"].append(rate)
            flops = encoder_flops(encoder.config, _COUNTER.lengths, train=True)
            m.update(
                examples_per_s=max(m["rounds"]),
                steps_timed=timed,
                wall_s=m.get("wall_s", 0.0) + time.perf_counter() - t0,
                tokens_per_example=_COUNTER.padded_tokens / max(1, _COUNTER.examples),
                gflops_per_example=flops / max(1, _COUNTER.examples) / 1e9,
            )
            m.update(
                utilisation(m["examples_per_s"], m["gflops_per_example"] * 1e9, peak["gflops"])
            )
    ratios = {}
    if "ours" in out:
        ours = out["ours"]["examples_per_s"]
        ratios = {f"ours_vs_{n}": ours / m["examples_per_s"] for n, m in out.items() if n != "ours"}
    goals = {
        "ours_vs_hf_trainer>=1.2": ("ours_vs_hf_trainer", 1.2),
        "ours_vs_bare>=0.95": ("ours_vs_bare", 0.95),
    }
    return {
        "model": model_name_or_factory
        if isinstance(model_name_or_factory, str)
        else getattr(model_name_or_factory, "__name__", "factory"),
        "precision": precision,
        "n_examples": len(pairs),
        "steps": steps,
        "warmup_steps_excluded": warmup_steps,
        "batch_size": batch_size,
        "max_seq_len": max_seq_len,
        "frozen_word_embeddings": freeze,
        "seed": seed,
        "device": resolve_device("auto"),
        "torch_threads": torch.get_num_threads(),
        "peak": peak,
        "tokens_per_pair": {
            "mean": float(lengths.mean()),
            "p50": float(np.median(lengths)),
            "max": int(lengths.max()),
        },
        "modes": out,
        "ratios": ratios,
        "goals_met": {g: ratios[k] >= v for g, (k, v) in goals.items() if k in ratios},
    }


def compile_trial(
    model_name_or_factory,
    pairs,
    steps: int,
    batch_size: int,
    precision: str,
    run_steps: int = 75,
    seed: int = 0,
) -> dict:
    """``torch.compile`` of the encoder (bare loop, ``dynamic=True``) against eager.

    The gain counts compile time: both are projected to a run of ``run_steps`` steps (a
    mini training run is 75), eager at its steady rate, compiled as the time of its first
    steps (which compile) plus the rest at its steady rate.
    """
    factory = _resolve(model_name_or_factory)
    rows, _ = _bench_rows(list(pairs), seed)
    _, tok = factory()
    ds = featurize(rows, BENCH_SPEC, tok, 128)
    o = {"steps": steps, "bs": batch_size, "seed": seed, "lr": 1e-5, "precision": precision}
    o["freeze"] = True
    t0 = time.perf_counter()
    eager_rate, _ = _rate(_run_bare(factory, ds, o), batch_size, 2)
    eager_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    times = _run_bare(factory, ds, o, compiled=True)
    compiled_wall = time.perf_counter() - t0
    warm = min(len(times) - 2, steps // 2)
    compiled_rate, _ = _rate(times, batch_size, warm)
    startup = times[warm] - t0  # everything up to the warm steps: compile + first steps
    run_eager = run_steps * batch_size / eager_rate
    run_compiled = startup + (run_steps - warm - 1) * batch_size / compiled_rate
    return {
        "precision": precision,
        "steps": steps,
        "eager_examples_per_s": eager_rate,
        "compiled_examples_per_s": compiled_rate,
        "compiled_startup_s": startup,
        "eager_wall_s": eager_wall,
        "compiled_wall_s": compiled_wall,
        "projected_run_steps": run_steps,
        "projected_eager_s": run_eager,
        "projected_compiled_s": run_compiled,
        "speedup_counting_compile": run_eager / run_compiled,
        "kept": run_eager / run_compiled > 1.0,
    }


def write_results(result: dict, json_path: str | os.PathLike, md_path: str | os.PathLike) -> None:
    """Write the benchmark result as JSON and as a Markdown table (both atomically)."""
    atomic_write_json(json_path, result)
    atomic_write_text(md_path, "\n".join(markdown(result)) + "\n")


def markdown(result: dict) -> list[str]:
    """Markdown lines: one table of modes with examples/s and utilisation."""
    peak = result["peak"]
    lines = [
        f"## Training throughput ({result['model']}, {result['device']}, "
        f"{result['torch_threads']} threads, **{result['precision']}**)",
        "",
        f"{result['n_examples']} pairs (mean {result['tokens_per_pair']['mean']:.1f} tokens, "
        f"max_seq_len {result['max_seq_len']}), batch {result['batch_size']}, "
        f"{result['steps']} steps (first {result['warmup_steps_excluded']} not timed), "
        f"seed {result['seed']}, word embeddings "
        f"{'frozen' if result['frozen_word_embeddings'] else 'trained'}. "
        f"Matmul peak measured here at {result['precision']}: {peak['gflops']:.0f} GFLOP/s.",
        "",
        "| mode | examples/s (best round) | ours / mode | tokens per example (incl. padding) "
        "| GFLOP/s | utilisation of peak |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    ours = result["modes"].get("ours", {}).get("examples_per_s")
    for name, m in result["modes"].items():
        ratio = f"{ours / m['examples_per_s']:.2f}" if ours else "-"
        lines.append(
            f"| {name} | {m['examples_per_s']:.1f} | {ratio} | {m['tokens_per_example']:.1f} "
            f"| {m['achieved_gflops']:.0f} | {100 * m['utilisation']:.1f}% |"
        )
    if result["goals_met"]:
        lines += [
            "",
            "Goals: "
            + ", ".join(
                f"{k}: {'met' if v else 'not met'}" for k, v in result["goals_met"].items()
            ),
        ]
    return lines + [""]


def main(argv: Sequence[str] | None = None) -> dict:
    """Command-line entry point (tiny encoder unless ``--model`` is given)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="encoder name/path; default: tiny config encoder")
    p.add_argument("--n-examples", type=int, default=2000)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", default="fp32", help="fp32 | bf16")
    p.add_argument("--hidden", type=int, default=128, help="tiny encoder width")
    p.add_argument("--layers", type=int, default=4, help="tiny encoder depth")
    p.add_argument("--repeats", type=int, default=3, help="rounds over the modes (best kept)")
    p.add_argument("--out", default="bench_training", help="output folder")
    a = p.parse_args(argv)

    def tiny():
        return tiny_model_factory(
            hidden_size=a.hidden, num_layers=a.layers, heads=4, intermediate_size=4 * a.hidden
        )

    tiny.__name__ = f"tiny-bert-{a.layers}x{a.hidden}"
    result = run_benchmark(
        a.model or tiny,
        a.n_examples,
        a.steps,
        a.batch_size,
        a.seed,
        repeats=a.repeats,
        precision=a.precision,
    )
    out = Path(a.out)
    write_results(result, out / "bench_training.json", out / "bench_training.md")
    print((out / "bench_training.md").read_text())
    return result


if __name__ == "__main__":
    main()
