"""Typed parameter profiles: the documentation and the validator of ``params/*.yaml``.

A profile is loaded into the dataclasses below *before any compute starts*. Unknown keys,
wrong types, unknown tasks, languages or models, non-positive learning rates and empty lists
are rejected with one message that names the file, the key and the allowed values
(``ParamsError``). Every field carries its help text in ``metadata["help"]`` (HF
``run_xnli.py`` style), so this module is the reference for the YAML files.

Usage::

    from xstilts.params import load_profile
    profile = load_profile("smoke")          # or a path to a YAML file
    profile.target.tasks                     # ['xnli', 'tatoeba']
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from xstilts import paths, xtreme

BUILTIN_MODELS = (
    "tiny-random", "mini-e5-L3", "mini-e5-L6", "mini-e5-L12",
    "tiny-mbert", "tiny-xlmr-base", "tiny-xlmr-large",
)  # fmt: skip
MODES = tuple(xtreme.MULTILINGUAL_MODES)
DATA_SOURCES = ("mini", "real", "real-split")
EXECUTORS = ("local", "local-parallel", "slurm")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16")  # the same tuple as xstilts.precision.PRECISIONS


class ParamsError(ValueError):
    """A profile failed validation; the message names file, key and allowed values."""


def _help(text: str, default: Any = dataclasses.MISSING, factory: Any = dataclasses.MISSING):
    kw: dict[str, Any] = {"metadata": {"help": text}}
    if default is not dataclasses.MISSING:
        kw["default"] = default
    if factory is not dataclasses.MISSING:
        kw["default_factory"] = factory
    return field(**kw)


@dataclass
class ModelSpec:
    """One encoder of the scale axis."""

    name: str = _help(
        "HF hub name (resolved from the local cache only), local folder, or a "
        f"built-in: {', '.join(BUILTIN_MODELS)}"
    )
    label: str = _help("short label used in tables and plots", "")
    retrieval_layer: int = _help(
        "hidden_states index for BUCC/Tatoeba embeddings: 0 = the reference table "
        "(xtreme.REFERENCE_MODELS: block 8 of 12 for mBERT/XLM-R base, 14 of 24 for "
        "XLM-R Large), -1 = last layer, -2 = chosen per run on the retrieval task's dev "
        "split (held-out parallel text, never the test pairs), n > 0 = that index",
        0,
    )


@dataclass
class TrainSpec:
    """Optimisation settings of one phase (paper v1 Appendix A unless noted)."""

    lr: float = _help("peak learning rate (paper: 1e-5 intermediate, 3e-6 target)", 1e-5)
    epochs: float = _help("training epochs over the (mixed) training data", 2.0)
    max_steps: int = _help("stop after this many optimizer steps; 0 = use epochs", 0)
    batch_size: int = _help(
        "examples per forward pass (the effective batch is batch_size x grad_accum)", 32
    )
    grad_accum: int = _help(
        "gradient accumulation: batches per optimizer step. In intermediate.per_task of a "
        "mixture it applies to that task alone (each draw of it is grad_accum batches), so "
        "e.g. {hellaswag: {batch_size: 6, grad_accum: 4}} keeps hellaswag's batch of 24",
        1,
    )
    gradient_checkpointing: bool = _help(
        "recompute the encoder's activations in the backward pass (transformers' "
        "non-reentrant checkpointing): the same numbers with much less activation memory, "
        "about a third more compute",
        False,
    )
    max_seq_len: int = _help("maximum tokens per example (dynamic padding below it)", 128)
    warmup_ratio: float = _help("linear warm-up as a fraction of all steps (paper: 0.1)", 0.1)
    weight_decay: float = _help("AdamW weight decay", 0.0)
    dev_subset: int = _help("early stopping on the first N dev examples per task (paper: 500)", 500)
    eval_every: int = _help("evaluate the dev subset every N steps; 0 = once per epoch", 0)
    patience: int = _help("early stopping patience in evaluations; 0 = off", 0)
    checkpoint_every: int = _help("write a resumable checkpoint every N steps", 50)
    doc_stride: int = _help(
        "QA only: token overlap between windows of a long context; 0 = min(128, max_seq_len // 3)",
        0,
    )
    pooling: str = _help(
        "what sentence-level heads (classification, multiple choice) read: `first` token (the "
        "paper's RoBERTa-style heads) or `mean` of the last layer over real tokens (e5-style "
        "sentence encoders, whose first token carries no sentence representation; the "
        "reports and the paper disclose it)",
        "first",
    )
    freeze_embeddings: bool = _help(
        "freeze the word-embedding matrix (the paper trains all weights; mini freezes it to fit "
        "2 CPU cores: 250k XLM-R vocabulary rows dominate optimizer cost on small encoders; "
        "the reports and the paper disclose it)",
        False,
    )


@dataclass
class DataSpec:
    """Where data comes from and how much of it the profile uses."""

    source: str = _help(f"data source: {' | '.join(DATA_SOURCES)}", "mini")
    root: str = _help(
        "real data: folder holding local copies in the official layouts (real-split: required, "
        "a local XTREME download; `xtreme-real` = paths.xtreme_real())",
        "",
    )
    sources: dict = _help(
        "real data: per-task override, task -> folder or hub dataset name", factory=dict
    )
    fallback_root: str = _help(
        "real data: a second folder in the official layouts, searched file by file after "
        "`root` (also where `root` holds a split without its labels); the data card records "
        "which root each file came from. The rehearsal points it at tests/fixtures/rehearsal",
        "",
    )
    subsample: dict = _help(
        "real data: keep at most this many rows per split, {train: n, dev: n, test: n} "
        "(seeded, the same rows in every run); 0 or absent = every row",
        factory=dict,
    )
    subsample_per_task: dict = _help(
        "real-split: per-task sizes over `subsample`, task -> {train: n, dev: n, test: n} "
        "(items per language; QA tests keep whole articles, so they may hold a few more)",
        factory=dict,
    )
    missing_languages: dict = _help(
        "real-split: languages a task leaves out because the local download lacks their "
        "labelled file, task -> languages (../shared/xtreme-real: udpos [de], bucc2018 "
        "[de, fr, ru]); any other absent file stops the data run",
        factory=dict,
    )
    train_size: int = _help("mini: English training examples per task", 600)
    dev_size: int = _help("mini: dev examples per task and language", 150)
    test_size: int = _help("mini: test examples per task and language", 150)
    retrieval_size: int = _help(
        "mini: aligned pairs per language for Tatoeba (BUCC uses the "
        "same count of gold pairs plus as many distractors)",
        200,
    )
    languages: list = _help(
        "evaluation languages of the trained target tasks (each task uses "
        "the intersection with its XTREME list; English is always added)",
        factory=list,
    )
    retrieval_languages: list = _help(
        "languages of BUCC/Tatoeba (intersected per task)", factory=list
    )
    real_test_sets: dict = _help(
        "mini: real annotated test sets shipped by packages, added as extra evaluation "
        "languages, task -> languages (available: udpos: [tr], panx: [ja])",
        factory=dict,
    )


@dataclass
class IntermediateSpec:
    """Phase (ii): which intermediate settings to train."""

    tasks: list = _help(
        f"single intermediate tasks, each one setting: {', '.join(xtreme.INTERMEDIATE_TASKS)}",
        factory=list,
    )
    multitask: bool = _help("add the multi-task setting over all `tasks`", False)
    include_none: bool = _help("add the `none` setting (no intermediate training)", True)
    modes: list = _help(f"language conditions: {', '.join(MODES)}", factory=lambda: ["english"])
    translated_languages: list = _help(
        "languages of the machine-translated intermediate data", factory=list
    )
    mlm_languages: list = _help(
        "languages of the multilingual MLM co-training corpus", factory=list
    )
    mlm_size: int = _help("MLM co-training sentences in total (sampled with alpha=0.3)", 400)
    translations: list = _help(
        "real data: intermediate tasks beyond XTREME's translate-train (MNLI, SQuAD v1.1) "
        "whose translations you supply as <root>/<task>/train/<lang>.jsonl; translated modes "
        "are planned only for tasks with translations (the mini source has them for all)",
        factory=list,
    )
    skip_if_absent: list = _help(
        "real data: intermediate tasks planned out, with the reason printed, when their "
        "files are not under data.root (licensed data, e.g. [ccg]: CCGbank is LDC-licensed); "
        "otherwise a missing file stops the data run",
        factory=list,
    )
    translated_per_language: int = _help(
        "translated examples per language and task. 0 (default) = equal budget: a translated "
        "mode trains on as many examples as English, split over its languages (English counts "
        "as one in english+translated) with disjoint items per language, so the gap compares "
        "languages, not data sizes; n > 0 = n per language; -1 = every row. Anything but 0 "
        "is an opt-out that each run's metrics and report warn about when the budget differs",
        0,
    )
    restrict: dict = _help(
        "train a setting only for some cells, setting -> {models: [labels], modes: [...], "
        "seeds: [...]}, e.g. {cosmosqa: {models: [e5-L12], modes: [english], seeds: [0]}} to "
        "fit a time budget (`largest` names the last entry of `models:`, so the rule survives "
        "a `models:` override); the targets of a cell that is not trained are not planned either",
        factory=dict,
    )
    train: TrainSpec = _help("optimisation settings", factory=TrainSpec)
    per_task: dict = _help(
        "per-task overrides of `train` keys, e.g. {cosmosqa: {epochs: 15, batch_size: 4}}. A "
        "single-task setting uses all of them; inside a mixture (multitask, MLM co-training, "
        "key `mlm` included) batch_size, max_seq_len, doc_stride and grad_accum apply per "
        "task (grad_accum splits that task's draws), epochs stay the mixture's",
        factory=dict,
    )
    per_task_from_paper: bool = _help(
        "start `per_task` from the paper's v1 Table 3 values held in xstilts.xtreme "
        "(batch size, epochs, max length, doc stride); explicit `per_task` keys win",
        False,
    )
    per_mode: dict = _help(
        "per-mode overrides of `train` keys, applied last, e.g. {english+mlm: {lr: 5.0e-6}} "
        "(paper v1 A.1: lr 1e-5 without MLM, 5e-6 with MLM)",
        factory=dict,
    )


@dataclass
class TargetSpec:
    """Phase (iii): XTREME target tasks."""

    tasks: list = _help(f"target tasks: {', '.join(xtreme.TARGET_TASKS)}", factory=list)
    train: TrainSpec = _help("optimisation settings", factory=lambda: TrainSpec(lr=3e-6))
    per_task: dict = _help(
        "per-task overrides of `train` keys, e.g. {udpos: {epochs: 10}}", factory=dict
    )
    restrict: dict = _help(
        "run a task only for some cells, task -> {models: [labels], settings: [...], "
        "modes: [...], seeds: [...]}, e.g. {udpos: {models: [largest], seeds: [0]}} to fit a "
        "time budget (`largest`: the last entry of `models:`); the baseline (setting none) "
        "is kept for every model and seed kept. "
        "Fewer than 3 seeds: the analysis claims no direction for that cell",
        factory=dict,
    )


@dataclass
class ComputeSpec:
    """Where and how runs execute."""

    device: str = _help(f"device: {' | '.join(DEVICES)}", "auto")
    executor: str = _help(f"executor: {' | '.join(EXECUTORS)}", "local")
    precision: str = _help(
        f"numeric precision: {' | '.join(PRECISIONS)}; auto = bf16 autocast where the hardware "
        "has native bf16 (CPU: AMX or AVX512-BF16; CUDA: compute capability >= 8.0), else fp32. "
        "Resolved when the plan is made; the resolved value is part of each run's id",
        "auto",
    )
    deterministic: bool = _help(
        "CUDA: use torch's deterministic kernels (slower; repeatable on the same GPU). CPU "
        "runs always use them (free there), which is what makes the same run give the same "
        "numbers in any process",
        False,
    )
    workers: int = _help("parallel workers for local-parallel", 1)
    threads: int = _help("torch CPU threads per run (0 = leave torch's default)", 0)
    slurm: dict = _help(
        "submitit/SLURM settings: partition, gpus_per_node, timeout_min, ...", factory=dict
    )
    throughput: dict = _help(
        "examples/s per model label for cost estimates (measured if empty)", factory=dict
    )
    keep_checkpoints: bool = _help(
        "keep checkpoint/ and best/ of finished training runs (resume state, ~1 GB per "
        "e5-L12 run); by default they are deleted once a run is DONE",
        False,
    )


@dataclass
class Profile:
    """A complete profile: ``smoke``, ``mini`` or ``full``."""

    profile: str = _help("profile name")
    description: str = _help("one line shown in reports", "")
    seeds: list = _help(
        "random seeds; each (model, setting, mode) is trained once per seed", factory=lambda: [0]
    )
    models: list = _help("encoders of the scale axis (list of ModelSpec)", factory=list)
    data: DataSpec = _help("data settings", factory=DataSpec)
    intermediate: IntermediateSpec = _help("phase (ii) settings", factory=IntermediateSpec)
    target: TargetSpec = _help("phase (iii) settings", factory=TargetSpec)
    compute: ComputeSpec = _help("execution settings", factory=ComputeSpec)
    source_file: str = _help("(set by the loader) the YAML file this profile came from", "")


# --------------------------------------------------------------------------- generic checker

_LIST_ITEM_TYPES = {("Profile", "models"): ModelSpec, ("Profile", "seeds"): int}


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, where: str, src: str) -> Any:
    """Check ``value`` against annotation ``tp``; build nested dataclasses."""
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ParamsError(
                f"{src}: {where} must be a mapping of {tp.__name__} keys, "
                f"got {type(value).__name__}"
            )
        return _build(tp, value, where, src)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamsError(f"{src}: {where} must be a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(f"{src}: {where} must be an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ParamsError(f"{src}: {where} must be true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ParamsError(f"{src}: {where} must be a string, got {value!r}")
        return value
    if tp is list:
        if not isinstance(value, list):
            raise ParamsError(f"{src}: {where} must be a list, got {value!r}")
        return value
    if tp is dict:
        if not isinstance(value, dict):
            raise ParamsError(f"{src}: {where} must be a mapping, got {value!r}")
        return value
    raise TypeError(f"unsupported annotation {tp!r} at {where}")  # programming error


def _build(cls: type, data: dict, prefix: str, src: str):
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        key = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise ParamsError(f"{src}: unknown key '{key}'; allowed keys here: {', '.join(names)}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        where = f"{prefix}.{f.name}" if prefix else f.name
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ParamsError(f"{src}: missing required key '{where}' ({f.metadata['help']})")
            continue
        value = _coerce(data[f.name], hints[f.name], where, src)
        item_tp = _LIST_ITEM_TYPES.get((cls.__name__, f.name))
        if item_tp is not None:
            value = [_coerce(v, item_tp, f"{where}[{i}]", src) for i, v in enumerate(value)]
        kwargs[f.name] = value
    return cls(**kwargs)


def _check_choice(value: str, allowed: tuple | list, where: str, src: str) -> None:
    if value not in allowed:
        raise ParamsError(
            f"{src}: {where} = {value!r} is not allowed; allowed: {', '.join(map(str, allowed))}"
        )


def _check_train(t: TrainSpec, where: str, src: str) -> None:
    if not t.lr > 0:
        raise ParamsError(f"{src}: {where}.lr must be > 0, got {t.lr}")
    if t.lr > 1:
        raise ParamsError(f"{src}: {where}.lr = {t.lr} is implausibly large (expected ~1e-6..1e-3)")
    for key in ("batch_size", "grad_accum", "max_seq_len"):
        if getattr(t, key) < 1:
            raise ParamsError(f"{src}: {where}.{key} must be >= 1, got {getattr(t, key)}")
    if t.epochs <= 0 and t.max_steps <= 0:
        raise ParamsError(f"{src}: {where} needs epochs > 0 or max_steps > 0")
    if not 0 <= t.warmup_ratio < 1:
        raise ParamsError(f"{src}: {where}.warmup_ratio must be in [0, 1), got {t.warmup_ratio}")
    for key in ("max_steps", "dev_subset", "eval_every", "patience", "checkpoint_every"):
        if getattr(t, key) < 0:
            raise ParamsError(f"{src}: {where}.{key} must be >= 0, got {getattr(t, key)}")
    _check_choice(t.pooling, ["first", "mean"], f"{where}.pooling", src)


def known_languages(source: str) -> set[str]:
    """Languages a data source can provide (XTREME's lists; the mini generator's set)."""
    langs: set[str] = set()
    for spec in xtreme.TARGET_TASKS.values():
        langs.update(spec.languages)
    langs.add("en")
    return langs


def validate(p: Profile, src: str) -> Profile:
    """Semantic checks beyond types; raises ``ParamsError``.

    Args:
        p: A type-checked profile.
        src: Source file name for messages.

    Returns:
        The same profile.

    """
    if not p.seeds:
        raise ParamsError(f"{src}: seeds must be a non-empty list of integers")
    if len(set(p.seeds)) != len(p.seeds):
        raise ParamsError(f"{src}: seeds contain duplicates: {p.seeds}")
    if not p.models:
        raise ParamsError(f"{src}: models must list at least one encoder (name: ...)")
    labels = [m.label or m.name for m in p.models]
    if len(set(labels)) != len(labels):
        raise ParamsError(f"{src}: models have duplicate labels: {labels}")
    for i, m in enumerate(p.models):
        if not m.name.strip():
            raise ParamsError(f"{src}: models[{i}].name is empty")
        if m.retrieval_layer < -2:
            raise ParamsError(
                f"{src}: models[{i}].retrieval_layer must be -2, -1, 0 or a positive index, "
                f"got {m.retrieval_layer}"
            )
    _check_choice(p.data.source, DATA_SOURCES, "data.source", src)
    langs = known_languages(p.data.source)
    for key in ("languages", "retrieval_languages"):
        for lang in getattr(p.data, key):
            if not isinstance(lang, str):
                raise ParamsError(f"{src}: data.{key} entries must be strings, got {lang!r}")
            _check_choice(lang, sorted(langs), f"data.{key}", src)
    if not p.target.tasks:
        raise ParamsError(
            f"{src}: target.tasks is empty; allowed: {', '.join(xtreme.TARGET_TASKS)}"
        )
    for t in p.target.tasks:
        _check_choice(t, list(xtreme.TARGET_TASKS), "target.tasks", src)
    trained = [t for t in p.target.tasks if xtreme.TARGET_TASKS[t].train_task]
    if trained and not p.data.languages:
        raise ParamsError(
            f"{src}: data.languages is empty but target tasks {trained} need evaluation languages"
        )
    retrieval = [t for t in p.target.tasks if not xtreme.TARGET_TASKS[t].train_task]
    if retrieval and not p.data.retrieval_languages:
        raise ParamsError(f"{src}: data.retrieval_languages is empty but {retrieval} need it")
    for t in p.intermediate.tasks:
        _check_choice(t, list(xtreme.INTERMEDIATE_TASKS), "intermediate.tasks", src)
    if not p.intermediate.modes:
        raise ParamsError(f"{src}: intermediate.modes is empty; allowed: {', '.join(MODES)}")
    for mode in p.intermediate.modes:
        _check_choice(mode, MODES, "intermediate.modes", src)
    if any("translated" in m for m in p.intermediate.modes) and not (
        p.intermediate.translated_languages
    ):
        raise ParamsError(
            f"{src}: intermediate.translated_languages is empty but a translated mode is requested"
        )
    if "english+mlm" in p.intermediate.modes and not p.intermediate.mlm_languages:
        raise ParamsError(
            f"{src}: intermediate.mlm_languages is empty but mode english+mlm is requested"
        )
    for key in ("translations", "skip_if_absent"):
        for t in getattr(p.intermediate, key):
            _check_choice(t, list(xtreme.INTERMEDIATE_TASKS), f"intermediate.{key}", src)
    for split, n in p.data.subsample.items():
        _check_choice(split, ["train", "dev", "test"], "data.subsample", src)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ParamsError(f"{src}: data.subsample.{split} must be an integer >= 0, got {n!r}")
    for key in ("translated_languages", "mlm_languages"):
        for lang in getattr(p.intermediate, key):
            _check_choice(lang, sorted(langs), f"intermediate.{key}", src)
    if p.intermediate.translated_per_language < -1:
        raise ParamsError(
            f"{src}: intermediate.translated_per_language must be 0 (equal budget), -1 (all "
            f"rows) or a positive count, got {p.intermediate.translated_per_language}"
        )
    if p.intermediate.multitask and len(p.intermediate.tasks) < 2:
        raise ParamsError(f"{src}: intermediate.multitask needs at least two intermediate.tasks")
    _check_train(p.intermediate.train, "intermediate.train", src)
    _check_train(p.target.train, "target.train", src)
    _check_overrides(
        p.target.train, p.target.per_task, list(xtreme.TARGET_TASKS), "target.per_task", src
    )
    inter_names = [*xtreme.INTERMEDIATE_TASKS, "mlm"]
    _check_overrides(
        p.intermediate.train, p.intermediate.per_task, inter_names, "intermediate.per_task", src
    )
    _check_overrides(
        p.intermediate.train, p.intermediate.per_mode, list(MODES), "intermediate.per_mode", src
    )
    _resolve_largest(p)  # before the check: `largest` is an alias, not a label
    _check_restrict(p, src)
    _check_real_test_sets(p, src)
    _check_real_split(p, src)
    for key in ("train_size", "dev_size", "test_size", "retrieval_size"):
        if getattr(p.data, key) < 1:
            raise ParamsError(f"{src}: data.{key} must be >= 1, got {getattr(p.data, key)}")
    _check_choice(p.compute.device, DEVICES, "compute.device", src)
    _check_choice(p.compute.executor, EXECUTORS, "compute.executor", src)
    _check_choice(p.compute.precision, PRECISIONS, "compute.precision", src)
    if p.compute.workers < 1:
        raise ParamsError(f"{src}: compute.workers must be >= 1, got {p.compute.workers}")
    _check_sequence_lengths(p, src)
    _check_shared_finetune(p, src)
    return p


def _check_overrides(base: TrainSpec, table: dict, names: list, where: str, src: str) -> None:
    """Check ``{name: {train key: value}}`` overrides: known names and keys, valid merges."""
    train_keys = {f.name for f in dataclasses.fields(TrainSpec)}
    for name, over in table.items():
        _check_choice(name, names, where, src)
        if not isinstance(over, dict):
            raise ParamsError(f"{src}: {where}.{name} must be a mapping")
        bad = sorted(set(over) - train_keys)
        if bad:
            raise ParamsError(
                f"{src}: unknown key '{where}.{name}.{bad[0]}'; allowed: "
                f"{', '.join(sorted(train_keys))}"
            )
        merged = dataclasses.replace(base, **over)
        _check_train(
            _build(TrainSpec, dataclasses.asdict(merged), f"{where}.{name}", src),
            f"{where}.{name}",
            src,
        )


def _check_sequence_lengths(p: Profile, src: str) -> None:
    """Every ``max_seq_len`` fits every encoder's position table (read from its config)."""
    from xstilts.models.encoder import max_sequence_length

    lengths = {
        "intermediate.train.max_seq_len": p.intermediate.train.max_seq_len,
        "target.train.max_seq_len": p.target.train.max_seq_len,
        **{
            f"{where}.{name}.max_seq_len": over["max_seq_len"]
            for where, table in (
                ("intermediate.per_task", intermediate_per_task(p)),
                ("intermediate.per_mode", p.intermediate.per_mode),
                ("target.per_task", p.target.per_task),
            )
            for name, over in table.items()
            if "max_seq_len" in over
        },
    }
    for m in p.models:
        limit = max_sequence_length(m.name)
        for key, value in lengths.items():
            if limit is not None and value > limit:
                raise ParamsError(
                    f"{src}: {key} = {value} exceeds the {limit} positions of encoder "
                    f"{m.name!r} (its max_position_embeddings); use at most {limit}"
                )


