"""``invoke gpu-check``: a profile on CUDA in bf16 against the same profile on the CPU.

Usage::

    invoke gpu-check                       # the rehearsal-ci profile (the CI cut of the rehearsal)
    invoke gpu-check --profile smoke       # two minutes on a GPU machine

It runs the profile twice, each in its own run store under ``runs/_gpu_check/``: on the
CPU in fp32 (the reference; ``--cpu-store`` points at one made elsewhere, whose finished
runs are reused) and on CUDA in bf16 autocast. Then it checks that

1. the same runs finish: every planned run is ``DONE`` in both stores;
2. the loss curves are close: for every training run, the mean absolute difference of
   the two loss curves, each smoothed by a moving average over a fifth of its steps, is at
   most ``TOLERANCE`` (10 %) of the CPU curve's mean loss, over the same number of steps,
   with no non-finite loss.

Why 10 %: the two runs share data order, initial weights and schedule, but not the
dropout masks (CUDA's generator is not the CPU's) nor the arithmetic (bf16 autocast
rounds to 8 significant bits, about 0.4 % per operation, against fp32). On the short
training runs of the rehearsal this moves step losses by a few percent, and smoothing
takes out most of the per-step noise; a fault (model and inputs on different devices, a
broken autocast, mismatched data) moves a curve by much more or makes it non-finite.
The figure is a reasoned bound, not yet calibrated on a GPU (none was available when it
was written); ``--tolerance`` overrides it, and the report gives every distance.

On a machine without CUDA it prints one line and exits (status 2) before any compute.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from xstilts import io, params, paths, runs

TOLERANCE = 0.10
CPU = {"compute": {"device": "cpu", "precision": "fp32"}}
CUDA = {"compute": {"device": "cuda", "precision": "bf16"}}
REPORT = "gpu_check.json"


@contextlib.contextmanager
def _store(root: Path):
    """Point ``XSTILTS_RUNS`` (this process and the kernels it starts) at ``root``."""
    before = os.environ.get("XSTILTS_RUNS")
    os.environ["XSTILTS_RUNS"] = str(root)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("XSTILTS_RUNS", None)
        else:
            os.environ["XSTILTS_RUNS"] = before


def execute(profile_name: str, overrides: dict, root: Path) -> tuple[dict, float]:
    """Run a profile (with ``overrides``) into the store ``root``; finished runs are skipped.

    Returns:
        ``({(phase, name): run folder}, wall seconds)``. Runs are keyed by their cell, not
        their id: the id differs between the two stores (device and precision are params).
    """
    from xstilts import cli, pipeline, sweep

    with _store(root):
        profile = params.load_profile(profile_name, overrides)
        if profile.compute.executor == "slurm":  # one machine: its own processes
            profile.compute.executor = "local-parallel"
        cli.configure_threads(profile)
        cli.preflight(profile)
        plan = pipeline.plan(profile)
        t0 = time.time()
        sweep.run_profile(profile, plan, retry_failed=True)
        return {(r.phase, r.name): r.dir for r in plan}, time.time() - t0


def _smooth(trace: list[float]) -> np.ndarray:
    x = np.asarray(trace, dtype=float)
    window = max(1, len(x) // 5)
    return np.convolve(x, np.ones(window) / window, mode="valid")


def curve_distance(cpu: list[float], other: list[float], tolerance: float = TOLERANCE) -> dict:
    """Compare two loss curves (the rule in the module docstring).

    Returns:
        ``{"steps": (n_cpu, n_other), "distance": relative distance or None, "ok", "why"}``.
    """
    out = {"steps": [len(cpu), len(other)], "distance": None, "ok": False, "why": ""}
    if not all(math.isfinite(v) for v in [*cpu, *other]):
        out["why"] = "non-finite loss"
    elif len(cpu) != len(other) or not cpu:
        out["why"] = f"steps differ: {len(cpu)} on the CPU, {len(other)} on the device"
    else:
        a, b = _smooth(cpu), _smooth(other)
        out["distance"] = float(np.mean(np.abs(a - b)) / max(np.mean(np.abs(a)), 1e-12))
        out["ok"] = out["distance"] <= tolerance
        out["why"] = "" if out["ok"] else f"loss curves differ by {out['distance']:.1%}"
    return out


def _trace(run_dir: Path) -> list[float] | None:
    train = (runs.read_metrics(run_dir).get("train") or {}) if run_dir.exists() else {}
    return train.get("loss_trace") or None


def compare(cpu: dict, other: dict, tolerance: float = TOLERANCE) -> dict:
    """Check the two stores: the same runs finished, the loss curves close.

    Args:
        cpu: ``{(phase, name): folder}`` of the reference store.
        other: The same for the store under test.
        tolerance: Largest relative curve distance (``curve_distance``).

    Returns:
        ``{"ok", "runs", "unfinished": {"cpu": [...], "device": [...]}, "curves": {...}}``.
    """
    keys = sorted(set(cpu) | set(other))
    unfinished = {
        side: ["/".join(k) for k in keys if k not in store or not runs.is_done(store[k])]
        for side, store in (("cpu", cpu), ("device", other))
    }
    curves = {}
    for k in keys:
        if k in cpu and k in other and runs.is_done(cpu[k]) and runs.is_done(other[k]):
            a, b = _trace(cpu[k]), _trace(other[k])
            if a is not None or b is not None:
                curves["/".join(k)] = curve_distance(a or [], b or [], tolerance)
    ok = (
        not unfinished["cpu"] and not unfinished["device"] and all(c["ok"] for c in curves.values())
    )
    return {"ok": ok, "runs": len(keys), "tolerance": tolerance, "unfinished": unfinished,
            "curves": curves}  # fmt: skip


def summary_lines(report: dict) -> list[str]:
    """The check's verdict, one line per fault, then the largest curve distance."""
    lines = []
    for side, missing in report["unfinished"].items():
        lines += [f"  not finished on {side}: {k}" for k in missing]
    bad = {k: c for k, c in report["curves"].items() if not c["ok"]}
    lines += [f"  {k}: {c['why']}" for k, c in bad.items()]
    dists = [(c["distance"], k) for k, c in report["curves"].items() if c["distance"] is not None]
    if dists:
        d, k = max(dists)
        lines.append(
            f"  largest loss-curve distance {d:.2%} ({k}); tolerance {report['tolerance']:.0%}"
        )
    verdict = "passed" if report["ok"] else "FAILED"
    head = (
        f"gpu-check {verdict}: {report['runs']} runs, {len(report['curves'])} loss curves compared"
    )
    return [head, *lines]


