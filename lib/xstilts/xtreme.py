"""Dispatch tables for every task xstilts knows: kind, metric, languages, training source.

Follows XTREME's ``evaluate.py`` and jiant's ``xtreme_runconfig_writer.py``: per-task facts
live in tables that code looks up, never in if/else chains. Language lists are XTREME's
(see ``paper-facts.md`` §1.4); hyper-parameters are the paper's v1 Tables 3 and 4.
"""

from __future__ import annotations

from dataclasses import dataclass, field

UPOS_TAGS = "ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split()
PANX_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
NLI_LABELS = ("entailment", "neutral", "contradiction")
PARAPHRASE_LABELS = ("0", "1")


@dataclass(frozen=True)
class TaskSpec:
    """Static facts about one task.

    Attributes:
        name: jiant/XTREME task name.
        kind: One of ``KINDS``; decides head, featurisation and prediction decoding.
        role: ``target`` (XTREME), ``intermediate`` (phase ii) or ``auxiliary`` (MLM).
        metric: Key into ``xstilts.metrics.METRICS``.
        languages: Evaluation languages (XTREME lists; English first where present).
        train_task: Task whose English train split trains this target (XTREME protocol);
            ``None`` for retrieval tasks, which use the phase-(ii) encoder directly.
        labels: Label names for classification/tagging; ``None`` = read from the train split.
        group: XTREME task family (classification, structured, qa, retrieval) or ``intermediate``.
        batch_size: Paper batch size (v1 Table 3/4).
        epochs: Paper epochs (v1 Table 3/4).
        max_seq_len: Maximum sequence length of the XTREME/jiant scripts.
        num_choices: Choices per item for multiple-choice tasks.
        doc_stride: QA window overlap of the reference scripts (0 = not a windowed task).

    """

    name: str
    kind: str
    role: str
    metric: str
    languages: tuple[str, ...] = ("en",)
    train_task: str | None = None
    labels: tuple[str, ...] | None = None
    group: str = "intermediate"
    batch_size: int = 32
    epochs: int = 2
    max_seq_len: int = 128
    num_choices: int | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)
    doc_stride: int = 0


KINDS = (
    "classification",
    "multiple_choice",
    "qa",
    "tagging",
    "mlm",
    "bitext_mining",
    "bitext_retrieval",
)


def _langs(s: str) -> tuple[str, ...]:
    return tuple(s.split())


TARGET_TASKS: dict[str, TaskSpec] = {
    t.name: t
    for t in [
        TaskSpec(
            "xnli",
            "classification",
            "target",
            "accuracy",
            _langs("en ar bg de el es fr hi ru sw th tr ur vi zh"),
            "mnli",
            NLI_LABELS,
            "classification",
            4,
            2,
            128,
        ),
        TaskSpec(
            "pawsx",
            "classification",
            "target",
            "accuracy",
            _langs("en de es fr ja ko zh"),
            "pawsx",
            PARAPHRASE_LABELS,
            "classification",
            32,
            5,
            128,
        ),
        TaskSpec(
            "udpos",
            "tagging",
            "target",
            "seqeval_f1",
            _langs(
                "en af ar bg de el es et eu fa fi fr he hi hu id it ja kk ko mr nl pt ru "
                "ta te th tl tr ur vi yo zh"
            ),
            "udpos",
            UPOS_TAGS,
            "structured",
            32,
            10,
            128,
        ),
        TaskSpec(
            "panx",
            "tagging",
            "target",
            "seqeval_f1",
            _langs(
                "en af ar bg bn de el es et eu fa fi fr he hi hu id it ja jv ka kk ko ml "
                "mr ms my nl pt ru sw ta te th tl tr ur vi yo zh"
            ),
            "panx",
            PANX_TAGS,
            "structured",
            32,
            10,
            128,
        ),
        TaskSpec(
            "xquad",
            "qa",
            "target",
            "squad",
            _langs("en ar de el es hi ru th tr vi zh"),
            "squad_v1",
            None,
            "qa",
            16,
            2,
            384,
        ),
        TaskSpec(
            "mlqa",
            "qa",
            "target",
            "mlqa",
            _langs("en ar de es hi vi zh"),
            "squad_v1",
            None,
            "qa",
            16,
            2,
            384,
        ),
        TaskSpec(
            "tydiqa",
            "qa",
            "target",
            "squad",
            _langs("en ar bn fi id ko ru sw te"),
            "tydiqa",
            None,
            "qa",
            16,
            2,
            384,
        ),
        TaskSpec(
            "bucc2018",
            "bitext_mining",
            "target",
            "bucc_f1",
            _langs("de fr ru zh"),
            None,
            None,
            "retrieval",
            32,
            0,
            512,
        ),
        TaskSpec(
            "tatoeba",
            "bitext_retrieval",
            "target",
            "tatoeba_accuracy",
            _langs(
                "af ar bg bn de el es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr "
                "nl pt ru sw ta te th tl tr ur vi zh"
            ),
            None,
            None,
            "retrieval",
            32,
            0,
            512,
        ),
    ]
}