LARGEST_MODEL = "largest"  # in a restrict rule's models: the last entry of `models:`


def _resolve_largest(p: Profile) -> None:
    """Replace ``largest`` in restrict rules' ``models`` by the label of the last model.

    Why: a budget rule such as "QA targets on the top rung only" then holds unchanged when
    a user sets ``models:`` to mBERT / XLM-R names; a literal label would fail validation.
    """
    if not p.models:
        return
    top = p.models[-1].label or p.models[-1].name
    for rules in (p.target.restrict, p.intermediate.restrict):
        for rule in rules.values():
            if isinstance(rule, dict) and isinstance(rule.get("models"), list):
                rule["models"] = [top if m == LARGEST_MODEL else m for m in rule["models"]]


def _check_restrict(p: Profile, src: str) -> None:
    labels = [m.label or m.name for m in p.models]
    inter = [*p.intermediate.tasks] + (["multitask"] if p.intermediate.multitask else [])
    modes, seeds = list(p.intermediate.modes), list(p.seeds)
    allowed = {"models": labels, "settings": ["none", *inter], "modes": modes, "seeds": seeds}
    _check_restrict_rules(p.target.restrict, list(p.target.tasks), allowed, "target", src)
    allowed = {"models": labels, "modes": modes, "seeds": seeds}
    _check_restrict_rules(p.intermediate.restrict, inter, allowed, "intermediate", src)