def check(
    profile_name: str, root: Path, cpu_root: Path, other: dict, tolerance: float, name="cuda"
) -> dict:
    """Run the reference and the ``root/<name>`` store, compare, write ``root/gpu_check.json``."""
    cpu, cpu_s = execute(profile_name, CPU, cpu_root)
    dev, dev_s = execute(profile_name, other, root / name)
    report = compare(cpu, dev, tolerance)
    report.update(profile=profile_name, cpu_wall_s=round(cpu_s, 1), device_wall_s=round(dev_s, 1),
                  device=other["compute"])  # fmt: skip
    io.atomic_write_json(root / REPORT, report)
    return report


def main(profile: str = "rehearsal-ci", store: str = "", cpu_store: str = "", tolerance=TOLERANCE):
    """``invoke gpu-check``: exit status 0 passed, 1 failed, 2 no CUDA device (nothing run)."""
    params.load_profile(profile)  # a bad profile name fails first, with its own message
    import torch

    if not torch.cuda.is_available():
        print(
            "gpu-check: no CUDA device is visible on this machine; nothing was run", file=sys.stderr
        )
        return 2
    root = Path(store) if store else paths.runs_root() / "_gpu_check"
    cpu_root = Path(cpu_store) if cpu_store else root / "cpu"
    report = check(profile, root, cpu_root, CUDA, float(tolerance))
    for line in summary_lines(report):
        print(line)
    print(f"  CPU run {report['cpu_wall_s']:.0f} s, CUDA bf16 run {report['device_wall_s']:.0f} s; "
          f"report {root / REPORT}")  # fmt: skip
    return 0 if report["ok"] else 1