INTERMEDIATE_TASKS: dict[str, TaskSpec] = {
    t.name: t
    for t in [
        TaskSpec(
            "anli",
            "classification",
            "intermediate",
            "accuracy",
            labels=NLI_LABELS,
            batch_size=24,
            epochs=2,
            max_seq_len=256,
        ),
        TaskSpec(
            "mnli",
            "classification",
            "intermediate",
            "accuracy",
            labels=NLI_LABELS,
            batch_size=24,
            epochs=2,
            max_seq_len=256,
        ),
        TaskSpec(
            "qqp",
            "classification",
            "intermediate",
            "accuracy",
            labels=PARAPHRASE_LABELS,
            batch_size=24,
            epochs=3,
            max_seq_len=256,
        ),
        TaskSpec(
            "squad_v1",
            "qa",
            "intermediate",
            "squad",
            batch_size=8,
            epochs=3,
            max_seq_len=384,
            doc_stride=128,
        ),
        TaskSpec(
            "squad_v2",
            "qa",
            "intermediate",
            "squad_v2",
            batch_size=8,
            epochs=3,
            max_seq_len=384,
            doc_stride=128,
        ),
        TaskSpec(
            "hellaswag",
            "multiple_choice",
            "intermediate",
            "accuracy",
            batch_size=24,
            epochs=7,
            max_seq_len=256,
            num_choices=4,
        ),
        TaskSpec(
            "cosmosqa",
            "multiple_choice",
            "intermediate",
            "accuracy",
            batch_size=4,
            epochs=15,
            max_seq_len=256,
            num_choices=4,
        ),
        TaskSpec(
            "commonsenseqa",
            "multiple_choice",
            "intermediate",
            "accuracy",
            batch_size=4,
            epochs=10,
            max_seq_len=256,
            num_choices=5,
        ),
        TaskSpec(
            "ccg",
            "tagging",
            "intermediate",
            "token_accuracy",
            batch_size=24,
            epochs=15,
            max_seq_len=256,
        ),
    ]
}

AUXILIARY_TASKS: dict[str, TaskSpec] = {
    "mlm": TaskSpec(
        "mlm", "mlm", "auxiliary", "perplexity", batch_size=8, epochs=1, max_seq_len=256
    ),
}

# English training sets of target tasks that are not themselves intermediate tasks.
TARGET_TRAIN_TASKS: dict[str, TaskSpec] = {
    "pawsx": TARGET_TASKS["pawsx"],
    "udpos": TARGET_TASKS["udpos"],
    "panx": TARGET_TASKS["panx"],
    "tydiqa": TARGET_TASKS["tydiqa"],
}

# Checkpoint selection of phase (iii) happens on the English dev split of this task (jiant
# and XTREME select on English dev). XQuAD has no dev split and XQuAD/MLQA are trained on
# SQuAD v1.1, so both select on SQuAD v1.1 dev. TyDiQA-GoldP's labelled dev set is what
# XTREME reports as its test set, so TyDiQA selects on a held-out part of its English train.
SELECTION_TASK: dict[str, str] = {
    "xnli": "xnli",
    "pawsx": "pawsx",
    "udpos": "udpos",
    "panx": "panx",
    "xquad": "squad_v1",
    "mlqa": "squad_v1",
    "tydiqa": "tydiqa",
}
# Target tasks that train on the same English data with the same selection set share one
# fine-tune per (upstream cell, model, seed): XQuAD and MLQA both train on SQuAD v1.1 and
# select on SQuAD v1.1 dev (XTREME), so the XQuAD run also scores MLQA. Key: the task the
# planned run is named after; value: the tasks it scores, in that order.
SHARED_FINETUNE: dict[str, tuple[str, ...]] = {"xquad": ("xquad", "mlqa")}

