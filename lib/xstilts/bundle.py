"""The analysis bundle: one typed schema shared by the analysis phase, report, paper and tests.

The analysis phase (``phases/analysis.py``) builds a :class:`Bundle` in memory and
:func:`write` puts it on disk; ``report`` and ``paper`` read it back with :func:`load`.
Every table has its columns declared in :data:`TABLES`; both directions check them, so a
missing column fails with its name at the writer, not as a blank cell in the paper. File
names are the table names (``<name>.csv``); no consumer renames columns.

Layout of ``<analysis run>/bundle/``::

    scores.csv            per (model, setting, mode, seed, task, lang) test score (and dev score)
    task_scores.csv       mean over languages per seed, then over seeds
    xtreme.csv            mean over the tasks every compared row has (see ``avg_tasks``)
    best_settings.csv     best intermediate setting per (model, task), selected on dev
    scale_summary.csv     per-task gap with seed-level test (multilingual − English-only, ...)
    scale_group.csv       the same per task family (the rows the scale table and figure show)
    scale_language.csv    per-language gaps, descriptive
    scale_trend.csv       slope of the gap per doubling of non-embedding parameters
    published_v1.csv      v1 Table 2 (development sets), long format
    real_test_sets.csv    scores on real annotated test sets (kept out of the averages)
    acceptance.csv        acceptance checks of the embedded default
    retrieval_layers.csv  retrieval score at every layer per run (dev and test, chosen layer)
    readout_depth.csv     per trained run: retrieval loss, loss at the untrained layer, and the
                          part re-choosing the layer on dev recovers (``xstilts.readout_depth``)
    costs.csv, runs.csv   per-run wall time and report links
    claims.json, references.json, provenance.json
    figures/gap_vs_scale.png
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd

from xstilts import io, xtreme

# --------------------------------------------------------------------------- ordering

MODE_ORDER = tuple(xtreme.MULTILINGUAL_MODES)
SETTING_ORDER = ("none", *xtreme.INTERMEDIATE_TASKS, "multitask")
STAND_IN_PROFILES = ("mini", "smoke")  # profiles whose data and models are stand-ins


def order_key(order: list[str], value: str) -> tuple[int, str]:
    """Sort key placing ``value`` by its index in ``order``; unknown names go last."""
    return (order.index(value), "") if value in order else (len(order), value)


def task_order(tasks) -> list[str]:
    """Sort task names in XTREME order."""
    order = list(xtreme.TARGET_TASKS)
    return sorted(set(tasks), key=lambda t: order_key(order, t))


def setting_order(settings) -> list[str]:
    """Sort settings: ``none``, intermediate tasks (registry order), ``multitask``."""
    return sorted(set(settings), key=lambda s: order_key(list(SETTING_ORDER), s))


def mode_order(modes) -> list[str]:
    """Sort multilingual modes as in ``xtreme.MULTILINGUAL_MODES``."""
    return sorted(set(modes), key=lambda m: order_key(list(MODE_ORDER), m))


# --------------------------------------------------------------------------- schema

_SCALE = ["setting", "baseline", "mode", "model", "params_m", "nonemb_m"]
_TEST = ["mean", "ci_lo", "ci_hi", "ci_level", "p", "p_adj", "decision", "significant"]

# table -> required columns. Optional tables may be absent (None); required ones not.
TABLES: dict[str, tuple[str, ...]] = {
    "scores": ("model", "params_m", "nonemb_m", "setting", "mode", "seed", "task", "group",
               "lang", "score", "dev_score"),
    "task_scores": ("model", "params_m", "nonemb_m", "setting", "mode", "task", "score",
                    "dev_score", "n_langs", "n_seeds"),
    "xtreme": ("model", "params_m", "setting", "mode", "avg", "dev_avg", "n_tasks",
               "avg_tasks", "lacks", "left_out"),
    "best_settings": ("model", "task", "selected_on", "setting", "mode", "dev_score", "score",
                      "baseline_score", "gain", "note"),
    "scale_summary": (*_SCALE, "group", "task", *_TEST, "n_langs", "n_seeds", "statement"),
    "scale_group": (*_SCALE, "group", *_TEST, "n_tasks", "n_langs", "n_seeds", "statement"),
    "scale_language": (*_SCALE, "task", "group", "lang", "mean", "sd", "min", "max", "n_seeds"),
    "scale_trend": ("setting", "baseline", "mode", "group", "n_scales", "models", "x_unit",
                    "nonemb_min", "nonemb_max", "slope", "ci_lo", "ci_hi", "ci_level", "p_adj",
                    "decision", "significant", "n_seeds", "statement"),
    "published_v1": ("setting", "mode", "task", "score"),
    "real_test_sets": ("model", "setting", "mode", "seed", "task", "lang", "score"),
    "acceptance": ("check", "rule", "value", "status", "detail"),
    "retrieval_layers": ("model", "params_m", "setting", "mode", "seed", "task", "layer",
                         "test", "dev", "chosen"),
    "readout_depth": ("model", "setting", "mode", "seed", "task", "untrained_layer",
                      "trained_layer", "loss", "loss_at_untrained_layer", "recovered_by_layer"),
    "costs": ("phase", "run_id", "model", "setting", "task", "status", "wall_s", "device",
              "device_hours"),
    "runs": ("phase", "run_id", "title", "html_path"),
}  # fmt: skip
REQUIRED = ("task_scores", "xtreme")
JSON_FILES = ("claims", "references", "provenance")


class BundleError(ValueError):
    """A bundle table lacks a column of the schema, or a required file is missing."""


def check_table(name: str, frame: pd.DataFrame) -> None:
    """Raise :class:`BundleError` if ``frame`` lacks a column ``TABLES[name]`` requires."""
    if frame is None:
        return
    missing = [c for c in TABLES[name] if c not in frame.columns]
    # An empty table written by pandas has no header; it carries no promise either way.
    if missing and not (frame.empty and len(frame.columns) == 0):
        raise BundleError(f"bundle table {name} lacks columns {missing}")


@dataclass
class Bundle:
    """The files of one analysis bundle (in memory, before writing or after loading).

    Optional tables that are absent are ``None``, so every consumer skips the section
    they feed instead of failing.
    """

    root: Path
    task_scores: pd.DataFrame
    xtreme: pd.DataFrame
    claims: list[dict] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    references: list[dict] = field(default_factory=list)
    scores: pd.DataFrame | None = None
    best_settings: pd.DataFrame | None = None
    scale_summary: pd.DataFrame | None = None
    scale_group: pd.DataFrame | None = None
    scale_language: pd.DataFrame | None = None
    scale_trend: pd.DataFrame | None = None
    published_v1: pd.DataFrame | None = None
    real_test_sets: pd.DataFrame | None = None
    acceptance: pd.DataFrame | None = None
    retrieval_layers: pd.DataFrame | None = None
    readout_depth: pd.DataFrame | None = None
    costs: pd.DataFrame | None = None
    runs: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        for name in TABLES:
            check_table(name, getattr(self, name))

    @property
    def published(self) -> pd.DataFrame | None:
        """v1 Table 2 (development sets) in long format."""
        return self.published_v1

    @property
    def profile(self) -> str:
        """Profile name recorded in the provenance (``unknown`` if missing)."""
        return str(self.provenance.get("profile", "unknown"))

    @property
    def is_stand_in(self) -> bool:
        """True for profiles that use synthetic data and the layer-truncated ladder."""
        return self.profile in STAND_IN_PROFILES

    @property
    def models(self) -> list[str]:
        """Model names, smallest first."""
        sizes = self.task_scores.groupby("model")["params_m"].first().sort_values(kind="stable")
        return list(sizes.index)

    @property
    def params(self) -> dict[str, float]:
        """Parameter count (millions) of each model."""
        return self.task_scores.groupby("model")["params_m"].first().to_dict()

    @property
    def nonemb(self) -> dict[str, float]:
        """Non-embedding parameter count (millions) of each model (the scale axis)."""
        return self.task_scores.groupby("model")["nonemb_m"].first().to_dict()

    @property
    def primary_model(self) -> str:
        """The model the paper's comparison uses: XLM-R Large if present, else the largest."""
        return "xlm-roberta-large" if "xlm-roberta-large" in self.models else self.models[-1]

    @property
    def tasks(self) -> list[str]:
        """Target tasks present, in XTREME order."""
        return task_order(self.task_scores["task"].unique())

    @property
    def settings(self) -> list[str]:
        """Settings present: ``none``, the intermediate tasks in registry order, ``multitask``."""
        return setting_order(self.task_scores["setting"].unique())

    @property
    def has_dev(self) -> bool:
        """Whether the runs recorded dev scores (selection and v1 comparison use them)."""
        return bool(self.task_scores["dev_score"].notna().any())

    @property
    def scale_figure(self) -> Path | None:
        """The scale-study figure drawn by the analysis, if it exists."""
        path = self.root / "figures" / "gap_vs_scale.png"
        return path if path.is_file() else None


