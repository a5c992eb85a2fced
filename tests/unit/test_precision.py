"""compute.precision: resolution of ``auto``, validation, autocast, and run ids."""

import dataclasses

import pytest
import torch

from xstilts import params, pipeline, precision
from xstilts.heads import MultiTaskModel
from xstilts.xtreme import NLI_LABELS, TaskSpec


def _cpuinfo(tmp_path, flags):
    f = tmp_path / "cpuinfo"
    f.write_text(f"processor\t: 0\nflags\t\t: fpu sse avx2 {flags}\n")
    precision.cpu_has_native_bf16.cache_clear()
    return str(f)


@pytest.mark.parametrize(
    ("flags", "native"),
    [("amx_bf16 amx_tile", True), ("avx512f avx512_bf16", True), ("avx512f fma", False)],
)
def test_cpu_bf16_flags(tmp_path, flags, native):
    assert precision.cpu_has_native_bf16(_cpuinfo(tmp_path, flags)) is native


def test_auto_follows_the_hardware(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    assert precision.resolve_precision("auto", "cpu") == "fp32"
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    assert precision.resolve_precision("auto", "cpu") == "bf16"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(precision, "cuda_has_native_bf16", lambda: False)
    assert precision.resolve_precision("auto", "cuda") == "fp32"
    monkeypatch.setattr(precision, "cuda_has_native_bf16", lambda: True)
    assert precision.resolve_precision("auto", "cuda") == "bf16"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="cannot see the CUDA device"):
        precision.resolve_precision("auto", "cuda")  # e.g. planning `full` on a login node
    # Explicit settings are kept whatever the hardware.
    assert precision.resolve_precision("bf16", "cuda") == "bf16"
    assert precision.resolve_precision("fp32", "cpu") == "fp32"


def test_unknown_precision_is_rejected():
    with pytest.raises(ValueError, match="fp32 | bf16"):
        precision.resolve_precision("fp16", "cpu")
    with pytest.raises(ValueError, match="resolved"):
        precision.autocast("auto", "cpu")


def test_profile_rejects_unknown_precision():
    with pytest.raises(params.ParamsError, match="compute.precision"):
        params.load_profile("smoke", {"compute": {"precision": "half"}})


def test_precision_is_in_params_and_changes_run_ids():
    fp32 = pipeline.plan(params.load_profile("smoke", {"compute": {"precision": "fp32"}}))
    bf16 = pipeline.plan(params.load_profile("smoke", {"compute": {"precision": "bf16"}}))
    trained = [r for r in fp32 if r.phase in ("intermediate", "target")]
    assert trained and all(r.params["precision"] == "fp32" for r in trained)
    assert all(
        r.params["precision"] == "bf16" for r in bf16 if r.phase in ("intermediate", "target")
    )
    ids_a = {r.run_id for r in fp32 if r.phase != "data"}
    ids_b = {r.run_id for r in bf16 if r.phase != "data"}
    assert not ids_a & ids_b  # every training/eval run (and the analysis) gets a new id


def test_auto_is_resolved_at_plan_time(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    runs_ = pipeline.plan(params.load_profile("smoke", {"compute": {"precision": "auto"}}))
    assert {r.params["precision"] for r in runs_ if r.phase == "target"} == {"bf16"}


def _tiny_model():
    from xstilts.bench_training import tiny_model_factory

    torch.manual_seed(0)
    encoder, tok = tiny_model_factory(hidden_size=32, num_layers=2)
    spec = TaskSpec("t", "classification", "intermediate", "accuracy", labels=NLI_LABELS)
    return MultiTaskModel(encoder, {"t": spec}, tokenizer=tok, seed=0), tok


def test_bf16_autocast_keeps_weights_and_loss_fp32():
    model, tok = _tiny_model()
    enc = tok(["the man walks", "a dog runs fast"], padding=True, return_tensors="pt")
    batch = {**dict(enc), "labels": torch.tensor([0, 2])}
    with precision.autocast("bf16", "cpu"):
        loss, out = model("t", batch)
    assert out["logits"].dtype == torch.bfloat16  # the matmuls did run in bf16
    assert loss.dtype == torch.float32
    loss.backward()
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(p.grad.dtype == torch.float32 for p in model.parameters() if p.grad is not None)
    with precision.autocast("fp32", "cpu"):
        loss32, _ = model("t", batch)
    loss = loss.detach()
    assert abs(float(loss32) - float(loss)) < 0.05


def test_bf16_weights_score_like_bf16_autocast():
    """Trained targets are scored with weights cast to bf16 once (phases.target.evaluate)."""
    from xstilts.bench_training import tiny_model_factory

    torch.manual_seed(0)
    encoder, tok = tiny_model_factory(hidden_size=32, num_layers=2)
    spec = TaskSpec("t", "classification", "intermediate", "accuracy", labels=NLI_LABELS)
    model = MultiTaskModel(encoder, {"t": spec}, tokenizer=tok, seed=0, pooling="mean").eval()
    enc = tok(["the man walks to the park", "a dog runs"], padding=True, return_tensors="pt")
    with torch.inference_mode(), precision.autocast("bf16", "cpu"):
        _, autocast_out = model("t", dict(enc))
        model.to(torch.bfloat16)
        _, weights_out = model("t", dict(enc))
    assert next(model.parameters()).dtype == torch.bfloat16
    diff = (autocast_out["logits"].float() - weights_out["logits"].float()).abs().max()
    assert float(diff) < 0.05, diff


def test_train_config_carries_precision():
    from xstilts.phases import common

    spec = dataclasses.asdict(params.TrainSpec())
    assert common.train_config(spec, 0, "cpu", "bf16").precision == "bf16"


def test_frozen_mlm_decoder_is_cast_once_and_exactly():
    from xstilts.bench_training import tiny_model_factory
    from xstilts.heads import IGNORE_INDEX, freeze_embeddings

    torch.manual_seed(0)
    encoder, tok = tiny_model_factory(hidden_size=32, num_layers=2)
    mlm = TaskSpec("mlm", "mlm", "auxiliary", "perplexity")
    model = MultiTaskModel(encoder, {"mlm": mlm}, tokenizer=tok, seed=0).eval()  # no dropout
    enc = tok(["the man walks to the park", "a dog runs"], padding=True, return_tensors="pt")
    labels = torch.full_like(enc["input_ids"], IGNORE_INDEX)
    labels[:, 1] = enc["input_ids"][:, 1]
    batch = {**dict(enc), "labels": labels}
    with precision.autocast("bf16", "cpu"):
        _, trained = model("mlm", batch)  # embeddings trainable: autocast's own cast
    freeze_embeddings(model)
    with precision.autocast("bf16", "cpu"):
        loss, frozen = model("mlm", batch)
        cached = model.heads["mlm"]._cast_weight
        model("mlm", batch)
    assert model.heads["mlm"]._cast_weight is cached  # not cast again
    assert torch.equal(trained["logits"], frozen["logits"])
    assert loss.dtype == torch.float32


def test_report_names_the_precision_of_each_device():
    import pandas as pd

    from xstilts.report import cost_summary

    costs = pd.DataFrame(
        {
            "phase": ["data", "target", "target"],
            "run_id": ["d", "t1", "t2"],
            "status": ["done"] * 3,
            "wall_s": [1.0, 2.0, 3.0],
            "device_hours": [0.0] * 3,
            "device": ["cpu"] * 3,
            "precision": ["", "bf16", "bf16"],
        }
    )
    phases, total = cost_summary(costs)
    assert [p["devices"] for p in phases] == ["cpu", "cpu bf16"]
    assert total["devices"] == "cpu, cpu bf16"
