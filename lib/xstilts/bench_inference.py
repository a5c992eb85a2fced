"""Inference benchmark: embedding sentences for retrieval (BUCC / Tatoeba), three ways.

- ``ours``: ``retrieval.embed_sentences`` (length-sorted batches, dynamic padding,
  autocast at the given precision);
- ``bare``: a plain ``inference_mode`` loop over the same sorted batches that mean-pools
  ``last_hidden_state``: what our bookkeeping costs at most;
- ``hf_trainer``: ``Trainer.predict`` (``bf16=True`` at bf16, ``DataCollatorWithPadding``)
  on a module that returns the mean-pooled embedding, batches in input order.

Examples/s and model FLOP utilisation (``bench_flops``) at one precision.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence

import torch

from xstilts.bench_flops import (
    TokenCounter,
    encoder_flops,
    measure_peak,
    reset_accelerate,
    utilisation,
)
from xstilts.device import resolve_device
from xstilts.precision import autocast
from xstilts.retrieval import _pad, embed_sentences, mean_pool


def _ours(model, tok, sentences, o):
    layer = model.config.num_hidden_layers  # the last layer, as the mini profile retrieves
    return embed_sentences(
        model,
        tok,
        sentences,
        layer,
        batch_size=o["bs"],
        max_length=o["max_len"],
        precision=o["precision"],
    )


def _bare(model, tok, sentences, o):
    ids = tok(list(sentences), truncation=True, max_length=o["max_len"])["input_ids"]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = torch.empty((len(ids), model.config.hidden_size))
    with torch.inference_mode(), autocast(o["precision"], "cpu"):
        for start in range(0, len(order), o["bs"]):
            rows = order[start : start + o["bs"]]
            input_ids, mask = _pad([ids[i] for i in rows], tok.pad_token_id)
            hidden = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
            out[rows] = mean_pool(hidden.float(), mask)
    return out


class _Pooler(torch.nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids, attention_mask):  # noqa: D102
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        return {"logits": mean_pool(hidden.last_hidden_state.float(), attention_mask)}


def _hf(model, tok, sentences, o):
    from datasets import Dataset
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    enc = tok(list(sentences), truncation=True, max_length=o["max_len"])
    ds = Dataset.from_dict(dict(enc))
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            per_device_eval_batch_size=o["bs"],
            use_cpu=resolve_device("auto") == "cpu",
            report_to="none",
            disable_tqdm=True,
            dataloader_num_workers=0,
            bf16=o["precision"] == "bf16",
            bf16_full_eval=False,
        )
        trainer = Trainer(
            model=_Pooler(model), args=args, data_collator=DataCollatorWithPadding(tok)
        )
        try:
            return torch.as_tensor(trainer.predict(ds).predictions)
        finally:
            reset_accelerate()


RUNNERS = {"ours": _ours, "bare": _bare, "hf_trainer": _hf}


def run_inference_benchmark(
    model_name: str,
    sentences: Sequence[str],
    precision: str,
    batch_size: int = 64,
    max_length: int = 128,
    repeats: int = 2,
    peak: dict | None = None,
) -> dict:
    """Sentences/s and utilisation of each mode (best of ``repeats``, alternating order)."""
    from xstilts.models.encoder import load_encoder

    model, tok = load_encoder(model_name)
    model.eval()
    counter = TokenCounter()
    model.register_forward_pre_hook(counter, with_kwargs=True)
    peak = peak or measure_peak(precision)
    o = {"bs": batch_size, "max_len": max_length, "precision": precision}
    modes: dict[str, dict] = {name: {"rounds": []} for name in RUNNERS}
    embeddings = {}
    _ours(model, tok, sentences[: 2 * batch_size], o)  # warm-up: thread pool, allocator
    for r in range(repeats):
        for name in list(RUNNERS) if r % 2 == 0 else list(RUNNERS)[::-1]:
            counter.reset()
            t0 = time.perf_counter()
            embeddings[name] = RUNNERS[name](model, tok, sentences, o)
            rate = len(sentences) / (time.perf_counter() - t0)
            m = modes[name]
            m["rounds"].append(rate)
            per_example = encoder_flops(model.config, counter.lengths, train=False)
            per_example /= max(1, counter.examples)
            m.update(
                examples_per_s=max(m["rounds"]),
                tokens_per_example=counter.padded_tokens / max(1, counter.examples),
                gflops_per_example=per_example / 1e9,
            )
            m.update(utilisation(m["examples_per_s"], per_example, peak["gflops"]))
    ours = modes["ours"]["examples_per_s"]
    ref = embeddings["bare"]
    agree = torch.nn.functional.cosine_similarity(embeddings["ours"], ref, dim=1).min()
    return {
        "model": model_name,
        "precision": precision,
        "n_sentences": len(sentences),
        "batch_size": batch_size,
        "max_length": max_length,
        "torch_threads": torch.get_num_threads(),
        "peak": peak,
        "modes": modes,
        "ratios": {
            f"ours_vs_{n}": ours / m["examples_per_s"] for n, m in modes.items() if n != "ours"
        },
        "min_cosine_ours_vs_bare": float(agree),
    }


def markdown(result: dict) -> list[str]:
    """Markdown lines of the inference table."""
    lines = [
        f"## Inference: embedding sentences for retrieval ({result['model']}, "
        f"{result['torch_threads']} threads, **{result['precision']}**)",
        "",
        f"{result['n_sentences']} sentences, batch {result['batch_size']}, max length "
        f"{result['max_length']}; matmul peak at {result['precision']}: "
        f"{result['peak']['gflops']:.0f} GFLOP/s. Lowest cosine between ours and bare "
        f"embeddings: {result['min_cosine_ours_vs_bare']:.5f}.",
        "",
        "| mode | sentences/s (best round) | ours / mode | tokens per sentence (incl. padding) "
        "| GFLOP/s | utilisation of peak |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    ours = result["modes"]["ours"]["examples_per_s"]
    for name, m in result["modes"].items():
        lines.append(
            f"| {name} | {m['examples_per_s']:.1f} | {ours / m['examples_per_s']:.2f} "
            f"| {m['tokens_per_example']:.1f} | {m['achieved_gflops']:.0f} "
            f"| {100 * m['utilisation']:.1f}% |"
        )
    return lines + [""]