def _check_restrict_rules(rules: dict, keys: list, allowed: dict, section: str, src: str) -> None:
    for task, rule in rules.items():
        _check_choice(task, keys, f"{section}.restrict", src)
        if not isinstance(rule, dict):
            raise ParamsError(f"{src}: {section}.restrict.{task} must be a mapping")
        for key, values in rule.items():
            _check_choice(key, list(allowed), f"{section}.restrict.{task}", src)
            if not isinstance(values, list) or not values:
                raise ParamsError(
                    f"{src}: {section}.restrict.{task}.{key} must be a non-empty list"
                )
            for v in values:
                _check_choice(v, allowed[key], f"{section}.restrict.{task}.{key}", src)


def _check_shared_finetune(p: Profile, src: str) -> None:
    """Targets sharing one fine-tune (XQuAD, MLQA: SQuAD v1.1) need the same settings."""
    for lead, group in xtreme.SHARED_FINETUNE.items():
        members = [t for t in group if t in p.target.tasks]
        if lead not in members:
            continue
        specs = {t: dataclasses.asdict(train_spec_for(p, t)) for t in members}
        for t in members[1:]:
            if specs[t] != specs[lead]:
                diff = sorted(k for k in specs[lead] if specs[lead][k] != specs[t][k])
                raise ParamsError(
                    f"{src}: target.per_task.{t} differs from target.per_task.{lead} in "
                    f"{', '.join(diff)}, but {' and '.join(members)} share one fine-tune on "
                    f"{xtreme.TARGET_TASKS[lead].train_task}: give them the same settings"
                )


