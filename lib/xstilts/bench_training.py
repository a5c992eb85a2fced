"""Training-throughput benchmark: our trainer against Hugging Face ``Trainer`` baselines.

Run (tiny encoder built from config, nothing downloaded)::

    python -m xstilts.bench_training --n-examples 2000 --steps 30 --out runs/bench

One run, one model initialisation, the same sentence pairs and number of steps for:

- ``ours``: ``train.train`` (length-grouped batches, dynamic padding);
- ``hf_padded``: ``Trainer`` with ``run_xnli.py`` defaults (``pad_to_max_length``:
  every pair padded to 128 tokens);
- ``hf_dynamic``: ``Trainer`` with ``DataCollatorWithPadding`` (random batches padded
  to their longest member);
- ``bare``: a plain forward/backward/step loop over exactly our batches, which bounds
  what the trainer's bookkeeping costs.

Throughput is examples/s over the steps after a short warm-up (the first steps pay for
allocations), timed from step-end callbacks in every mode. Also provides the tiny
encoder/tokenizer factory and NLI-like pair generator the tests use.
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

from xstilts.features import Collator, LengthGroupedSampler, featurize
from xstilts.heads import MultiTaskModel
from xstilts.io import atomic_write_json, atomic_write_text
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


# Tokens the encoder saw (padding included) and examples, counted by a pre-hook: a
# load-independent measure of the compute each padding strategy spends.
_SEEN = {"tokens": 0, "examples": 0}


def _count_tokens(module, args, kwargs):
    ids = kwargs["input_ids"]
    _SEEN["tokens"] += ids.numel()
    _SEEN["examples"] += ids.shape[0]


def _fresh_model(factory, seed):
    torch.manual_seed(seed)
    encoder, tokenizer = factory()
    encoder.register_forward_pre_hook(_count_tokens, with_kwargs=True)
    _SEEN.update(tokens=0, examples=0)
    return MultiTaskModel(encoder, {"bench": BENCH_SPEC}, tokenizer=tokenizer), tokenizer


def _rate(times: list[float], batch_size: int, warmup: int) -> tuple[float, int]:
    timed = len(times) - 1 - warmup
    if timed < 1:
        raise ValueError("too few steps to time; use steps >= warmup + 2")
    return batch_size * timed / (times[-1] - times[warmup]), timed


def _run_ours(factory, ds, steps, bs, seed, lr, warmup):
    model, _ = _fresh_model(factory, seed)
    times = []
    cfg = TrainConfig(lr=lr, max_steps=steps, batch_size=bs, seed=seed, progress=False, log_every=0)
    with tempfile.TemporaryDirectory() as run_dir:
        train(model, {"bench": ds}, None, cfg, run_dir, on_step=lambda s: times.append(s["time"]))
    return _rate(times, bs, warmup)


def _run_bare(factory, ds, steps, bs, seed, lr, warmup):
    model, tok = _fresh_model(factory, seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device).train()
    cfg = TrainConfig(lr=lr, max_steps=steps, batch_size=bs, seed=seed)
    opt = build_optimizer(model, cfg, fused=True)
    sched = linear_schedule(opt, int(0.1 * steps), steps)
    # Same sampler seed and collator as train(): exactly our batches.
    sampler = LengthGroupedSampler(ds.with_format("numpy")["length"], bs, seed=seed * 1000)
    data = ds.select_columns(["input_ids", "attention_mask", "labels"])
    collate = Collator(tok.pad_token_id)
    times = []
    for _ in range(steps):
        batch = {k: v.to(device) for k, v in collate(data[sampler.next_batch()]).items()}
        loss, _ = model("bench", batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        float(loss.detach())  # our trainer reads every loss (trace + NaN check): same sync here
        times.append(time.perf_counter())
    return _rate(times, bs, warmup)


def _run_hf(factory, pairs, labels, steps, bs, seed, lr, warmup, padded):
    from datasets import Dataset
    from transformers import (
        DataCollatorWithPadding,
        Trainer,
        TrainerCallback,
        TrainingArguments,
        default_data_collator,
    )

    model, tok = _fresh_model(factory, seed)
    padding = "max_length" if padded else False
    enc = tok(
        [a for a, _ in pairs],
        [b for _, b in pairs],
        padding=padding,
        truncation=True,
        max_length=128,
    )
    ds = Dataset.from_dict({**dict(enc), "labels": labels})
    times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            times.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=bs,
            max_steps=steps,
            learning_rate=lr,
            seed=seed,
            use_cpu=not torch.cuda.is_available(),
            report_to="none",
            save_strategy="no",
            logging_strategy="no",
            disable_tqdm=True,
            dataloader_num_workers=0,
        )
        collator = default_data_collator if padded else DataCollatorWithPadding(tok)
        trainer = Trainer(
            model=_TrainerAdapter(model),
            args=args,
            train_dataset=ds,
            data_collator=collator,
            callbacks=[Clock()],
        )
        trainer.train()
    return _rate(times, bs, warmup)


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
) -> dict:
    """Compare training throughput of four loops on one model and data set.

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
        repeats: Rounds over the four modes, alternating their order; the fastest
            round of each mode is reported (other load on the machine only slows runs
            down, so the maximum is the least disturbed measurement).

    Returns:
        Dict with per-mode ``examples_per_s``, the ratios against ours and which goals
        (ours/padded >= 2.5, ours/dynamic >= 1.1, ours >= 0.85 x bare) were met.
    """
    factory = _resolve(model_name_or_factory)
    pairs = list(pairs if pairs is not None else synthetic_pairs(n_examples, seed))[:n_examples]
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(NLI_LABELS), size=len(pairs)).tolist()
    rows = [
        {"id": str(i), "lang": "en", "text_a": a, "text_b": b, "label": NLI_LABELS[y]}
        for i, ((a, b), y) in enumerate(zip(pairs, labels))
    ]
    _, tok = factory()
    ds = featurize(rows, BENCH_SPEC, tok, 128)
    lengths = np.asarray(ds.with_format("numpy")["length"])
    args = (steps, batch_size, seed, lr, warmup_steps)
    runners = {
        "ours": lambda: _run_ours(factory, ds, *args),
        "bare": lambda: _run_bare(factory, ds, *args),
        "hf_padded": lambda: _run_hf(factory, pairs, labels, *args, padded=True),
        "hf_dynamic": lambda: _run_hf(factory, pairs, labels, *args, padded=False),
    }
    modes = {name: {"rounds": []} for name in runners}
    for r in range(repeats):
        for name in list(runners) if r % 2 == 0 else list(runners)[::-1]:
            t0 = time.perf_counter()
            rate, timed = runners[name]()
            m = modes[name]
            m["rounds"].append(rate)
            m.update(
                examples_per_s=max(m["rounds"]),
                steps_timed=timed,
                wall_s=m.get("wall_s", 0.0) + time.perf_counter() - t0,
                tokens_per_example=_SEEN["tokens"] / max(1, _SEEN["examples"]),
            )
    ours = modes["ours"]["examples_per_s"]
    ratios = {
        "ours_vs_hf_padded": ours / modes["hf_padded"]["examples_per_s"],
        "ours_vs_hf_dynamic": ours / modes["hf_dynamic"]["examples_per_s"],
        "ours_vs_bare": ours / modes["bare"]["examples_per_s"],
    }
    return {
        "model": model_name_or_factory
        if isinstance(model_name_or_factory, str)
        else getattr(model_name_or_factory, "__name__", "factory"),
        "n_examples": len(pairs),
        "steps": steps,
        "warmup_steps_excluded": warmup_steps,
        "batch_size": batch_size,
        "seed": seed,
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "torch_threads": torch.get_num_threads(),
        "tokens_per_pair": {
            "mean": float(lengths.mean()),
            "p50": float(np.median(lengths)),
            "max": int(lengths.max()),
        },
        "modes": modes,
        "ratios": ratios,
        "goals_met": {
            "ours_vs_hf_padded>=2.5": ratios["ours_vs_hf_padded"] >= 2.5,
            "ours_vs_hf_dynamic>=1.1": ratios["ours_vs_hf_dynamic"] >= 1.1,
            "ours_vs_bare>=0.85": ratios["ours_vs_bare"] >= 0.85,
        },
    }


def write_results(result: dict, json_path: str | os.PathLike, md_path: str | os.PathLike) -> None:
    """Write the benchmark result as JSON and as a Markdown table (both atomically)."""
    atomic_write_json(json_path, result)
    lines = [
        f"# Training throughput ({result['model']}, {result['device']}, "
        f"{result['torch_threads']} threads)",
        "",
        f"{result['n_examples']} pairs (mean {result['tokens_per_pair']['mean']:.1f} tokens), "
        f"batch {result['batch_size']}, {result['steps']} steps "
        f"(first {result['warmup_steps_excluded']} not timed), seed {result['seed']}.",
        "",
        "| mode | examples/s (best round) | ours / mode | tokens per example (incl. padding) |",
        "|---|---:|---:|---:|",
    ]
    ours = result["modes"]["ours"]["examples_per_s"]
    for name, m in result["modes"].items():
        lines.append(
            f"| {name} | {m['examples_per_s']:.1f} | {ours / m['examples_per_s']:.2f} "
            f"| {m['tokens_per_example']:.1f} |"
        )
    lines += [
        "",
        "Goals: "
        + ", ".join(f"{k}: {'met' if v else 'not met'}" for k, v in result["goals_met"].items()),
        "",
    ]
    atomic_write_text(md_path, "\n".join(lines))


def main(argv: Sequence[str] | None = None) -> dict:
    """Command-line entry point (tiny encoder unless ``--model`` is given)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="encoder name/path; default: tiny config encoder")
    p.add_argument("--n-examples", type=int, default=2000)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
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
        a.model or tiny, a.n_examples, a.steps, a.batch_size, a.seed, repeats=a.repeats
    )
    out = Path(a.out)
    write_results(result, out / "bench_training.json", out / "bench_training.md")
    print((out / "bench_training.md").read_text())
    return result


if __name__ == "__main__":
    main()