def _tables() -> list[str]:
    return [f.name for f in fields(Bundle) if f.name in TABLES]


def write(bundle: Bundle) -> Path:
    """Write every table and JSON file of ``bundle`` into ``bundle.root`` atomically."""
    bundle.root.mkdir(parents=True, exist_ok=True)
    for name in _tables():
        frame = getattr(bundle, name)
        if frame is not None:
            check_table(name, frame)
            io.atomic_write_text(bundle.root / f"{name}.csv", frame.to_csv(index=False))
    for name in JSON_FILES:
        io.atomic_write_json(bundle.root / f"{name}.json", getattr(bundle, name))
    return bundle.root


def _read_csv(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def load(bundle_dir: str | os.PathLike) -> Bundle:
    """Load an analysis bundle written by :func:`write`.

    Raises:
        FileNotFoundError: A required file is missing (names every one).
        BundleError: A table lacks a column of the schema.
    """
    root = Path(bundle_dir)
    needed = [f"{n}.csv" for n in REQUIRED] + ["claims.json", "provenance.json"]
    missing = [n for n in needed if not (root / n).is_file()]
    if missing:
        raise FileNotFoundError(
            f"analysis bundle {root} lacks {', '.join(missing)}; run the analysis phase first"
        )
    tables = {name: _read_csv(root / f"{name}.csv") for name in _tables()}
    refs = root / "references.json"
    return Bundle(
        root=root,
        claims=io.read_json(root / "claims.json"),
        provenance=io.read_json(root / "provenance.json"),
        references=io.read_json(refs) if refs.is_file() else [],
        **tables,
    )