def _check_real_test_sets(p: Profile, src: str) -> None:
    from xstilts.data import annotated

    sets = p.data.real_test_sets
    if sets and p.data.source != "mini":
        raise ParamsError(
            f"{src}: data.real_test_sets is for the mini source; real data already has them"
        )
    supported = annotated.supported()
    for task, langs in sets.items():
        _check_choice(task, sorted(supported), "data.real_test_sets", src)
        if task not in p.target.tasks:
            raise ParamsError(
                f"{src}: data.real_test_sets.{task} is set but {task} is not in target.tasks"
            )
        if not isinstance(langs, list) or not langs:
            raise ParamsError(f"{src}: data.real_test_sets.{task} must be a non-empty list")
        for lang in langs:
            _check_choice(lang, list(supported[task]), f"data.real_test_sets.{task}", src)


def _check_real_split(p: Profile, src: str) -> None:
    """The real-split source: a root, tasks it has slots for, valid per-task sizes."""
    d = p.data
    if d.source != "real-split":
        for key in ("subsample_per_task", "missing_languages"):
            if getattr(d, key):
                raise ParamsError(f"{src}: data.{key} is for data.source real-split")
        return
    from xstilts.data import real_splits

    if not d.root.strip():
        raise ParamsError(
            f"{src}: data.root is required with data.source real-split (a local XTREME "
            "download in download_data.sh layout, or `xtreme-real` for paths.xtreme_real())"
        )
    if p.intermediate.translations:
        raise ParamsError(
            f"{src}: intermediate.translations: the real-split source has human translations "
            f"only for {', '.join(real_splits.TRANSLATED)} (XNLI dev); it reads no others"
        )
    if d.sources or d.fallback_root:
        raise ParamsError(
            f"{src}: data.sources / data.fallback_root: real-split reads data.root only"
        )
    for t in [*p.intermediate.tasks, *p.target.tasks]:
        if t in real_splits.NOT_A_TARGET:
            raise ParamsError(f"{src}: {t}: {real_splits.NOT_A_TARGET[t]}")
        _check_choice(
            t, [x for x in real_splits.TASKS if x != "mlm"], "tasks (real-split slots)", src
        )
    for task, sizes in d.subsample_per_task.items():
        _check_choice(task, list(real_splits.TASKS), "data.subsample_per_task", src)
        if not isinstance(sizes, dict):
            raise ParamsError(f"{src}: data.subsample_per_task.{task} must be a mapping")
        for split, n in sizes.items():
            _check_choice(split, ["train", "dev", "test"], f"data.subsample_per_task.{task}", src)
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ParamsError(
                    f"{src}: data.subsample_per_task.{task}.{split} must be an integer >= 0, "
                    f"got {n!r}"
                )
    for task, langs in d.missing_languages.items():
        _check_choice(task, list(xtreme.TARGET_TASKS), "data.missing_languages", src)
        if not isinstance(langs, list):
            raise ParamsError(f"{src}: data.missing_languages.{task} must be a list")


