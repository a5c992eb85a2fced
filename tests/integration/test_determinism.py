"""Same profile, precision and seed, two fresh processes: identical loss traces and scores.

Catches anything that draws from an unseeded RNG or depends on Python's per-process hash
seed (head initialisation did, before heads were seeded by the run's seed). Run in fp32
(the smoke profile) and in bf16 autocast (the mini default on AMX / AVX512-BF16 CPUs):
determinism holds per precision on one machine.

The two sweeps also differ in how notebooks are executed: one fresh kernel per run in one
process (``XSTILTS_FRESH_KERNELS=1``), against warm kernels reused across runs by a pool of
two workers (``xstilts.warm_kernel``, the default). Identical results show that a run does
not depend on what ran before it in the same kernel.
"""

import json

import pytest
import yaml

from tests.integration.invoke_runner import invoke, isolated_env
from xstilts import paths, precision


def _profile(folder, prec, executor):
    data = yaml.safe_load((paths.PARAMS / "smoke.yaml").read_text())
    data["compute"]["precision"] = prec
    data["compute"]["executor"] = executor
    if executor == "local-parallel":
        data["compute"]["workers"] = 2  # threads stay as in smoke: they can change sums
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"smoke-{prec}-{executor}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _reproduce(store, hash_seed, profile, **env_extra):
    env = isolated_env(store, PYTHONHASHSEED=str(hash_seed), **env_extra)
    proc = invoke(["reproduce", "--profile", str(profile), "--no-paper"], env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = {}
    for phase in ("intermediate", "target"):
        for f in sorted((store / "runs" / phase).glob("*/metrics.json")):
            m = json.loads(f.read_text())
            train = m.get("train") or {}
            out[f.parent.name] = (
                m.get("precision"),
                train.get("loss_trace"),
                m.get("per_language"),
            )
    return out


@pytest.mark.slow
@pytest.mark.parametrize("prec", ["fp32", "bf16"])
def test_smoke_runs_are_identical_across_processes(tmp_path, prec):
    if prec == "bf16" and not precision.cpu_has_native_bf16():
        pytest.skip("no native bf16 on this CPU")
    fresh = _profile(tmp_path, prec, "local")
    warm = _profile(tmp_path, prec, "local-parallel")
    a = _reproduce(tmp_path / "a", 1, fresh, XSTILTS_FRESH_KERNELS="1")
    b = _reproduce(tmp_path / "b", 2, warm)
    assert a.keys() == b.keys() and len(a) == 5  # same run ids: 1 intermediate + 4 targets
    assert {p for p, _, _ in a.values()} == {prec}  # the precision reached every run
    assert any(trace for _, trace, _ in a.values())
    assert a == b
    # Trained targets are scored with the weights of their precision (bf16: cast once).
    weights = {"fp32": "float32", "bf16": "bfloat16"}[prec]
    scored = [
        json.loads(f.read_text())
        for f in (tmp_path / "a" / "runs" / "target").glob("*/metrics.json")
    ]
    trained = [m for m in scored if m.get("train")]
    assert trained and {m["evaluation_weights"] for m in trained} == {weights}
