"""One device setting everywhere, chunked k-NN, memory switches (all checked on the CPU).

The CUDA paths are checked through their logic: the resolver with ``torch.cuda`` patched,
the trainer told ``cpu`` on a machine that claims a GPU, the retrieval encoder moved to
the resolved device, and the blocked k-NN against the unblocked one.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.unit.nli_rows import nli_rows
from xstilts import device, params, pipeline, retrieval
from xstilts.bench_training import tiny_model_factory
from xstilts.features import featurize
from xstilts.heads import MultiTaskModel
from xstilts.train import TrainConfig, plan_steps, planned_examples, train
from xstilts.xtreme import NLI_LABELS, TaskSpec

CLS = TaskSpec("nli", "classification", "intermediate", "accuracy", labels=NLI_LABELS)


@pytest.fixture
def cuda_visible(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)


def test_resolver_follows_the_setting(monkeypatch, cuda_visible):
    assert device.resolve_device("auto") == "cuda"
    assert device.resolve_device("cpu") == "cpu"  # a visible GPU does not override cpu
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert device.resolve_device("auto") == "cpu"
    with pytest.raises(RuntimeError, match="no CUDA device is visible"):
        device.resolve_device("cuda")
    with pytest.raises(ValueError, match="auto | cpu | cuda"):
        device.resolve_device("tpu")


def test_determinism_only_where_asked():
    before = torch.are_deterministic_algorithms_enabled()
    try:
        assert device.configure_determinism("cpu", False) is True  # CPU: always
        assert torch.are_deterministic_algorithms_enabled()
        assert device.configure_determinism("cuda", False) is False  # CUDA: off by default
        assert not torch.are_deterministic_algorithms_enabled()
        assert device.configure_determinism("cuda", True) is True
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(before, warn_only=True)


@pytest.fixture(scope="module")
def nli():
    _, tok = tiny_model_factory()
    return featurize(nli_rows(32), CLS, tok, 48, progress=False)


def _model(seed=0):
    torch.manual_seed(seed)
    enc, tok = tiny_model_factory(hidden_size=16, intermediate_size=32)
    return MultiTaskModel(enc, {"nli": CLS}, tokenizer=tok, seed=seed)


def _cfg(**kw):
    base = dict(lr=1e-3, max_steps=4, batch_size=4, seed=0, progress=False, log_every=0)
    return TrainConfig(**{**base, **kw})


def test_trainer_obeys_cpu_on_a_machine_with_cuda(nli, tmp_path, cuda_visible):
    # Before: accelerate put the model on CUDA whenever torch saw one, whatever the profile
    # said; here torch "sees" a GPU that does not exist, so any CUDA placement would fail.
    model = _model()
    res = train(model, {"nli": nli}, None, _cfg(device="cpu"), tmp_path)
    assert res.status == "completed" and res.steps == 4
    assert {p.device.type for p in model.parameters()} == {"cpu"}


def test_gradient_checkpointing_same_loss_trace(nli, tmp_path):
    plain = train(_model(), {"nli": nli}, None, _cfg(), tmp_path / "a")
    model = _model()
    ckpt = train(model, {"nli": nli}, None, _cfg(gradient_checkpointing=True), tmp_path / "b")
    # Non-reentrant checkpointing replays dropout with the saved RNG state.
    np.testing.assert_allclose(ckpt.loss_trace, plain.loss_trace, rtol=1e-5)
    assert not model.encoder.is_activation_checkpointing  # off again for saving / evaluation


def test_gradient_checkpointing_is_validated(tmp_path):
    with pytest.raises(params.ParamsError, match="gradient_checkpointing must be true or false"):
        params.load_profile("smoke", {"intermediate": {"train": {"gradient_checkpointing": 1}}})


def test_task_accumulation_equals_run_accumulation(nli, tmp_path):
    """A task's draw of 2 x 4 examples is the run's accumulation of 2 batches of 4."""
    run_level = _cfg(grad_accum=2, max_steps=0, epochs=1)
    task_level = _cfg(task_grad_accum={"nli": 2}, max_steps=0, epochs=1)
    sizes, batch = {"nli": len(nli)}, {"nli": 4}
    assert plan_steps(run_level, sizes, batch) == plan_steps(task_level, sizes, batch) == 4
    assert planned_examples(run_level, sizes, batch) == planned_examples(task_level, sizes, batch)
    a = train(_model(), {"nli": nli}, None, run_level, tmp_path / "a")
    b = train(_model(), {"nli": nli}, None, task_level, tmp_path / "b")
    assert a.loss_trace == b.loss_trace and a.examples_seen == b.examples_seen == {"nli": 32}


def test_per_task_grad_accum_applies_once():
    """In a mixture a task's grad_accum splits its draws; alone it is the run's; never both."""
    over = {"intermediate": {"per_task": {"hellaswag": {"batch_size": 6, "grad_accum": 4}}}}
    profile = params.load_profile("smoke", over)
    spec, mixture = params.intermediate_train_for(profile, ["hellaswag"], "english")
    assert (spec.batch_size, spec.grad_accum, mixture) == (6, 4, {"hellaswag": {"batch_size": 6}})
    spec, mixture = params.intermediate_train_for(profile, ["hellaswag", "mnli"], "english")
    assert spec.grad_accum == 1
    assert mixture == {"hellaswag": {"batch_size": 6, "grad_accum": 4}}


def test_compute_deterministic_reaches_every_training_run():
    profile = params.load_profile("smoke", {"compute": {"deterministic": True}})
    trained = [r for r in pipeline.plan(profile) if r.phase in ("intermediate", "target")]
    assert trained and all(r.params["deterministic"] is True for r in trained)


def test_retrieval_encoder_is_moved_to_the_run_device(monkeypatch):
    """BUCC/Tatoeba embed with the encoder itself: it must sit where the inputs go."""
    from xstilts.phases import common, target
    from xstilts.run_params import TargetRunParams

    # "meta" stands in for the GPU: any device other than the CPU the model loads on.
    monkeypatch.setattr(common, "setup_device", lambda setting, threads: "meta")
    s = target.setup(TargetRunParams(task="tatoeba", model="tiny-random", device="cuda"))
    assert {p.device.type for p in s.encoder.parameters()} == {"meta"}
    assert s.device == "meta"


# --------------------------------------------------------------------------- k-NN blocks


def test_bucc_mining_in_small_blocks_equals_one_block(monkeypatch):
    gen = torch.Generator().manual_seed(1)
    src, trg = torch.randn(90, 12, generator=gen), torch.randn(110, 12, generator=gen)
    ids_s, ids_t = [f"s{i}" for i in range(90)], [f"t{i}" for i in range(110)]
    whole = retrieval.bucc_mine(src, trg, ids_s, ids_t, chunk_size=512)
    seen = []
    real = retrieval._similarities

    def spy(q, block):
        seen.append(q.shape[0] * block.shape[0])
        return real(q, block)

    monkeypatch.setattr(retrieval, "_similarities", spy)
    monkeypatch.setattr(retrieval, "MAX_BLOCK", 256)  # 400k x 400k in miniature
    blocked = retrieval.bucc_mine(src, trg, ids_s, ids_t, chunk_size=16)
    assert [(c[1], c[2]) for c in blocked] == [(c[1], c[2]) for c in whole]
    np.testing.assert_allclose([c[0] for c in blocked], [c[0] for c in whole], rtol=1e-6)
    assert seen and max(seen) <= 256  # never more than one bounded block of similarities


def test_chunk_size_is_bounded():
    x = torch.randn(4, 3)
    with pytest.raises(ValueError, match="chunk_size must be in"):
        retrieval.chunked_topk(x, x, k=4, chunk_size=retrieval.MAX_BLOCK)


def test_chunked_topk_on_a_device_returns_cpu_tensors():
    gen = torch.Generator().manual_seed(0)
    q, keys = torch.randn(20, 6, generator=gen), torch.randn(30, 6, generator=gen)
    scores, idx = retrieval.chunked_topk(q, keys, k=3, chunk_size=4, device="cpu")
    expected = torch.topk(F.normalize(q, dim=1) @ F.normalize(keys, dim=1).T, 3, dim=1)
    assert torch.equal(idx, expected.indices) and scores.device.type == "cpu"