def profile_path(name_or_path: str | Path) -> Path:
    """Resolve a profile name (``smoke``) or a YAML path; raise ``ParamsError`` if absent."""
    path = Path(name_or_path)
    # ``paper`` is also a folder of the repository: only a file counts as a path here.
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.exists():
            raise ParamsError(f"{path}: profile file does not exist")
        return path
    candidate = paths.PARAMS / f"{name_or_path}.yaml"
    if not candidate.exists():
        names = sorted(p.stem for p in paths.PARAMS.glob("*.yaml"))
        raise ParamsError(f"unknown profile {str(name_or_path)!r}; available: {', '.join(names)}")
    return candidate


def load_profile(name_or_path: str | Path, overrides: dict | None = None) -> Profile:
    """Load, type-check and validate a profile.

    Args:
        name_or_path: ``smoke`` / ``mini`` / ``full`` or a path to a YAML file.
        overrides: Optional nested dict merged over the file (CLI overrides).

    Returns:
        The validated ``Profile``.

    Raises:
        ParamsError: With file, key and allowed values.

    """
    path = profile_path(name_or_path)
    src = str(path)
    data = _read_with_bases(path)
    if overrides:
        data = deep_merge(data, overrides)
    data.setdefault("source_file", src)
    return validate(_build(Profile, data, "", src), src)


