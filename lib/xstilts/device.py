"""Where a run computes: one setting (``compute.device``), resolved here and nowhere else.

``compute.device`` is ``auto``, ``cpu`` or ``cuda``. ``auto`` is ``cuda`` when a CUDA
device is visible, else ``cpu``; ``cuda`` without a visible device is an error before any
compute. Training (``train.py``), evaluation (``predict.py``, which follows the model) and
retrieval embeddings and k-NN (``retrieval.py``) all take the device this module returns,
so a run never mixes a CPU model with CUDA inputs.

One run uses one device: several GPUs serve a sweep as one run per GPU (one SLURM job per run,
submitted by ``xstilts.sweep``), not one run spread over them.

Determinism: CPU runs always use torch's deterministic kernels (free there; it is what
makes the documented same-numbers-in-any-process guarantee hold). On CUDA they cost speed
(cuBLAS workspace, no atomics-based kernels) and are used only when
``compute.deterministic`` asks for them.

Usage::

    device = setup_device("auto", threads=2)   # "cuda" on a GPU node, else "cpu"
    model.to(device)
"""

from __future__ import annotations

import os

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(setting: str) -> str:
    """Turn a ``compute.device`` setting into ``cpu`` or ``cuda``.

    Args:
        setting: ``auto``, ``cpu`` or ``cuda`` (``cuda:N`` is accepted as ``cuda``'s
            explicit form).

    Returns:
        ``"cpu"`` or ``"cuda"`` (or the given ``cuda:N``).

    Raises:
        ValueError: An unknown setting.
        RuntimeError: ``cuda`` asked for and no CUDA device is visible.
    """
    base = str(setting).split(":")[0]
    if base not in DEVICES:
        raise ValueError(f"compute.device must be one of {' | '.join(DEVICES)}, got {setting!r}")
    import torch

    if base == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if base == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("compute.device is cuda but no CUDA device is visible")
    return str(setting)


def setup_device(setting: str, threads: int = 0) -> str:
    """Resolve the device (``resolve_device``) and pin torch's CPU threads when asked."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    return resolve_device(setting)


def use_deterministic(device: str, asked: bool) -> bool:
    """Whether a run on ``device`` uses deterministic kernels: always on CPU, on CUDA if asked."""
    return asked or str(device).split(":")[0] == "cpu"


def configure_determinism(device: str, asked: bool) -> bool:
    """Switch torch's deterministic-algorithms mode for a run; return whether it is on.

    Set both ways: a warm kernel that ran a deterministic run before must not carry the
    (slower) mode into a run that did not ask for it.
    """
    import torch

    on = use_deterministic(device, asked)
    if on:
        # cuBLAS needs this workspace setting for deterministic GEMMs (read at its init).
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(on, warn_only=True)
    return on


def rng_devices(device: str) -> list[int]:
    """CUDA device indices whose RNG a ``torch.random.fork_rng`` around work on ``device`` forks."""
    import torch

    if str(device).split(":")[0] != "cuda":
        return []
    return [torch.device(device).index or torch.cuda.current_device()]
