"""A max_seq_len beyond the encoder's position table is rejected before any compute."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.integration.invoke_runner import invoke, isolated_env
from xstilts import paths
from xstilts.models import encoder, mini_encoder
from xstilts.params import ParamsError, load_profile


def _profile(tmp_path, name, mutate):
    data = yaml.safe_load((paths.PARAMS / f"{name}.yaml").read_text())
    mutate(data)
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    "mutate,key",
    [
        (lambda d: d["target"]["train"].update(max_seq_len=100000), "target.train.max_seq_len"),
        (
            lambda d: d["intermediate"]["train"].update(max_seq_len=513),
            "intermediate.train.max_seq_len",
        ),
        (
            lambda d: d["target"].update(per_task={"xnli": {"max_seq_len": 4096}}),
            "target.per_task.xnli.max_seq_len",
        ),
    ],
)
def test_smoke_rejects_lengths_above_512(tmp_path, mutate, key):
    path = _profile(tmp_path, "smoke", mutate)
    with pytest.raises(ParamsError) as e:
        load_profile(path)
    msg = str(e.value)
    assert key in msg and "512 positions" in msg and "'tiny-random'" in msg, msg


def test_limit_itself_is_allowed(tmp_path):
    path = _profile(tmp_path, "smoke", lambda d: d["target"]["train"].update(max_seq_len=512))
    assert load_profile(path).target.train.max_seq_len == 512


def test_full_models_use_known_lengths_without_a_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf"))
    assert encoder.max_sequence_length("xlm-roberta-large") == 512
    path = _profile(
        tmp_path, "full", lambda d: d["target"]["per_task"].update(xquad={"max_seq_len": 640})
    )
    with pytest.raises(
        ParamsError, match="target.per_task.xquad.max_seq_len = 640 exceeds the 512"
    ):
        load_profile(path)


def test_lengths_come_from_config_and_image(tmp_path):
    assert mini_encoder.image_max_positions() == 512  # multilingual-e5-small's header
    folder = tmp_path / "xlmr-like"
    folder.mkdir()
    config = {"model_type": "xlm-roberta", "max_position_embeddings": 130, "pad_token_id": 1}
    (folder / "config.json").write_text(json.dumps(config))
    assert encoder.max_sequence_length(str(folder)) == 128  # positions start after padding
    assert encoder.max_sequence_length("not-a-model-anywhere") is None


def test_invoke_plan_rejects_it_with_exit_2(tmp_path):
    path = _profile(tmp_path, "smoke", lambda d: d["target"]["train"].update(max_seq_len=100000))
    proc = invoke(["plan", "--profile", str(path)], isolated_env(tmp_path), timeout=120)
    assert proc.returncode == 2
    assert "target.train.max_seq_len = 100000 exceeds the 512 positions" in proc.stderr
    assert not (tmp_path / "runs").exists()  # nothing ran
