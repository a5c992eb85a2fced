"""Task heads on one shared multilingual encoder.

``MultiTaskModel`` holds a Hugging Face encoder (anything ``AutoModel`` returns: it
yields ``last_hidden_state``) and one head per task, built from the task's
``TaskSpec.kind`` through the ``HEADS`` dispatch table. Phase (ii) trains encoder and
heads together; only the encoder is handed on to phase (iii) (``save_encoder``),
because the paper re-initialises every output head between phases (v1 Appendix A.2).

Heads follow the RoBERTa/XLM-R heads of ``transformers`` so that results are
comparable with the XTREME and jiant reference code:

- classification: first token -> dropout -> dense -> tanh -> dropout -> output layer
  (``pooling="mean"`` reads the mask-weighted mean of the last layer instead of the first
  token: the pooling that e5-style sentence encoders were trained with, whose first token
  carries no sentence representation; a disclosed deviation of the stand-in encoder);
- multiple choice: the same pooler scoring each (context, choice) pair with one logit,
  softmax over the choices;
- extractive QA: a linear layer giving start/end logits per token (SQuAD 2.0
  "no answer" is the span (0, 0), the ``<s>`` token);
- token tagging: a linear layer per token; labels sit on the first sub-token of each
  word and are -100 elsewhere (features.py), so the loss ignores continuation pieces;
- masked LM: dense -> gelu -> layer norm -> decoder tied to the input embedding
  matrix, evaluated only at masked positions (a 250k-row vocabulary makes logits for
  every position cost far more than the encoder itself on small models). Where the
  checkpoint has its pretrained MLM head (mBERT's ``cls.predictions``, XLM-R's
  ``lm_head``), MLM co-training continues from it (``head_states``, filled by
  ``models.encoder.load_encoder_for_mlm``), as jiant's MLM task does; otherwise the head
  starts random.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from xstilts.xtreme import TaskSpec

IGNORE_INDEX = -100  # label value the losses skip (padding, continuation sub-tokens)


POOLINGS = ("first", "mean")  # sentence-level heads: first token (RoBERTa) or masked mean


def pool(hidden_states: torch.Tensor, attention_mask, pooling: str) -> torch.Tensor:
    """``(batch, hidden)`` sentence vectors: the first token, or the mean over real tokens."""
    if pooling == "first" or attention_mask is None:
        return hidden_states[:, 0]
    mask = attention_mask.flatten(0, -2) if attention_mask.dim() == 3 else attention_mask
    # Summed in fp32 whatever the activations' dtype: a bf16 sum over ~100 tokens loses
    # about two significant digits (bf16 weights at evaluation, bf16 autocast).
    mask = mask.unsqueeze(-1).float()
    return (hidden_states.float() * mask).sum(1) / mask.sum(1).clamp(min=1)


class ClassificationHead(nn.Module):
    """Sentence(-pair) classification from the first token (RoBERTa) or the masked mean."""

    def __init__(self, hidden: int, num_labels: int, dropout: float, pooling: str = "first"):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, num_labels)

    def logits(self, hidden_states: torch.Tensor, attention_mask=None) -> torch.Tensor:
        """Return ``(batch, num_labels)`` logits from the pooled sentence vector."""
        x = self.dropout(pool(hidden_states, attention_mask, self.pooling))
        x = torch.tanh(self.dense(x))
        return self.out(self.dropout(x))

    def forward(self, hidden_states, batch, encoder):  # noqa: D102
        logits = self.logits(hidden_states, batch.get("attention_mask"))
        loss = F.cross_entropy(logits.float(), batch["labels"]) if "labels" in batch else None
        return loss, {"logits": logits}


class MultipleChoiceHead(ClassificationHead):
    """One score per (context, choice) pair; cross-entropy over the choices.

    The model flattens ``(batch, choices, length)`` inputs before the encoder; this head
    reshapes the scores back with ``batch["num_choices"]``.
    """

    def __init__(self, hidden: int, dropout: float, pooling: str = "first"):
        super().__init__(hidden, 1, dropout, pooling)

    def forward(self, hidden_states, batch, encoder):  # noqa: D102
        n_choices = batch["input_ids"].shape[1]
        logits = self.logits(hidden_states, batch.get("attention_mask")).view(-1, n_choices)
        loss = F.cross_entropy(logits.float(), batch["labels"]) if "labels" in batch else None
        return loss, {"logits": logits}


class QAHead(nn.Module):
    """Start/end logits per token for extractive QA (SQuAD style)."""

    def __init__(self, hidden: int):
        super().__init__()
        self.qa_outputs = nn.Linear(hidden, 2)

    def forward(self, hidden_states, batch, encoder):  # noqa: D102
        start, end = self.qa_outputs(hidden_states).unbind(dim=-1)
        outputs = {"start_logits": start, "end_logits": end}
        if "start_positions" not in batch:
            return None, outputs
        # Positions outside the (padded) sequence are ignored, as in transformers.
        n = start.shape[1]
        s = batch["start_positions"].clamp(0, n)
        e = batch["end_positions"].clamp(0, n)
        loss = (
            F.cross_entropy(start.float(), s, ignore_index=n)
            + F.cross_entropy(end.float(), e, ignore_index=n)
        ) / 2
        return loss, outputs


class TaggingHead(nn.Module):
    """Per-token classification; only first sub-tokens carry labels."""

    def __init__(self, hidden: int, num_labels: int, dropout: float):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, num_labels)

    def forward(self, hidden_states, batch, encoder):  # noqa: D102
        logits = self.out(self.dropout(hidden_states))
        loss = None
        if "labels" in batch:
            loss = F.cross_entropy(
                logits.flatten(0, 1).float(), batch["labels"].flatten(), ignore_index=IGNORE_INDEX
            )
        return loss, {"logits": logits}


class MaskedLMHead(nn.Module):
    """RoBERTa LM head with the decoder tied to the encoder's input embeddings.

    The decoder weight is *read* from the encoder at call time instead of being
    registered here, so the state dict holds the matrix once and the tie survives
    ``load_state_dict`` and optimizer construction.
    """

    def __init__(self, hidden: int, vocab_size: int, eps: float = 1e-5):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)
        self.layer_norm = nn.LayerNorm(hidden, eps=eps)
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def _decoder_weight(self, weight: torch.Tensor) -> torch.Tensor:
        """The decoder matrix in the autocast dtype, cast once while it is frozen.

        Autocast re-casts a weight on every call unless it requires grad (then its cache
        holds it for one forward). A frozen 250k x 384 embedding would be cast at every MLM
        step, which under bf16 cost more than the projection itself (238 vs 99 ms measured
        on 2 cores); frozen, it cannot change, so one cast per in-place version is exact.
        """
        device = weight.device.type
        if weight.requires_grad or not torch.is_autocast_enabled(device):
            return weight
        key = (weight.data_ptr(), weight._version, torch.get_autocast_dtype(device))
        if getattr(self, "_cast_key", None) != key:
            self._cast_weight = weight.detach().to(key[2])
            self._cast_key = key
        return self._cast_weight

    def forward(self, hidden_states, batch, encoder):  # noqa: D102
        labels = batch.get("labels")
        if labels is None:
            # Prediction without labels: score every position (tests / inspection only).
            selected = hidden_states
        else:
            selected = hidden_states[labels != IGNORE_INDEX]  # (n_masked, hidden)
        x = self.layer_norm(F.gelu(self.dense(selected)))
        weight = self._decoder_weight(encoder.get_input_embeddings().weight)
        logits = F.linear(x, weight, self.bias)
        if labels is None:
            return None, {"logits": logits}
        targets = labels[labels != IGNORE_INDEX]
        if targets.numel() == 0:
            # No masked token in this batch: a zero loss that still touches the graph.
            return logits.sum() * 0.0, {"logits": logits}
        return F.cross_entropy(logits.float(), targets), {"logits": logits}


def _build_classification(spec, config, dropout, pooling):
    return ClassificationHead(config.hidden_size, len(_labels(spec)), dropout, pooling)


def _build_multiple_choice(spec, config, dropout, pooling):
    return MultipleChoiceHead(config.hidden_size, dropout, pooling)


def _build_qa(spec, config, dropout, pooling):
    return QAHead(config.hidden_size)


def _build_tagging(spec, config, dropout, pooling):
    return TaggingHead(config.hidden_size, len(_labels(spec)), dropout)


def _build_mlm(spec, config, dropout, pooling):
    # The checkpoint's layer-norm epsilon (1e-12 for BERT, 1e-5 for XLM-R), so a pretrained
    # head loaded into this module computes what it computed in pretraining.
    eps = getattr(config, "layer_norm_eps", 1e-5)
    return MaskedLMHead(config.hidden_size, config.vocab_size, eps)


# kind -> head constructor(spec, encoder config, dropout, sentence pooling)
HEADS = {
    "classification": _build_classification,
    "multiple_choice": _build_multiple_choice,
    "qa": _build_qa,
    "tagging": _build_tagging,
    "mlm": _build_mlm,
}


def _labels(spec: TaskSpec) -> tuple[str, ...]:
    if not spec.labels:
        raise ValueError(
            f"task {spec.name!r} has no label set; fill it from the train split first "
            "(xstilts.features.with_labels(spec, rows))"
        )
    return spec.labels


def _init_head(module: nn.Module, std: float) -> None:
    # BERT/RoBERTa initialisation (normal(0, initializer_range), zero bias), so heads
    # start as the reference implementations' freshly initialised heads do.
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class MultiTaskModel(nn.Module):
    """A shared encoder plus one head per task.

    Args:
        encoder: A Hugging Face base model (``AutoModel``) returning ``last_hidden_state``.
        tasks: Task specs keyed by head name (usually the task name). Specs of
            classification/tagging tasks need ``labels``.
        dropout: Head dropout; defaults to the encoder's ``hidden_dropout_prob`` (0.1).
        tokenizer: Optional tokenizer, saved next to the encoder by ``save_encoder``.
        seed: Seed of the head initialisation. With a seed the heads are a function of it
            alone (the global RNG is left untouched), so two processes build identical
            heads; ``None`` draws from the global RNG.
        head_states: Pretrained weights per head name (a ``state_dict`` of that head),
            loaded strictly instead of the random initialisation, e.g. the checkpoint's
            own MLM head for MLM co-training.
        pooling: What sentence-level heads (classification, multiple choice) read:
            ``first`` token (the paper's heads) or the ``mean`` of the real tokens.
    """

    def __init__(
        self,
        encoder: nn.Module,
        tasks: Mapping[str, TaskSpec],
        dropout: float | None = None,
        tokenizer=None,
        seed: int | None = None,
        head_states: Mapping[str, Mapping[str, torch.Tensor]] | None = None,
        pooling: str = "first",
    ):
        super().__init__()
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.specs = dict(tasks)
        cfg = encoder.config
        dropout = getattr(cfg, "hidden_dropout_prob", 0.1) if dropout is None else dropout
        std = getattr(cfg, "initializer_range", 0.02)
        self.heads = nn.ModuleDict()
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            for name, spec in self.specs.items():
                head = HEADS[spec.kind](spec, cfg, dropout, pooling)
                _init_head(head, std)
                if head_states and name in head_states:
                    head.load_state_dict(head_states[name], strict=True)
                self.heads[name] = head
        self.pretrained_heads = sorted(set(head_states or {}) & set(self.specs))

    def encode(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Run the encoder on a batch; multiple-choice inputs are flattened first."""
        inputs = {
            k: batch[k].flatten(0, -2) if batch[k].dim() == 3 else batch[k]
            for k in ("input_ids", "attention_mask", "token_type_ids")
            if k in batch
        }
        return self.encoder(**inputs).last_hidden_state

    def forward(self, task: str, batch: Mapping[str, torch.Tensor]):
        """Encode ``batch`` and apply the head of ``task``.

        Args:
            task: Head name.
            batch: Tensors from ``features.Collator`` (``input_ids``, ``attention_mask``,
                and the task's label tensors when a loss is wanted).

        Returns:
            ``(loss, outputs)``: loss is ``None`` without labels; outputs holds
            ``logits`` (or ``start_logits``/``end_logits`` for QA).
        """
        hidden = self.encode(batch)
        return self.heads[task](hidden, batch, self.encoder)

    def encoder_state_dict(self) -> dict[str, torch.Tensor]:
        """Return the encoder's weights only (the heads are not carried across phases)."""
        return self.encoder.state_dict()

    def save_encoder(self, directory: str | os.PathLike, tokenizer=None) -> Path:
        """Save the encoder (safetensors) and tokenizer as a Hugging Face folder.

        Args:
            directory: Target folder; ``AutoModel.from_pretrained(directory)`` reloads it.
            tokenizer: Tokenizer to save alongside; defaults to the one given at init.

        Returns:
            The folder.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        # transformers >= 5 writes safetensors only (no pickle option left).
        self.encoder.save_pretrained(directory)
        tok = tokenizer if tokenizer is not None else self.tokenizer
        if tok is not None:
            tok.save_pretrained(directory)
        return directory


def freeze_embeddings(model: MultiTaskModel) -> int:
    """Freeze the word-embedding matrix of the encoder.

    On small encoders with XLM-R's 250k vocabulary this matrix holds most parameters,
    so freezing it removes most optimizer state and update cost. Position/type
    embeddings stay trainable. A tied MLM decoder is frozen with it.

    Returns:
        The number of frozen parameters.
    """
    weight = model.encoder.get_input_embeddings().weight
    weight.requires_grad_(False)
    return weight.numel()
