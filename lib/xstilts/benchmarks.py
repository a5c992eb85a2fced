"""``invoke bench``: speed goals are checked by benchmarks, not by timed tests.

Writes to ``bench/``:

- ``training.json`` / ``training.md``: our trainer vs HF ``Trainer`` with ``run_xnli.py``
  defaults (padding to 128) vs ``Trainer`` with dynamic padding vs a bare
  forward/backward/step loop, same model, data and steps (``bench_training``). The model is
  the 3-layer mini encoder on mini NLI pairs in English (the real text lengths of the mini
  profile), embedding matrix frozen as in the profile.
- ``retrieval.json`` / ``retrieval.md``: chunked top-k vs bare matmul + top-k on the same
  vectors (sentences/s and the ratio).
- ``throughput_by_model`` in ``training.json`` feeds the cost estimate of ``invoke plan``.
"""

from __future__ import annotations

import os

from xstilts import io, paths

BENCH = paths.ROOT / "bench"


def training(model: str = "mini-e5-L3", n_examples: int = 640, steps: int = 20) -> dict:
    """Training-throughput comparison on the mini encoder and mini NLI pairs."""
    from xstilts import bench_training
    from xstilts.data import synthetic

    rows = synthetic.generate("mnli", "train", "en", n_examples, seed=0)
    pairs = [(r["text_a"], r["text_b"]) for r in rows]
    result = bench_training.run_benchmark(model, n_examples, steps, batch_size=32, pairs=pairs)
    result["throughput_by_model"] = {model: result["modes"]["ours"]["examples_per_s"]}
    bench_training.write_results(result, BENCH / "training.json", BENCH / "training.md")
    return result


def retrieval_bench(n: int = 10000, d: int = 384) -> dict:
    """Retrieval throughput: chunked top-k vs a bare matmul + top-k on the same vectors."""
    from xstilts import retrieval

    result = retrieval.benchmark(n=n, d=d, k=4)
    io.atomic_write_json(BENCH / "retrieval.json", result)
    lines = ["# Retrieval throughput", "", "| quantity | value |", "|---|---:|"]
    lines += [
        f"| {k} | {v:.3f} |" if isinstance(v, float) else f"| {k} | {v} |"
        for k, v in result.items()
    ]
    io.atomic_write_text(BENCH / "retrieval.md", "\n".join(lines) + "\n")
    return result


def main() -> int:
    """Run both benchmarks and print their tables."""
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    BENCH.mkdir(exist_ok=True)
    retrieval_bench()
    print((BENCH / "retrieval.md").read_text())
    training()
    print((BENCH / "training.md").read_text())
    return 0
