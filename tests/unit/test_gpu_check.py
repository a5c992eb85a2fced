"""``invoke gpu-check``'s comparison, checked on the CPU.

The fast tests give ``compare`` run stores whose loss curves are known; the slow one runs
smoke twice for real, fp32 against bf16 autocast on the CPU (the arithmetic difference the
GPU run has), and then perturbs one curve of the second store.
"""

import math

import numpy as np
import pytest
import torch

from xstilts import gpu_check, io, runs


def _store(root, traces: dict, done=None):
    """A fake run store: ``{(phase, name): loss trace or None}``; ``done`` limits the DONE stamps."""
    out = {}
    for key, trace in traces.items():
        d = root / key[0] / f"{key[1]}-x"
        d.mkdir(parents=True)
        runs.write_metrics(d, {"train": None if trace is None else {"loss_trace": list(trace)}})
        if done is None or key in done:
            runs.mark_done(d, 1.0, False)
        out[key] = d
    return out


CURVE = [1.1 - 0.02 * i for i in range(20)]
KEYS = [("intermediate", "tiny_mnli"), ("target", "tiny_xnli"), ("target", "tiny_tatoeba")]


def _traces(curve_of=lambda c: c):
    return {KEYS[0]: CURVE, KEYS[1]: curve_of(CURVE), KEYS[2]: None}


def test_close_curves_pass(tmp_path):
    rng = np.random.default_rng(0)
    noisy = lambda c: list(np.asarray(c) * (1 + 0.03 * rng.standard_normal(len(c))))  # noqa: E731
    report = gpu_check.compare(
        _store(tmp_path / "a", _traces()), _store(tmp_path / "b", _traces(noisy))
    )
    assert report["ok"], report
    assert set(report["curves"]) == {
        "intermediate/tiny_mnli",
        "target/tiny_xnli",
    }  # tatoeba: no training
    assert report["curves"]["target/tiny_xnli"]["distance"] < gpu_check.TOLERANCE


def test_perturbed_curve_fails(tmp_path):
    scaled = lambda c: [1.3 * v for v in c]  # noqa: E731
    report = gpu_check.compare(
        _store(tmp_path / "a", _traces()), _store(tmp_path / "b", _traces(scaled))
    )
    assert not report["ok"]
    bad = report["curves"]["target/tiny_xnli"]
    assert not bad["ok"] and math.isclose(bad["distance"], 0.3, rel_tol=1e-6)
    assert "FAILED" in gpu_check.summary_lines(report)[0]


@pytest.mark.parametrize(
    "curve_of, why",
    [
        (lambda c: [*c[:-1], float("nan")], "non-finite loss"),
        (lambda c: c[:-3], "steps differ"),
    ],
)
def test_broken_curves_fail(tmp_path, curve_of, why):
    report = gpu_check.compare(
        _store(tmp_path / "a", _traces()), _store(tmp_path / "b", _traces(curve_of))
    )
    assert not report["ok"] and why in report["curves"]["target/tiny_xnli"]["why"]


def test_a_run_unfinished_on_one_side_fails(tmp_path):
    other = _store(tmp_path / "b", _traces(), done={KEYS[0], KEYS[1]})
    report = gpu_check.compare(_store(tmp_path / "a", _traces()), other)
    assert not report["ok"] and report["unfinished"] == {
        "cpu": [],
        "device": ["target/tiny_tatoeba"],
    }


def test_without_cuda_one_line_and_no_compute(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    def no_compute(*a, **k):
        raise AssertionError("gpu-check started compute without a GPU")

    monkeypatch.setattr(gpu_check, "execute", no_compute)
    assert gpu_check.main("smoke") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no CUDA device" in err


@pytest.mark.slow
def test_two_cpu_stores_of_smoke(tmp_path):
    """fp32 against bf16 autocast (both CPU): within tolerance; a perturbed store is not."""
    bf16 = {"compute": {"device": "cpu", "precision": "bf16"}}
    report = gpu_check.check("smoke", tmp_path, tmp_path / "cpu", bf16, gpu_check.TOLERANCE, "bf16")
    assert report["ok"], gpu_check.summary_lines(report)
    assert report["runs"] == 7 and len(report["curves"]) >= 2
    assert io.read_json(tmp_path / gpu_check.REPORT)["ok"]
    cpu, _ = gpu_check.execute("smoke", gpu_check.CPU, tmp_path / "cpu")  # all skipped now
    dev, _ = gpu_check.execute("smoke", bf16, tmp_path / "bf16")
    key = next(k for k in dev if k[0] == "intermediate")
    m = runs.read_metrics(dev[key])
    m["train"]["loss_trace"] = [2 * v for v in m["train"]["loss_trace"]]
    runs.write_metrics(dev[key], m)
    assert not gpu_check.compare(cpu, dev)["ok"]
