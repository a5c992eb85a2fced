"""The step profile attributes a training step's operators to kinds that add up."""

import pytest

from xstilts import bench_profile, bench_training


@pytest.mark.parametrize(
    ("op", "kind"),
    [
        ("aten::addmm", "matmul"),  # not "add": matmul patterns come first
        ("aten::bmm", "matmul"),
        ("aten::_scaled_dot_product_flash_attention_for_cpu", "attention"),
        ("aten::_fused_adamw_", "optimizer"),
        ("aten::_to_copy", "dtype casts"),
        ("aten::native_layer_norm_backward", "elementwise and norms"),
        ("aten::gelu", "elementwise and norms"),
        ("aten::add_", "elementwise and norms"),
        ("aten::embedding_dense_backward", "embedding"),
        ("aten::view", "views and shapes"),
        ("aten::to", "dtype casts"),
        ("aten::topk", "other"),
        ("aten::some_new_op", "other"),
    ],
)
def test_operator_kinds(op, kind):
    assert bench_profile.kind_of(op) == kind


def test_breakdown_shares_add_up_and_rank():
    got = bench_profile.breakdown({"aten::mm": 600.0, "aten::add": 300.0, "aten::xyz": 100.0}, 2)
    assert list(got["per_kind"]) == ["matmul", "elementwise and norms", "other"]
    assert got["per_kind"]["matmul"] == {"ms_per_step": 0.3, "share": 0.6}
    assert sum(v["share"] for v in got["per_kind"].values()) == pytest.approx(1.0)
    assert got["top_ops"][0]["op"] == "aten::mm"


def test_profile_of_a_tiny_bench_model_finds_its_matmuls():
    pairs = bench_training.synthetic_pairs(32, seed=0)
    got = bench_profile.profile_bench_model(
        bench_training.tiny_model_factory, pairs, "fp32", batch_size=8, max_seq_len=16
    )
    kinds = got["per_kind"]
    assert kinds["matmul"]["ms_per_step"] > 0 and kinds["optimizer"]["ms_per_step"] > 0
    assert sum(v["share"] for v in kinds.values()) == pytest.approx(1.0)
    assert got["step_ms"] > 0 and got["profiled_step_ms"] > 0
    lines = bench_profile.markdown(got, "tiny")
    assert any(line.startswith("| matmul |") for line in lines)
