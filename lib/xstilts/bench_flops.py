"""Model FLOP utilisation for the benchmarks: FLOPs of an encoder pass and the matmul peak.

Utilisation = achieved model FLOP/s / the matmul peak that the benchmark measures on the
same machine, thread count and precision (``measure_peak``), as nanoGPT/PaLM's MFU but
against a measured rather than a datasheet peak.

Model FLOPs count the useful work only: the encoder's matmuls over the real (unpadded)
tokens of each sequence plus attention's two ``T x T`` products, forward
``2 * L * (4 H^2 + 2 H F)`` per token + ``4 * L * H * T^2`` per sequence, and a training
step three times the forward (Kaplan et al. 2020; backward = 2 x forward). The embedding
lookup and the small task head are left out. Padding counts as waste, so a loop that pads
more reaches a lower utilisation at the same examples/s.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

PEAK_SHAPES = {
    # (rows, in, out): e5-small's FFN projection over 16 x 40 tokens, and a square GEMM.
    "ffn_640x384x1536": (640, 384, 1536),
    "square_2048": (2048, 2048, 2048),
}
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


class TokenCounter:
    """Forward pre-hook on an encoder: records the real length of every sequence it sees."""

    def __init__(self):
        self.lengths: list[int] = []
        self.padded_tokens = 0

    def reset(self) -> None:
        """Forget what was counted."""
        self.lengths, self.padded_tokens = [], 0

    def __call__(self, module, args, kwargs):  # noqa: D102
        ids = kwargs.get("input_ids", args[0] if args else None)
        mask = kwargs.get("attention_mask")
        self.padded_tokens += ids.numel()
        real = mask.sum(dim=-1) if mask is not None else torch.full(ids.shape[:1], ids.shape[1])
        self.lengths += real.reshape(-1).tolist()

    @property
    def examples(self) -> int:
        """Sequences seen."""
        return len(self.lengths)


def encoder_flops(config, lengths, train: bool) -> float:
    """Model FLOPs of encoding sequences of the given real lengths (module docstring)."""
    h, n_layers = config.hidden_size, config.num_hidden_layers
    ffn = config.intermediate_size
    tokens = float(sum(lengths))
    squares = float(sum(t * t for t in lengths))
    forward = 2 * n_layers * (4 * h * h + 2 * h * ffn) * tokens + 4 * n_layers * h * squares
    return 3 * forward if train else forward


def _gflops(rows: int, k: int, n: int, dtype: torch.dtype, seconds: float) -> float:
    x = torch.randn(rows, k, dtype=dtype)
    w = torch.randn(n, k, dtype=dtype)  # nn.Linear layout: the GEMM the encoder runs
    for _ in range(3):
        F.linear(x, w)
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        F.linear(x, w)
        reps += 1
    return 2 * rows * k * n * reps / (time.perf_counter() - t0) / 1e9


def measure_peak(precision: str, seconds: float = 0.5) -> dict:
    """Matmul GFLOP/s at ``precision`` on this machine's current torch thread count.

    Returns:
        ``{"gflops": best, "by_shape": {...}, "threads": n}``; the best shape is the peak.
    """
    dtype = DTYPES[precision]
    by_shape = {name: _gflops(*shape, dtype, seconds) for name, shape in PEAK_SHAPES.items()}
    return {
        "gflops": max(by_shape.values()),
        "by_shape": by_shape,
        "threads": torch.get_num_threads(),
    }


def utilisation(examples_per_s: float, flops_per_example: float, peak_gflops: float) -> dict:
    """Achieved GFLOP/s and its fraction of the peak."""
    achieved = examples_per_s * flops_per_example / 1e9
    return {"achieved_gflops": achieved, "utilisation": achieved / peak_gflops}


def reset_accelerate() -> None:
    """Forget ``Trainer``'s accelerate state.

    Its ``bf16`` setting is a process-wide singleton that would make the next
    ``Accelerator(mixed_precision="no")`` (our trainer's) raise.
    """
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)


def best_peak(*peaks: dict) -> dict:
    """The highest of several ``measure_peak`` results (other load only lowers a peak)."""
    return max(peaks, key=lambda p: p["gflops"])


def rescore(modes: dict, peak: dict) -> None:
    """Recompute every mode's utilisation against ``peak`` (in place)."""
    for m in modes.values():
        m.update(utilisation(m["examples_per_s"], m["gflops_per_example"] * 1e9, peak["gflops"]))
