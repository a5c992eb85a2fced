"""Notebook parameter contracts: what each phase notebook's ``parameters`` cell must declare.

The pipeline builds these from a profile; the notebook validates what papermill injected
against them in its second cell (``check``). A test compares the field names with the
notebook's ``parameters`` cell (``papermill.inspect_notebook``), so the two cannot drift.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass
class DataRunParams:
    """Parameters of ``00_data.ipynb``."""

    run_dir: str = ""  # the run folder (set by the pipeline)
    profile: str = ""  # profile name, for the report
    data: dict = field(default_factory=dict)  # the profile's `data` section
    tasks: list = field(default_factory=list)  # every task whose data the profile needs
    translated_tasks: list = field(default_factory=list)  # intermediate tasks read translated
    translated_languages: list = field(default_factory=list)  # MT copies of intermediate data
    mlm_languages: list = field(default_factory=list)  # languages of the MLM corpus
    mlm_size: int = 0  # MLM sentences in total
    seed: int = 0  # generator seed


@dataclass
class IntermediateRunParams:
    """Parameters of ``10_intermediate.ipynb`` (phase ii)."""

    run_dir: str = ""
    data_dir: str = ""  # upstream data run folder
    model: str = ""  # encoder name or path (phase i)
    model_label: str = ""
    setting: str = ""  # intermediate task name or `multitask`
    mode: str = "english"  # english | translated | english+translated | english+mlm
    tasks: list = field(default_factory=list)  # intermediate tasks of this setting
    languages: list = field(default_factory=list)  # translated-data languages (translated modes)
    mlm_languages: list = field(default_factory=list)  # MLM co-training languages (english+mlm)
    translated_per_language: int = 0  # per language; 0 = equal budget, -1 = all rows
    seed: int = 0
    train: dict = field(default_factory=dict)  # TrainSpec fields
    per_task: dict = field(default_factory=dict)  # task -> batch_size/max_seq_len/doc_stride
    device: str = "auto"
    threads: int = 0
    precision: str = "fp32"  # fp32 | bf16 (compute.precision resolved at plan time)
    deterministic: bool = False  # CUDA: deterministic kernels (compute.deterministic); CPU always


@dataclass
class TargetRunParams:
    """Parameters of ``20_target.ipynb`` (phase iii and retrieval)."""

    run_dir: str = ""
    data_dir: str = ""  # upstream data run folder
    intermediate_dir: str = ""  # upstream phase-ii run folder; "" = setting `none`
    model: str = ""
    model_label: str = ""
    setting: str = "none"
    mode: str = "english"
    task: str = ""  # XTREME target task
    retrieval_layer: int = 0  # BUCC/Tatoeba layer: 0 reference table, -1 last, -2 on dev
    languages: list = field(default_factory=list)  # evaluation languages
    also_evaluate: dict = field(default_factory=dict)  # task -> languages, same fine-tune
    seed: int = 0
    train: dict = field(default_factory=dict)
    device: str = "auto"
    threads: int = 0
    precision: str = "fp32"  # fp32 | bf16 (compute.precision resolved at plan time)
    deterministic: bool = False  # CUDA: deterministic kernels (compute.deterministic); CPU always


@dataclass
class AnalysisRunParams:
    """Parameters of ``30_analysis.ipynb``."""

    run_dir: str = ""
    profile: str = ""
    profile_file: str = ""
    data_dir: str = ""
    intermediate_dirs: list = field(default_factory=list)
    target_dirs: list = field(default_factory=list)


PHASE_PARAMS = {
    "data": DataRunParams,
    "intermediate": IntermediateRunParams,
    "target": TargetRunParams,
    "analysis": AnalysisRunParams,
}

NOTEBOOKS = {
    "data": "00_data.ipynb",
    "intermediate": "10_intermediate.ipynb",
    "target": "20_target.ipynb",
    "analysis": "30_analysis.ipynb",
}


def check(phase: str, values: dict):
    """Validate injected notebook parameters and return the typed dataclass.

    Outside the pipeline (``xstilts.kernel``): with an empty ``run_dir`` the notebook's
    defaults run against the smoke profile in a scratch store, its upstream runs built
    there first; a finished run re-run by hand writes into a scratch copy of its folder.

    Args:
        phase: Phase name (key of ``PHASE_PARAMS``).
        values: The notebook's namespace (``globals()``); only contract names are read.

    Returns:
        An instance of the phase's dataclass.

    Raises:
        ValueError: If a value has the wrong type.

    """
    from xstilts import kernel

    kernel.quiet()  # before the phase module imports transformers
    if not values.get("run_dir"):
        values = {**values, **kernel.standalone_parameters(phase, values)}
    cls = PHASE_PARAMS[phase]
    kwargs = {}
    for f in dataclasses.fields(cls):
        v = values.get(f.name, f.default if f.default is not dataclasses.MISSING else None)
        if v is None and f.default_factory is not dataclasses.MISSING:
            v = f.default_factory()
        expected = {"str": str, "int": int, "dict": dict, "list": list, "bool": bool}[str(f.type)]
        if not isinstance(v, expected) or (expected is int and isinstance(v, bool)):
            raise ValueError(f"{phase} notebook parameter {f.name!r} must be {f.type}, got {v!r}")
        kwargs[f.name] = v
    kwargs["run_dir"] = kernel.rerun_dir(kwargs["run_dir"])
    return cls(**kwargs)
