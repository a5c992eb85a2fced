"""Phase (iii) protocol (issue 14): selection on English dev, dev scores beside test scores,
retrieval at the model's maximum length with the read-out layer chosen on dev."""

from __future__ import annotations

import pytest

from xstilts import pipeline, retrieval
from xstilts.params import load_profile
from xstilts.phases import data as data_phase
from xstilts.phases import target
from xstilts.run_params import DataRunParams, TargetRunParams


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """Smoke profile with XQuAD added; its dataset folder built once."""
    tmp = tmp_path_factory.mktemp("smoke-target")
    profile = load_profile(
        "smoke",
        overrides={
            "target": {"tasks": ["xnli", "xquad", "tatoeba", "bucc2018"]},
            "models": [{"name": "tiny-random", "label": "tiny", "retrieval_layer": -2}],
        },
    )
    plan = pipeline.plan(profile)
    data_run = plan[0]
    data_dir = tmp / "data"
    data_phase.build(DataRunParams(**{**data_run.params, "run_dir": str(data_dir)}))
    return plan, data_dir, tmp


def _target_params(smoke, task) -> TargetRunParams:
    plan, data_dir, tmp = smoke
    run = next(
        r for r in plan if r.phase == "target" and r.cell["task"] == task and
        r.cell["setting"] == "none"
    )  # fmt: skip
    return TargetRunParams(
        **{**run.params, "run_dir": str(tmp / task), "data_dir": str(data_dir),
           "intermediate_dir": "", "device": "cpu", "threads": 1}
    )  # fmt: skip


def test_checkpoints_are_selected_on_english_dev_only(smoke):
    s = target.setup(_target_params(smoke, "xnli"))
    assert list(s.dev_sets) == ["xnli"] and list(s.dev_sets["xnli"]) == ["en"]
    assert s.dev_sets["xnli"]["en"][0]["id"].startswith("xnli-dev-")


def test_xquad_selects_on_squad_dev_and_reports_dev_beside_test(smoke):
    p = _target_params(smoke, "xquad")
    s = target.setup(p)
    assert s.dev_sets["xquad"]["en"][0]["id"].startswith("squad_v1-dev-")
    ev = target.evaluate(s, None, p)
    # English dev always (XQuAD has none of its own: the selection set), no other dev
    assert set(ev["dev_per_language"]) == {"en"}
    assert ev["dev_per_language"]["en"]["source"] == "squad_v1/dev"
    assert set(ev["per_language"]) == set(p.languages)
    assert set(ev["dev_average"]) == set(ev["average"])


def test_xnli_dev_scores_have_the_shape_of_the_test_scores(smoke):
    p = _target_params(smoke, "xnli")
    ev = target.evaluate(target.setup(p), None, p)
    assert set(ev["dev_per_language"]) == set(ev["per_language"]) == set(p.languages)
    for lang, d in ev["dev_per_language"].items():
        assert set(d) - {"source"} == set(ev["per_language"][lang])
    assert set(ev["dev_average"]) == set(ev["average"])


def test_tatoeba_embeds_at_model_length_and_chooses_the_layer_on_dev(smoke, monkeypatch):
    p = _target_params(smoke, "tatoeba")
    s = target.setup(p)
    lengths = []
    real = retrieval.embed_sentences_layers

    def spy(
        model, tok, texts, layers, batch_size=64, max_length=128, device="cpu", precision="fp32"
    ):
        lengths.append(max_length)
        return real(model, tok, texts, layers, batch_size, max_length, device, precision)

    monkeypatch.setattr(retrieval, "embed_sentences_layers", spy)
    ev = target.evaluate(s, None, p)
    assert set(lengths) == {retrieval.model_max_length(s.encoder)} and lengths[0] > 48
    r = ev["retrieval"]
    n = s.encoder.config.num_hidden_layers
    assert r["rule"] == "chosen on dev" and 1 <= r["layer"] <= n
    assert set(r["per_layer"]) == set(range(n + 1))  # every layer, embeddings included
    best = max(range(1, n + 1), key=lambda k: (r["per_layer"][k]["dev"], -k))
    assert r["layer"] == best  # chosen by dev accuracy, never by test
    assert set(ev["dev_per_language"]) == set(p.languages)
    test_mean = sum(d["score"] for d in ev["per_language"].values()) / len(p.languages)
    assert test_mean == pytest.approx(r["per_layer"][r["layer"]]["test"])
    m = target.write_results(s, None, ev, p)
    assert m["retrieval_layer"] == r["layer"] and m["retrieval_per_layer"]
    assert m["dev_average"] and m["retrieval_max_length"] == lengths[0]


def test_bucc_layer_and_threshold_come_from_dev(smoke):
    p = _target_params(smoke, "bucc2018")
    s = target.setup(p)
    ev = target.evaluate(s, None, p)
    r = ev["retrieval"]
    assert r["rule"] == "chosen on dev"
    dev_mean = {k: v["dev"] for k, v in r["per_layer"].items()}
    assert r["layer"] == max(dev_mean, key=lambda k: (dev_mean[k], -k))
    assert set(ev["dev_per_language"]) == set(p.languages)


def test_reference_rule_reads_the_table(smoke):
    p = _target_params(smoke, "tatoeba")
    s = target.setup(p)
    s.layer = 0
    assert target._layer_rule(s, p) == ("reference table", [1])  # 2 blocks -> round(2*14/24)
