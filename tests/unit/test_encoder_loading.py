"""Offline encoder resolution: embedded names, local folders, the HF cache, fast failure."""

from __future__ import annotations

import shutil
import time

import pytest

from xstilts.models import encoder, mini_encoder


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """Empty xstilts cache and empty Hugging Face cache, no network."""
    monkeypatch.setenv("XSTILTS_CACHE", str(tmp_path / "xstilts"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


def test_missing_hub_model_fails_fast_with_one_line(offline):
    start = time.perf_counter()
    with pytest.raises(encoder.ModelNotFoundError) as info:
        encoder.load_encoder("xlm-roberta-large")
    assert time.perf_counter() - start < 2.0
    message = str(info.value)
    assert "\n" not in message
    assert "huggingface-cli download xlm-roberta-large" in message
    assert str(offline / "hf") in message and "model.name" in message
    assert isinstance(info.value, FileNotFoundError)


def test_folder_without_config_is_rejected(offline):
    (offline / "empty").mkdir()
    with pytest.raises(encoder.ModelNotFoundError, match="config.json"):
        encoder.resolve(str(offline / "empty"))


def test_local_folder_loads(offline):
    folder = mini_encoder.build_tiny_encoder(offline / "my-model", num_layers=3, seed=1)
    model, tokenizer = encoder.load_encoder(str(folder))
    assert model.config.num_hidden_layers == 3 and not model.training
    out = model(**tokenizer(["Hallo Welt", "你好，世界"], padding=True, return_tensors="pt"))
    assert out.last_hidden_state.shape[-1] == 32


def test_tiny_random_loads_from_cache(offline):
    model, tokenizer = encoder.load_encoder("tiny-random")
    assert (offline / "xstilts" / "models" / "tiny-random-L2" / "model.safetensors").is_file()
    assert model.config.num_hidden_layers == 2 and model.pooler is None
    assert tokenizer.convert_ids_to_tokens(tokenizer("Hello")["input_ids"])[0] == "<s>"
    assert encoder.count_parameters(model)["total"] == sum(p.numel() for p in model.parameters())


def test_num_layers_truncates(offline):
    model, _ = encoder.load_encoder("tiny-random", num_layers=1)
    assert len(model.encoder.layer) == 1 and model.config.num_hidden_layers == 1
    with pytest.raises(ValueError):
        encoder.load_encoder("tiny-random", num_layers=5)


def test_model_info_without_weights(offline):
    info = encoder.model_info("tiny-random")
    assert info["num_layers"] == 2 and info["hidden_size"] == 32
    assert info["retrieval_layer"] == 1
    params = info["parameters"]
    assert params["embedding"] == (250037 + 512 + 2) * 32
    assert params["total"] == params["embedding"] + params["non_embedding"]


def test_hub_name_resolves_from_local_cache(offline):
    """A hub name found in the HF cache (snapshot + refs/main) loads without network."""
    source = mini_encoder.build_tiny_encoder(offline / "src")
    repo = offline / "hf" / "models--someorg--tiny-xlmr"
    commit = "0" * 40
    shutil.copytree(source, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    model, _ = encoder.load_encoder("someorg/tiny-xlmr")
    assert model.config.hidden_size == 32
    assert encoder.resolve("someorg/tiny-xlmr") == repo / "snapshots" / commit


def _fake_hub_entry(cache, repo_id, refs=True):
    """Write ``models--<org>--<name>/snapshots/<hash>/config.json`` as huggingface_hub does."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / ("1" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text('{"model_type": "bert"}')
    if refs:
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text("1" * 40)
    return snapshot


def test_full_yaml_hub_names_find_the_organisation_copies(offline):
    """params/full.yaml's short names resolve to a cache holding FacebookAI/, google-bert/."""
    import yaml

    from xstilts import paths

    names = [m["name"] for m in yaml.safe_load((paths.PARAMS / "full.yaml").read_text())["models"]]
    assert set(names) <= set(encoder.HUB_ALIASES)
    # Loading from a resolved snapshot is test_hub_name_resolves_from_local_cache's job.
    large = _fake_hub_entry(offline / "hf", "FacebookAI/xlm-roberta-large")
    mbert = _fake_hub_entry(offline / "hf", "google-bert/bert-base-multilingual-cased", refs=False)
    assert encoder.resolve("xlm-roberta-large") == large
    assert encoder.resolve("bert-base-multilingual-cased") == mbert  # no refs/: sole snapshot
    with pytest.raises(encoder.ModelNotFoundError, match="also as FacebookAI/xlm-roberta-base"):
        encoder.resolve("xlm-roberta-base")


def test_legacy_cache_entry_found_under_the_organisation_name(offline):
    base = _fake_hub_entry(offline / "hf", "xlm-roberta-base")
    assert encoder.resolve("FacebookAI/xlm-roberta-base") == base
    assert encoder.resolve("xlm-roberta-base") == base


def test_tokenizer_is_parsed_once_per_content(offline):
    """Copies of one tokenizer (every phase-(ii) run folder holds one) share a parse; a changed
    file gives a new tokenizer, never the cached one."""
    src = mini_encoder.ensure_tiny_encoder()
    a, b = offline / "copy_a", offline / "copy_b"
    shutil.copytree(src, a)
    shutil.copytree(src, b)
    first = encoder.load_tokenizer(a)
    assert encoder.load_tokenizer(b) is first
    config = b / "tokenizer_config.json"
    config.write_text(config.read_text().replace("<mask>", "<mask2>"))
    changed = encoder.load_tokenizer(b)
    assert changed is not first
    assert changed.mask_token == "<mask2>" and first.mask_token == "<mask>"
    _, tok = encoder.load_encoder(str(a))
    assert tok is first
