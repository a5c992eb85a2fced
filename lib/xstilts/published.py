"""Phang et al. (2020)'s published numbers: loading, schema checks and long-format tables.

``resources/published.yaml`` holds every number the paper prints that this package uses.
This module loads and validates it and turns the paper's tables into the long format of
this package's results (one row per setting, mode and task), so that :mod:`xstilts.claims`
checks claims against published and run numbers with the same code.
"""

from __future__ import annotations

import copy
import functools
import math
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from xstilts import paths
from xstilts.xtreme import TARGET_TASKS, TASK_GROUPS

PUBLISHED_PATH = paths.RESOURCES / "published.yaml"
TASK_ORDER: tuple[str, ...] = tuple(TARGET_TASKS)
QA_TASKS = frozenset(TASK_GROUPS["qa"])
BASELINE = "none"
# Columns of published_task_table(); a run table needs at least the first four.
TABLE_COLUMNS = ("setting", "mode", "task", "score", "f1", "exact_match", "label")
RUN_COLUMNS = TABLE_COLUMNS[:4]
TABLE_SECTIONS = ("v1", "v2", "external")  # top-level keys that may hold `tables`


class ClaimsError(ValueError):
    """Raised when published.yaml or claims.yaml breaks its schema."""


# --------------------------------------------------------------------------- loading


# libyaml when present: the pure-Python parser takes ~0.5 s per file here
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=8)
def _parse_yaml(path: str, mtime_ns: int) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_LOADER)  # a safe loader (C or Python)


def read_yaml(path: Path) -> dict:
    """Parse a YAML file once per modification; callers get their own copy to mutate."""
    return copy.deepcopy(_parse_yaml(str(path), path.stat().st_mtime_ns))


def load_published(path: str | Path | None = None) -> dict:
    """Load and validate ``published.yaml``.

    Args:
        path: Alternative file; defaults to the packaged ``resources/published.yaml``.

    Returns:
        The parsed mapping (top-level keys ``sources``, ``v1``, ``v2``, ``external``,
        ``unverified``).

    Raises:
        ClaimsError: Listing every schema problem found.
    """
    data = read_yaml(Path(path) if path else PUBLISHED_PATH)
    problems = validate_published(data)
    if problems:
        raise ClaimsError("published.yaml: " + "; ".join(problems))
    return data


def is_number(x: Any) -> bool:
    """Whether ``x`` is an int or float (a YAML ``true`` is not a number)."""
    return isinstance(x, int | float) and not isinstance(x, bool)


def numeric_leaves(node: Any, path: tuple = (), owner: dict | None = None):
    """Yield ``(path, owner)`` for every number; owner = nearest block with a ``source``."""
    if isinstance(node, dict):
        if "source" in node:
            owner = node
        for key, value in node.items():
            if key != "source":
                yield from numeric_leaves(value, (*path, key), owner)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from numeric_leaves(value, (*path, i), owner)
    elif is_number(node):
        yield path, owner


def _table_blocks(pub: dict):
    """Yield ``(version, block, spec)`` for every task table in the published data."""
    for section in TABLE_SECTIONS:
        for block, spec in (pub.get(section, {}).get("tables") or {}).items():
            yield section, block, spec


