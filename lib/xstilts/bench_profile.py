"""Where a training step's time goes: torch.profiler's self time per operator, by kind.

The bench's utilisation figure says how far a training step is from the matmul peak; this
says why. One bare training step (the same model, batches, autocast, fused AdamW and
gradient clipping as the trainer) is profiled on the CPU, and every operator's self time is
put in one of a few kinds: the matmuls that the utilisation counts, attention, the
elementwise and normalisation work around them, dtype casts, the optimizer, and the rest.
The profiler adds a few microseconds to each operator, so the shares of the many small
operators are upper bounds; the step time is measured again without it.
"""

from __future__ import annotations

import time

import torch

# First pattern found in the operator name decides its kind (order matters: "addmm" is a
# matmul, not an "add"). The names are ATen's, as torch.profiler reports them.
KINDS = (
    ("matmul", ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "mkldnn", "onednn")),
    ("attention", ("scaled_dot_product", "flash_attention", "_softmax", "softmax")),
    ("optimizer", ("adam", "_foreach", "clip_grad", "aten::norm", "linalg_vector_norm")),
    ("dtype casts", ("aten::_to_copy", "aten::copy_", "autocast")),
    (
        "elementwise and norms",
        (
            "layer_norm",
            "gelu",
            "dropout",
            "aten::add",
            "aten::mul",
            "aten::div",
            "aten::sub",
            "aten::tanh",
            "aten::where",
            "aten::masked",
            "aten::sum",
            "aten::mean",
            "aten::fill_",
            "aten::zero_",
            "threshold",
            "native_batch_norm",
        ),
    ),
    ("embedding", ("embedding",)),
)  # fmt: skip
# Operators that move no data, or only copy it into a new layout: matched by exact name.
VIEW_OPS = frozenset(
    f"aten::{op}"
    for op in (
        "view", "reshape", "_reshape_alias", "permute", "transpose", "t", "contiguous",
        "expand", "slice", "select", "unsqueeze", "squeeze", "cat", "split", "chunk",
        "as_strided", "empty", "empty_like", "clone", "detach", "alias", "unbind",
        "empty_strided", "resize_", "narrow",
    )
)  # fmt: skip


def kind_of(op_name: str) -> str:
    """The kind of an ATen operator name (``other`` when no pattern matches)."""
    if op_name in VIEW_OPS:
        return "views and shapes"
    if op_name == "aten::to":
        return "dtype casts"
    name = op_name.lower()
    for kind, patterns in KINDS:
        if any(p in name for p in patterns):
            return kind
    return "other"


def breakdown(self_times_us: dict[str, float], steps: int) -> dict:
    """Milliseconds per step and share of profiled time per kind, from self times.

    Args:
        self_times_us: Operator name -> total self CPU time in microseconds.
        steps: Steps the times were summed over.

    Returns:
        ``{"per_kind": {kind: {"ms_per_step", "share"}}, "top_ops": [...]}``, kinds sorted
        by time, with the ten costliest operators.
    """
    total = sum(self_times_us.values()) or 1.0
    per_kind: dict[str, float] = {}
    for name, us in self_times_us.items():
        per_kind[kind_of(name)] = per_kind.get(kind_of(name), 0.0) + us
    ranked = sorted(per_kind.items(), key=lambda kv: -kv[1])
    top = sorted(self_times_us.items(), key=lambda kv: -kv[1])[:10]
    return {
        "per_kind": {k: {"ms_per_step": us / steps / 1e3, "share": us / total} for k, us in ranked},
        "top_ops": [
            {"op": n, "kind": kind_of(n), "ms_per_step": us / steps / 1e3, "share": us / total}
            for n, us in top
        ],
    }


