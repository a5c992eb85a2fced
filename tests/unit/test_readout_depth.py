"""Read-out depth decomposition of the retrieval loss (issue 14), on known numbers."""

from __future__ import annotations

import pytest

from xstilts import readout_depth, runs


def _run(tmp_path, name, setting, per_layer, chosen):
    d = tmp_path / name
    d.mkdir()
    runs.write_metrics(
        d,
        {
            "status": "ok", "model": "e5-L12", "params_m": 1.0, "setting": setting,
            "mode": "english", "seed": 0, "task": "tatoeba", "retrieval_layer": chosen,
            "retrieval_per_layer": {str(k): {"test": t, "dev": t - 1} for k, t in per_layer.items()},
        },
    )  # fmt: skip
    return d


def test_loss_splits_into_depth_and_residual(tmp_path):
    # Untrained best at the last layer (12: 90); MNLI training ruins the last layer (30)
    # but layer 8 keeps 80, and dev picks 8 for the trained encoder.
    none = _run(tmp_path, "a", "none", {8: 85.0, 12: 90.0}, 12)
    mnli = _run(tmp_path, "b", "mnli", {8: 80.0, 12: 30.0}, 8)
    layers = readout_depth.layer_table([none, mnli])
    assert len(layers) == 4 and layers["chosen"].sum() == 2
    (row,) = readout_depth.depth_effect(layers).to_dict(orient="records")
    assert row["untrained_layer"] == 12 and row["trained_layer"] == 8
    assert row["loss"] == pytest.approx(10.0)
    assert row["loss_at_untrained_layer"] == pytest.approx(60.0)
    assert row["recovered_by_layer"] == pytest.approx(50.0)


def test_no_retrieval_runs_give_empty_tables(tmp_path):
    assert readout_depth.depth_effect(readout_depth.layer_table([])).empty
