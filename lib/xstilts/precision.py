"""Numeric precision of training, evaluation and retrieval: one rule, decided here.

``compute.precision`` in a profile is ``auto``, ``fp32`` or ``bf16``. ``auto`` becomes
``bf16`` where the hardware multiplies bf16 natively and ``fp32`` elsewhere:

- CPU: AMX (``amx_bf16``) or AVX512-BF16 (``avx512_bf16``). Without them bf16 matmuls
  are emulated and slower than fp32 (e.g. the AVX2 EPYC machines of
  toolchain-measurements.md);
- CUDA: compute capability 8.0 (Ampere) or newer.

The pipeline resolves ``auto`` when it plans, so the concrete precision is part of every
run's params, fingerprint and run id, and ``metrics.json`` records it: a bf16 result is
never mistaken for (or skipped as) an fp32 one.

``bf16`` means autocast, not bf16 weights: parameters, gradients and optimizer states
stay fp32, matmuls and attention run in bf16, and the heads compute their losses from
fp32 logits (``heads.py``), as in mixed-precision training (Micikevicius et al. 2018).

Usage::

    precision = resolve_precision("auto", "cpu")      # "bf16" on AMX machines
    with autocast(precision, "cpu"):
        loss, _ = model(task, batch)
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

from xstilts.device import resolve_device

PRECISIONS = ("auto", "fp32", "bf16")

# /proc/cpuinfo flags of native bf16 matrix arithmetic on x86.
_CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@functools.cache
def cpu_has_native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU multiplies bf16 natively (AMX or AVX512-BF16)."""
    path = Path(cpuinfo)
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return any(f in flags for f in _CPU_BF16_FLAGS)
    # No /proc (macOS, Windows): ask torch's own CPU feature probe.
    import torch

    return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())


def cuda_has_native_bf16() -> bool:
    """Whether the current CUDA device is Ampere (compute capability 8.0) or newer."""
    import torch

    return torch.cuda.is_available() and torch.cuda.get_device_capability()[0] >= 8


def resolve_precision(setting: str, device: str) -> str:
    """Turn a ``compute.precision`` setting into ``fp32`` or ``bf16`` for ``device``.

    Args:
        setting: ``auto``, ``fp32`` or ``bf16``.
        device: ``cpu``, ``cuda`` or ``auto`` (resolved by ``xstilts.device.resolve_device``).

    Returns:
        ``"bf16"`` or ``"fp32"``. An explicit ``bf16`` is kept even without native
        support (slow, but what was asked for).

    Raises:
        ValueError: If ``setting`` is not one of ``PRECISIONS``, or it is ``auto`` for
            ``cuda`` on a machine where no CUDA device is visible.
    """
    if setting not in PRECISIONS:
        raise ValueError(f"precision must be one of {' | '.join(PRECISIONS)}, got {setting!r}")
    if setting != "auto":
        return setting
    # ``auto`` through the one device resolver; an explicit device is taken as given (a
    # login node plans a ``cuda`` profile it cannot run).
    if (resolve_device(device) if device == "auto" else device) != "cuda":
        return "bf16" if cpu_has_native_bf16() else "fp32"
    import torch

    if not torch.cuda.is_available():
        # Planning a GPU profile on a machine without the GPU (a cluster login node): the
        # GPU cannot be asked, and guessing would put a wrong precision into every run id.
        raise ValueError(
            "compute.precision: auto cannot see the CUDA device from this machine; "
            "set compute.precision to bf16 (Ampere or newer) or fp32 in the profile"
        )
    return "bf16" if cuda_has_native_bf16() else "fp32"


def autocast(precision: str, device: str | object = "cpu"):
    """Context manager: bf16 autocast for ``bf16``, nothing for ``fp32``.

    Args:
        precision: A resolved precision (``fp32`` or ``bf16``).
        device: Device (string or ``torch.device``) the computation runs on.

    Raises:
        ValueError: If ``precision`` is ``auto`` or unknown (resolve it first).
    """
    if precision == "fp32":
        return contextlib.nullcontext()
    if precision != "bf16":
        raise ValueError(f"autocast needs a resolved precision (fp32 | bf16), got {precision!r}")
    import torch

    device_type = getattr(device, "type", None) or str(device).split(":")[0]
    return torch.autocast(device_type=device_type, dtype=torch.bfloat16)