# Intermediate tasks with machine-translated training data in XTREME's translate-train
# release (XNLI translate-train = MNLI, SQuAD v1.1; PAWS-X's covers a target task). Any other
# task has translated modes only where the user supplies translations
# (``intermediate.translations`` names them; ``<root>/<task>/train/<lang>.jsonl``).
TRANSLATE_TRAIN: dict[str, str] = {
    "mnli": "XNLI translate-train (XNLI-MT-1.0 / XTREME translate-train)",
    "squad_v1": "XTREME translate-train (squad.translate.train.en-<lang>.json)",
}
# Licensed intermediate data that no download script can fetch; a profile may plan such a
# task out when its files are absent (``intermediate.skip_if_absent``).
LICENSED_DATA: dict[str, str] = {
    "ccg": "CCGbank (LDC2005T13) is licensed by the LDC (catalog.ldc.upenn.edu/LDC2005T13); "
    "convert your copy to <root>/ccg/{train,dev}.tsv (token<TAB>supertag, blank line "
    "between sentences)",
}


def shared_finetune(tasks) -> dict[str, tuple[str, ...]]:
    """Group target tasks into runs: ``{run task: tasks it scores}``, in ``tasks`` order.

    A ``SHARED_FINETUNE`` group is one run, named after its key, when its key is planned
    (XQuAD and MLQA -> one run named ``xquad``); MLQA planned without XQuAD keeps its own.
    """
    tasks = list(tasks)
    leader = {m: key for key, group in SHARED_FINETUNE.items() if key in tasks for m in group}
    out: dict[str, list[str]] = {}
    for t in tasks:
        out.setdefault(leader.get(t, t), []).append(t)
    return {
        k: tuple(sorted(v, key=lambda m, k=k: (m != k, tasks.index(m)))) for k, v in out.items()
    }


# Languages with a dev split of the target task itself, where not all of them have one.
DEV_LANGUAGES: dict[str, tuple[str, ...]] = {"xquad": (), "tydiqa": ("en",)}
# task -> fraction of its English train split held out (seeded) as its English dev split.
HELDOUT_DEV: dict[str, float] = {"tydiqa": 0.1}


def has_dev(task_name: str, lang: str) -> bool:
    """Whether target task ``task_name`` has its own dev split in ``lang``."""
    allowed = DEV_LANGUAGES.get(task_name)
    return allowed is None or lang in allowed


TASKS: dict[str, TaskSpec] = {**INTERMEDIATE_TASKS, **AUXILIARY_TASKS, **TARGET_TASKS}

TASK_GROUPS: dict[str, tuple[str, ...]] = {
    "classification": ("xnli", "pawsx"),
    "structured": ("udpos", "panx"),
    "qa": ("xquad", "mlqa", "tydiqa"),
    "retrieval": ("bucc2018", "tatoeba"),
}

# Intermediate "settings" of phase (ii). Single tasks plus the paper's mixtures and the
# multilingual alternatives of the research question.
SPECIAL_SETTINGS = {
    "none": "no intermediate training (the pretrained encoder, phase i)",
    "multitask": "examples-proportional mixture of all configured intermediate tasks",
}
MULTILINGUAL_MODES = {
    "english": "English intermediate data only (the paper's main setting)",
    "translated": "machine-translated intermediate data in the target languages only",
    "english+translated": "English plus machine-translated intermediate data",
    "english+mlm": "English intermediate data with multilingual MLM co-training",
}

# Reference encoders of the full profile, with parameter counts (Conneau et al. 2020;
# Devlin et al. 2019) and the retrieval layer (hidden_states index: 0 = embeddings).
# XTREME/jiant use the output of block 14 of 24 for XLM-R Large and block 8 of 12 for
# base models (run_tatoeba.sh LAYER=7 counted from 0 + embeddings offset).
REFERENCE_MODELS: dict[str, dict] = {
    "bert-base-multilingual-cased": {"params_m": 178, "layers": 12, "retrieval_layer": 8},
    "xlm-roberta-base": {"params_m": 278, "layers": 12, "retrieval_layer": 8},
    "xlm-roberta-large": {"params_m": 560, "layers": 24, "retrieval_layer": 14},
    "facebook/xlm-roberta-xl": {"params_m": 3500, "layers": 36, "retrieval_layer": 21},
    "distilbert-base-multilingual-cased": {"params_m": 135, "layers": 6, "retrieval_layer": 4},
}