def validate_published(data: dict) -> list[str]:
    """Return the schema problems of a published-numbers mapping (empty = valid).

    Checks that every number has a block with a known ``source`` and a boolean
    ``verified``; that ``unverified`` entries are marked ``verified: false`` with a
    reason; and that every task table has rows as long as its columns.
    """
    problems = []
    for key in ("sources", "v1", "v2", "unverified"):
        if key not in data:
            problems.append(f"missing top-level key {key!r}")
    sources = data.get("sources", {})
    for section, node in data.items():
        if section in ("sources", "schema_version"):
            continue
        for path, owner in numeric_leaves(node, (section,)):
            where = ".".join(map(str, path))
            if owner is None:
                problems.append(f"{where}: number without a source")
                continue
            src = owner["source"]
            if not isinstance(src, dict) or src.get("doc") not in sources or not src.get("where"):
                problems.append(f"{where}: source must name a known doc and a where")
            if not isinstance(owner.get("verified"), bool):
                problems.append(f"{where}: block lacks a boolean 'verified'")
    for name, entry in (data.get("unverified") or {}).items():
        if entry.get("verified") is not False or not entry.get("reason"):
            problems.append(f"unverified.{name}: needs verified: false and a reason")
    known = set(TASK_ORDER) | {"avg"}
    for version, block, spec in _table_blocks(data):
        cols = spec.get("columns", [])
        if set(cols) - known:
            problems.append(f"{version}.tables.{block}: unknown columns {set(cols) - known}")
        for setting, _mode, _label, row in _raw_rows(spec):
            if len(row) != len(cols):
                problems.append(
                    f"{version}.tables.{block}.{setting}: {len(row)} cells, {len(cols)} columns"
                )
    return problems


def resolve(pub: dict, ref: str) -> tuple[Any, str]:
    """Return the value at a dotted path of the published data and a short citation."""
    node, owner = pub, None
    for part in ref.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"published.yaml has no {ref!r}")
        if "source" in node:
            owner = node
        node = node[part]
    return node, cite_source(pub, owner["source"] if owner else {})


def cite_source(pub: dict, source: dict) -> str:
    """Short citation of a block source, e.g. ``v1 Table 2 (top block, development sets)``."""
    if not source:
        return "?"
    short = pub["sources"].get(source.get("doc"), {}).get("short", source.get("doc"))
    return source.get("cite") or f"{short} {source.get('where', '')}".strip()


# ------------------------------------------------------------------ published tables


def table_spec(pub: dict, version: str, block: str) -> dict:
    """The ``tables.<block>`` mapping of one paper version; KeyError naming the tables there when absent."""
    try:
        return pub[version]["tables"][block]
    except KeyError:
        have = [f"{v}/{b}" for v, b, _ in _table_blocks(pub)]
        raise KeyError(f"no published table {version}/{block}; have: {', '.join(have)}") from None


def _raw_rows(spec: dict):
    """Yield ``(setting, mode, label, row)`` as printed (deltas stay deltas)."""
    labels = spec.get("labels", {})
    if spec.get("values") == "delta":
        base = spec["baseline"]
        yield base["setting"], base["mode"], labels.get(base["setting"]), base["row"]
        for mode, rows in spec["deltas"].items():
            for setting, row in rows.items():
                yield setting, mode, labels.get(setting), row
    else:
        for r in spec.get("rows", []):
            yield r["setting"], r["mode"], r.get("label") or labels.get(r["setting"]), r["row"]


def _add(base: Any, delta: Any) -> Any:
    """Cell-wise ``base + delta`` (QA cells are lists); ``None`` stays missing."""
    if isinstance(base, list):
        return [_add(b, d) for b, d in zip(base, delta)]
    if base is None or delta is None:
        return None
    # round: 75.7 + 5.6 must print as 81.3, not 81.29999999999998
    return round(base + delta, 4)


def _absolute_rows(spec: dict):
    """Yield ``(setting, mode, label, row)`` with absolute values."""
    rows = list(_raw_rows(spec))
    if spec.get("values") != "delta":
        yield from rows
        return
    base_row = rows[0][3]
    yield rows[0]
    for setting, mode, label, row in rows[1:]:
        yield setting, mode, label, [_add(b, d) for b, d in zip(base_row, row)]


def _nan(x: Any) -> float:
    return math.nan if x is None else float(x)


def _cell_scores(task: str, cell: Any, qa_cell: list[str]) -> tuple[float, float, float]:
    """Return ``(score, f1, exact_match)`` of one cell.

    QA tasks score (F1 + EM) / 2 as XTREME's ``evaluate.py`` does; a table that prints
    F1 only (the mT5 README) has no XTREME score for QA, so the score is NaN there.
    """
    if task not in QA_TASKS:
        return _nan(cell), math.nan, math.nan
    values = dict(zip(qa_cell, cell if isinstance(cell, list) else [cell]))
    f1, em = _nan(values.get("f1")), _nan(values.get("exact_match"))
    return (f1 + em) / 2, f1, em


