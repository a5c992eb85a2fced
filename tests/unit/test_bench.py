"""The benchmark code itself: FLOP model, one short comparison, its table."""

from types import SimpleNamespace

import pytest

from xstilts import bench_flops, bench_training


def test_encoder_flops_formula():
    cfg = SimpleNamespace(hidden_size=4, num_hidden_layers=2, intermediate_size=8)
    forward = 2 * 2 * (4 * 16 + 2 * 4 * 8) * (3 + 5) + 4 * 2 * 4 * (9 + 25)
    assert bench_flops.encoder_flops(cfg, [3, 5], train=False) == forward
    assert bench_flops.encoder_flops(cfg, [3, 5], train=True) == 3 * forward


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_short_benchmark_reports_utilisation_at_one_precision(precision):
    def tiny():
        return bench_training.tiny_model_factory(hidden_size=32, num_layers=2)

    peak = bench_flops.measure_peak(precision, seconds=0.05)
    result = bench_training.run_benchmark(
        tiny,
        64,
        5,
        batch_size=8,
        repeats=1,
        precision=precision,
        modes=("ours", "bare"),
        peak=peak,
    )
    assert result["precision"] == precision and result["peak"] is peak
    for mode in ("ours", "bare"):
        m = result["modes"][mode]
        assert m["examples_per_s"] > 0 and 0 < m["utilisation"] < 1
        assert m["achieved_gflops"] == pytest.approx(m["examples_per_s"] * m["gflops_per_example"])
    assert set(result["goals_met"]) == {"ours_vs_bare>=0.95"}
    table = "\n".join(bench_training.markdown(result))
    assert f"**{precision}**" in table and "| ours |" in table and "utilisation" in table


def test_rescore_uses_the_best_peak():
    low, high = {"gflops": 100.0}, {"gflops": 400.0}
    assert bench_flops.best_peak(low, high) is high
    modes = {"ours": {"examples_per_s": 10.0, "gflops_per_example": 20.0}}
    bench_flops.rescore(modes, high)
    assert modes["ours"]["achieved_gflops"] == 200.0 and modes["ours"]["utilisation"] == 0.5