def retrieval_layer(num_layers: int, model_name: str | None = None) -> int:
    """Return the ``hidden_states`` index used for BUCC/Tatoeba embeddings.

    ``hidden_states[0]`` is the embedding output and ``hidden_states[k]`` the output of
    block k, so index 8 is block 8 of 12. A reference encoder (``REFERENCE_MODELS``, by
    name or by a path ending in its name) gets its table entry: block 8 of 12 for mBERT
    and XLM-R base, block 14 of 24 for XLM-R Large (jiant ``retrieval_layer=14``). Any
    other encoder with the depth of a reference model gets that model's layer; other
    depths get XLM-R Large's relative depth (14/24), rounded.

    Args:
        num_layers: Number of transformer blocks of the encoder.
        model_name: Hub name or local path of the encoder, if known.

    Returns:
        Index into ``output.hidden_states`` (0 is the embedding output).

    """
    if model_name:
        base = str(model_name).rstrip("/").rsplit("/", 1)[-1]
        for name, ref in REFERENCE_MODELS.items():
            if base == name.rsplit("/", 1)[-1] and ref["layers"] == num_layers:
                return ref["retrieval_layer"]
    by_depth = {ref["layers"]: ref["retrieval_layer"] for ref in REFERENCE_MODELS.values()}
    if num_layers in by_depth:
        return by_depth[num_layers]
    return max(1, min(num_layers, round(num_layers * 14 / 24)))


def intermediate_paper_settings() -> dict[str, dict]:
    """Phase-(ii) settings per task from v1 Table 3 (the one source of these numbers).

    Batch size, epochs and maximum length of every intermediate task (doc stride for the
    SQuAD tasks), and the MLM task's batch size and length (it has no epochs of its own:
    it is one task of a mixture). Profiles use them with ``intermediate.per_task_from_paper``.
    """
    out = {}
    for name, spec in INTERMEDIATE_TASKS.items():
        out[name] = {
            "batch_size": spec.batch_size,
            "epochs": float(spec.epochs),
            "max_seq_len": spec.max_seq_len,
        }
        if spec.doc_stride:
            out[name]["doc_stride"] = spec.doc_stride
    mlm = AUXILIARY_TASKS["mlm"]
    out["mlm"] = {"batch_size": mlm.batch_size, "max_seq_len": mlm.max_seq_len}
    return out


def task(name: str) -> TaskSpec:
    """Look up a task spec by name; raise ``KeyError`` naming the allowed tasks."""
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; allowed: {', '.join(sorted(TASKS))}") from None


# English training-set sizes for cost estimates (paper v1 Table 1; MNLI from the XNLI row).
# squad_v2 and mnli-alone sizes are not in the paper (paper-facts §1.3): squad_v2 is the
# public SQuAD 2.0 train size, marked as an estimate.
TRAIN_SIZES: dict[str, int] = {
    "anli": 1_104_934,
    "mnli": 392_702,
    "qqp": 363_846,
    "squad_v1": 87_599,
    "squad_v2": 130_319,  # estimate (not in the paper)
    "hellaswag": 39_905,
    "ccg": 38_015,
    "cosmosqa": 25_588,
    "commonsenseqa": 9_741,
    "pawsx": 49_401,
    "udpos": 21_253,
    "panx": 20_000,
    "tydiqa": 3_696,
    "mlm": 2_000_000,
}
# Approximate test examples per language for evaluation cost (v1 Table 1 ranges, midpoints).
EVAL_SIZES: dict[str, int] = {
    "xnli": 5_010,
    "pawsx": 2_000,
    "udpos": 2_000,
    "panx": 5_000,
    "xquad": 1_190,
    "mlqa": 5_000,
    "tydiqa": 1_000,
    "bucc2018": 20_000,
    "tatoeba": 2_000,
}