def published_task_table(
    version: str = "v1", block: str = "dev", published: dict | None = None
) -> pd.DataFrame:
    """Return a published table in long format with absolute scores.

    Args:
        version: Top-level key of published.yaml (``v1``, ``v2`` or ``external``).
        block: Table name under it: ``v1``: ``dev`` (Table 2 top), ``xtreme`` (Table 2
            bottom); ``v2``: ``xtreme_f1`` (X-STILTs row of the mT5 README);
            ``external``: ``mt5_readme``.
        published: Already loaded published data.

    Returns:
        One row per (setting, mode, task) with columns ``setting`` (``none`` = XLM-R
        baseline, else xstilts intermediate names), ``mode`` (``english`` = No MLM,
        ``english+mlm`` = With MLM; ``reference``/``best`` in the XTREME blocks),
        ``task``, ``score`` (XTREME task score; QA = (F1 + EM) / 2), ``f1``,
        ``exact_match`` (QA only) and ``label`` (the paper's row name). Delta rows are
        converted to absolute values (baseline + delta). The Avg column is in
        ``published_avg``.
    """
    pub = published if published is not None else load_published()
    spec = table_spec(pub, version, block)
    qa_cell = spec.get("qa_cell", ["f1", "exact_match"])
    records = []
    for setting, mode, label, row in _absolute_rows(spec):
        for task, cell in zip(spec["columns"], row):
            if task == "avg":
                continue
            score, f1, em = _cell_scores(task, cell, qa_cell)
            records.append((setting, mode, task, score, f1, em, label))
    return pd.DataFrame.from_records(records, columns=list(TABLE_COLUMNS))


def published_avg(
    version: str = "v1", block: str = "dev", published: dict | None = None
) -> pd.DataFrame:
    """Return the printed Avg column of a published table.

    Returns:
        Columns ``setting``, ``mode``, ``label``, ``avg`` (absolute) and ``avg_delta``
        (the printed difference from the baseline for delta tables, else NaN). Empty
        when the table has no Avg column.
    """
    pub = published if published is not None else load_published()
    spec = table_spec(pub, version, block)
    cols = ["setting", "mode", "label", "avg", "avg_delta"]
    if "avg" not in spec["columns"]:
        return pd.DataFrame(columns=cols)
    i = spec["columns"].index("avg")
    printed = {(s, m): row[i] for s, m, _, row in _raw_rows(spec)}
    is_delta = spec.get("values") == "delta"
    records = []
    for s, m, label, row in _absolute_rows(spec):
        # a delta table prints differences; its baseline row prints the absolute Avg
        delta = (0.0 if s == BASELINE else _nan(printed[(s, m)])) if is_delta else math.nan
        records.append((s, m, label, _nan(row[i]), delta))
    return pd.DataFrame.from_records(records, columns=cols)


def recompute_avg(table: pd.DataFrame, tasks: tuple[str, ...] = TASK_ORDER) -> pd.DataFrame:
    """Recompute the XTREME average (mean task score) per (setting, mode).

    Args:
        table: Long table with ``setting``, ``mode``, ``task``, ``score``.
        tasks: Tasks that enter the mean; a row missing any of them gets NaN.

    Returns:
        Columns ``setting``, ``mode``, ``avg``, ``n_tasks`` (tasks with a score).
    """
    records = []
    for (setting, mode), group in table.groupby(["setting", "mode"], sort=False):
        scores = group.set_index("task")["score"].reindex(list(tasks))
        n = int(scores.notna().sum())
        records.append((setting, mode, float(scores.mean()) if n == len(tasks) else math.nan, n))
    return pd.DataFrame.from_records(records, columns=["setting", "mode", "avg", "n_tasks"])