def profile_training_step(step, warmup: int = 3, steps: int = 6) -> dict:
    """Profile ``steps`` calls of ``step()`` after ``warmup`` unprofiled ones.

    Args:
        step: A zero-argument callable running one training step (forward, backward,
            optimizer) and synchronising (reading the loss).
        warmup: Calls before any timing (allocator and oneDNN primitive caches).
        steps: Calls timed without the profiler, then the same number profiled.

    Returns:
        ``breakdown`` plus ``step_ms`` (median, without the profiler) and
        ``profiled_step_ms``.
    """
    from torch.profiler import ProfilerActivity, profile

    for _ in range(warmup):
        step()
    plain = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        plain.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    profiled_s = time.perf_counter() - t0
    # Self time excludes children, so the kinds add up without double counting.
    self_us = {e.key: e.self_cpu_time_total for e in prof.key_averages()}
    out = breakdown(self_us, steps)
    out["step_ms"] = sorted(plain)[len(plain) // 2] * 1e3
    out["profiled_step_ms"] = profiled_s / steps * 1e3
    out["steps"] = steps
    return out


def markdown(result: dict, title: str) -> list[str]:
    """Table lines: per-kind time per step and share, then the costliest operators."""
    lines = [
        f"## {title}",
        "",
        f"Median step {result['step_ms']:.0f} ms without the profiler, "
        f"{result['profiled_step_ms']:.0f} ms with it ({result['steps']} steps; self CPU "
        "time per operator, so kinds add up; small operators' shares include the "
        "profiler's per-call cost).",
        "",
        "| kind | ms per step (profiled) | share |",
        "|---|---:|---:|",
    ]
    for kind, v in result["per_kind"].items():
        lines.append(f"| {kind} | {v['ms_per_step']:.1f} | {100 * v['share']:.1f}% |")
    lines += ["", "| operator | kind | ms per step | share |", "|---|---|---:|---:|"]
    for op in result["top_ops"]:
        lines.append(
            f"| `{op['op']}` | {op['kind']} | {op['ms_per_step']:.1f} | {100 * op['share']:.1f}% |"
        )
    return lines + [""]


class BareStep:
    """One step of the bench's bare loop per call, cycling through fixed batches."""

    def __init__(self, model, batches: list[dict], optimizer, precision: str, device="cpu"):
        self.model, self.batches, self.optimizer = model, batches, optimizer
        self.precision, self.device = precision, device
        self.calls = 0

    def __call__(self) -> float:
        """Forward, backward, clipping and the optimizer step; returns the loss."""
        from xstilts.precision import autocast

        batch = self.batches[self.calls % len(self.batches)]
        self.calls += 1
        with autocast(self.precision, self.device):
            loss, _ = self.model("bench", batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())  # the trainer reads every loss: the same sync here


def profile_bench_model(
    model_name_or_factory, pairs, precision: str, batch_size: int = 16, max_seq_len: int = 40
) -> dict:
    """``profile_training_step`` of the bench's model, batches and optimizer (bare loop).

    Args:
        model_name_or_factory: As ``bench_training.run_benchmark``.
        pairs: ``(premise, hypothesis)`` strings.
        precision: ``fp32`` or ``bf16``.
        batch_size: Examples per step.
        max_seq_len: Truncation of the featurisation.

    Returns:
        ``profile_training_step``'s result with the model, precision and shapes.
    """
    from xstilts import bench_training as bt
    from xstilts.features import Collator, LengthGroupedSampler, featurize
    from xstilts.train import TrainConfig, build_optimizer

    factory = bt._resolve(model_name_or_factory)
    rows, _ = bt._bench_rows(list(pairs), 0)
    model, tok = bt._fresh_model(factory, 0, True)  # word embeddings frozen, as in mini
    model.train()
    ds = featurize(rows, bt.BENCH_SPEC, tok, max_seq_len, progress=False)
    sampler = LengthGroupedSampler(ds.with_format("numpy")["length"], batch_size, seed=0)
    data = ds.select_columns(["input_ids", "attention_mask", "labels"])
    collate = Collator(tok.pad_token_id)
    batches = [collate(data[sampler.next_batch()]) for _ in range(4)]
    cfg = TrainConfig(lr=1e-5, max_steps=100, batch_size=batch_size, seed=0)
    step = BareStep(model, batches, build_optimizer(model, cfg, fused=True), precision)
    out = profile_training_step(step)
    name = model_name_or_factory if isinstance(model_name_or_factory, str) else "factory"
    out.update(
        model=name,
        precision=precision,
        batch_size=batch_size,
        max_seq_len=max_seq_len,
        tokens_per_batch=[int(b["attention_mask"].numel()) for b in batches],
        torch_threads=torch.get_num_threads(),
    )
    return out