def _read_mapping(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ParamsError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: a profile must be a YAML mapping at the top level")
    return data


def _read_with_bases(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """A profile file merged over the profile it ``extends`` (recursively; lists replace).

    ``extends: full`` lets a profile state only what differs from the paper's grid, so the
    derived profiles cannot drift from it.
    """
    if path.resolve() in seen:
        chain = " -> ".join(str(p) for p in (*seen, path.resolve()))
        raise ParamsError(f"{path}: 'extends' forms a cycle: {chain}")
    data = _read_mapping(path)
    base = data.pop("extends", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ParamsError(f"{path}: extends: expected a profile name or path, got {base!r}")
    base_path = profile_path(base)
    return deep_merge(_read_with_bases(base_path, (*seen, path.resolve())), data)


def deep_merge(base: dict, over: dict) -> dict:
    """Return ``base`` with ``over`` merged in recursively (``over`` wins)."""
    out = dict(base)
    for k, v in over.items():
        out[k] = (
            deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        )
    return out


def to_dict(obj: Any) -> Any:
    """Plain-data view of a profile (for ``params.yaml`` and hashing)."""
    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj


def train_spec_for(profile: Profile, task: str) -> TrainSpec:
    """Target-task training settings with ``target.per_task`` overrides applied."""
    return dataclasses.replace(profile.target.train, **profile.target.per_task.get(task, {}))


# Keys of a task's settings that apply inside a mixture (per task); the rest (epochs, lr, ...)
# belong to the mixture as a whole. A task's grad_accum splits each of its draws into that
# many batches (train.TrainConfig.task_grad_accum).
MIXTURE_KEYS = ("batch_size", "max_seq_len", "doc_stride", "grad_accum")


def intermediate_per_task(profile: Profile) -> dict[str, dict]:
    """``intermediate.per_task`` with the paper's Table 3 values underneath when asked for."""
    base = xtreme.intermediate_paper_settings() if profile.intermediate.per_task_from_paper else {}
    names = set(base) | set(profile.intermediate.per_task)
    return {t: {**base.get(t, {}), **profile.intermediate.per_task.get(t, {})} for t in names}


def intermediate_train_for(
    profile: Profile, tasks: list[str], mode: str
) -> tuple[TrainSpec, dict[str, dict]]:
    """Phase-(ii) settings of one run: ``train`` < ``per_task`` (single task) < ``per_mode``.

    Args:
        profile: A validated profile.
        tasks: The setting's intermediate tasks (one task, or the multi-task mixture).
        mode: The language mode (``english+mlm`` adds the ``mlm`` task to the mixture).

    Returns:
        ``(train, mixture)``: the run's ``TrainSpec`` and, per task of the run's mixture,
        the ``MIXTURE_KEYS`` overrides (batch size, max length, doc stride of that task).
    """
    per_task = intermediate_per_task(profile)
    spec = profile.intermediate.train
    members = [*tasks, *(["mlm"] if mode == "english+mlm" else [])]
    # A task's grad_accum is the run's in a single-task run, and its own draws' inside a
    # mixture: never both, or the task would accumulate twice.
    level = "mixture" if len(members) > 1 else "run"
    if len(tasks) == 1:
        over = per_task.get(tasks[0], {})
        spec = dataclasses.replace(
            spec, **{k: v for k, v in over.items() if k != "grad_accum" or level == "run"}
        )
    spec = dataclasses.replace(spec, **profile.intermediate.per_mode.get(mode, {}))
    mixture = {
        t: {
            k: v
            for k, v in per_task.get(t, {}).items()
            if k in MIXTURE_KEYS and (k != "grad_accum" or level == "mixture")
        }
        for t in members
    }
    return spec, {t: o for t, o in mixture.items() if o}


def disclosures(profile: Profile) -> list[str]:
    """Deviations from the paper's protocol that a profile's settings make, one sentence each.

    Derived from the parameters (not written by hand per profile), so the index report and
    the paper state them wherever the profile's numbers appear.
    """
    out = []
    phases = (("phase (ii)", profile.intermediate.train), ("phase (iii)", profile.target.train))
    frozen = [name for name, spec in phases if spec.freeze_embeddings]
    if frozen:
        out.append(
            f"The word-embedding matrix is frozen in {' and '.join(frozen)} training "
            "(to fit the compute budget); the paper trains all weights."
        )
    pooled = [name for name, spec in phases if spec.pooling == "mean"]
    if pooled:
        out.append(
            f"Sentence-level heads (classification, multiple choice) in {' and '.join(pooled)} "
            "read the mean of the last layer over real tokens, the pooling the e5 encoder was "
            "trained with; the paper's heads read the first token."
        )
    if profile.intermediate.translated_per_language != 0 and any(
        "translated" in m for m in profile.intermediate.modes
    ):
        out.append(
            "Translated intermediate data do not have the English budget "
            f"(translated_per_language = {profile.intermediate.translated_per_language}), so the "
            "translated-vs-English gap also compares data sizes."
        )
    from xstilts import grid  # grid builds on this module

    out += [f"Not run: {line}." for line in grid.grid(profile).left_out]
    return out
