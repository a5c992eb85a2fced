"""Load any encoder + tokenizer by name or folder, offline, with a one-line error when missing.

Names resolve in this order:

1. the embedded models, converted on demand into ``paths.models_cache()``:
   ``mini-e5-L3``, ``mini-e5-L6``, ``mini-e5-L12`` (layer-truncated multilingual-e5-small) and
   ``tiny-random`` (random weights, real XLM-R tokenizer);
2. a local folder written by ``save_pretrained``;
3. a hub name, looked up only in the local Hugging Face cache (never downloaded here).

    from xstilts.models.encoder import load_encoder
    model, tokenizer = load_encoder("mini-e5-L6")
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from xstilts import xtreme
from xstilts.models import mini_encoder
from xstilts.models.mini_encoder import count_parameters

__all__ = [
    "EMBEDDED_MODELS",
    "ModelNotFoundError",
    "count_parameters",
    "hf_cache_dir",
    "load_encoder",
    "model_info",
    "resolve",
]

# Special names -> function returning the (converted-on-demand) local folder.
EMBEDDED_MODELS: dict[str, Callable[[], Path]] = {
    **{
        f"mini-e5-L{n}": (lambda n=n: mini_encoder.ensure_mini_encoder(n))
        for n in mini_encoder.MINI_LADDER
    },
    "tiny-random": mini_encoder.ensure_tiny_encoder,
}

# Architectures whose pooler we drop: the embedded models have none (a random one would only
# add noise and a load warning), retrieval mean-pools, and task heads bring their own layers.
_POOLER_FREE_TYPES = {"bert", "roberta", "xlm-roberta", "xlm-roberta-xl"}


class ModelNotFoundError(FileNotFoundError):
    """An encoder name is neither embedded, a local folder, nor in the Hugging Face cache."""


def hf_cache_dir() -> Path:
    """Return the Hugging Face hub cache folder, honouring ``HF_HUB_CACHE`` / ``HF_HOME`` now.

    ``huggingface_hub.constants`` freezes the path at import time; reading the environment
    here lets tests and notebooks point at another cache after import.
    """
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    from huggingface_hub.constants import HF_HUB_CACHE

    return Path(HF_HUB_CACHE)


def _not_found(name: str) -> ModelNotFoundError:
    return ModelNotFoundError(
        f"model {name!r} not found in the Hugging Face cache ({hf_cache_dir()}); "
        f"on a machine with internet run: huggingface-cli download {name}  "
        "(or set params model.name to a local folder)"
    )


def _cached_snapshot(name: str) -> Path | None:
    """Return the cached snapshot folder of hub model ``name`` or ``None`` (no network)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        hit = try_to_load_from_cache(name, "config.json", cache_dir=hf_cache_dir())
    except ValueError:  # not a valid repo id, e.g. "a/b/c" or a stray path
        return None
    return Path(hit).parent if isinstance(hit, str) else None


def resolve(name_or_path: str, num_layers: int | None = None) -> Path:
    """Map a model name to a local folder, converting embedded models on demand.

    Args:
        name_or_path: Embedded name, folder, or hub name (cache only).
        num_layers: With the bare name ``mini-e5``, selects the ladder rung.

    Returns:
        A folder that ``from_pretrained`` can read without network.

    Raises:
        ModelNotFoundError: Immediately (no retries) when nothing matches.
    """
    name = str(name_or_path)
    if name == "mini-e5" and num_layers is not None:
        return mini_encoder.ensure_mini_encoder(num_layers)
    if name in EMBEDDED_MODELS:
        return EMBEDDED_MODELS[name]()
    folder = Path(name).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ModelNotFoundError(f"folder {folder} has no config.json (not a saved model)")
        return folder
    snapshot = _cached_snapshot(name)
    if snapshot is None:
        raise _not_found(name)
    return snapshot


def _model_kwargs(folder: Path, num_layers: int | None) -> dict:
    """Offline loading options: pooler dropped where supported, optional layer truncation."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    kwargs: dict = {"local_files_only": True}
    if config.model_type in _POOLER_FREE_TYPES:
        kwargs["add_pooling_layer"] = False
    if num_layers is not None and num_layers != config.num_hidden_layers:
        if not 1 <= num_layers <= config.num_hidden_layers:
            raise ValueError(f"num_layers={num_layers} outside 1..{config.num_hidden_layers}")
        kwargs["num_hidden_layers"] = num_layers  # keeps the bottom blocks, drops the rest
    return kwargs


@contextlib.contextmanager
def _quiet_load(truncating: bool) -> Iterator[None]:
    """Silence the load report when we drop blocks on purpose (it lists every dropped key)."""
    from transformers.utils import logging as hf_logging

    if not truncating:
        yield
        return
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def load_encoder(name_or_path: str, num_layers: int | None = None):
    """Load an encoder and its tokenizer, offline.

    Args:
        name_or_path: ``mini-e5-L{3,6,12}``, ``tiny-random``, a local folder, or a hub name
            already in the Hugging Face cache.
        num_layers: Keep only the bottom ``num_layers`` transformer blocks (``None`` = all);
            with the bare name ``mini-e5`` it picks the ladder rung.

    Returns:
        ``(model, tokenizer)`` from ``AutoModel`` / ``AutoTokenizer``; the model is in eval mode.

    Raises:
        ModelNotFoundError: The name cannot be resolved locally (one line, with a fix hint).
    """
    folder = resolve(name_or_path, num_layers)  # before importing transformers: fail fast
    from transformers import AutoModel, AutoTokenizer

    kwargs = _model_kwargs(folder, None if name_or_path == "mini-e5" else num_layers)
    with _quiet_load("num_hidden_layers" in kwargs):
        model = AutoModel.from_pretrained(folder, **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    return model.eval(), tokenizer


def model_info(name_or_path: str, num_layers: int | None = None) -> dict:
    """Describe an encoder without loading its weights (parameters counted on the meta device).

    Args:
        name_or_path: As for ``load_encoder``.
        num_layers: As for ``load_encoder``.

    Returns:
        ``name``, ``path``, ``model_type``, ``num_layers``, ``hidden_size``, ``parameters``
        (``total``/``embedding``/``non_embedding``) and ``retrieval_layer`` (hidden-states
        index used by BUCC/Tatoeba, ``xtreme.retrieval_layer``).
    """
    import torch
    from transformers import AutoConfig, AutoModel

    folder = resolve(name_or_path, num_layers)
    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    kwargs = _model_kwargs(folder, None if name_or_path == "mini-e5" else num_layers)
    if "num_hidden_layers" in kwargs:
        config.num_hidden_layers = kwargs["num_hidden_layers"]
    extra = {"add_pooling_layer": False} if "add_pooling_layer" in kwargs else {}
    with torch.device("meta"):  # shapes only: no memory, no weight reading
        skeleton = AutoModel.from_config(config, **extra)
    return {
        "name": str(name_or_path),
        "path": str(folder),
        "model_type": config.model_type,
        "num_layers": int(config.num_hidden_layers),
        "hidden_size": int(config.hidden_size),
        "parameters": count_parameters(skeleton),
        "retrieval_layer": xtreme.retrieval_layer(int(config.num_hidden_layers), str(name_or_path)),
    }
