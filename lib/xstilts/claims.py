"""Published numbers of Phang et al. (2020), the seed's nine claims, and their checks.

Two data files hold every fact (``resources/published.yaml``, ``resources/claims.yaml``);
:mod:`xstilts.published` loads the first and turns the paper's tables into the same long
format as this package's results; this module loads and validates the claims and checks
each one against (a) the published numbers and (b) one run's results. Statuses are decided
here, by code, from a predicate spec per claim:

- ``number``: a claimed gain compared with a published or run value within a tolerance.
- ``sign_pattern``: the sign of per-(setting, mode, task) gains over the baseline.
- ``ranking``: one mode's mean gain against the alternatives.
- ``setup``: a fact of the experimental setup (base model, phases, task count).

Statuses (``STATUSES``): ``supported`` and ``contradicted`` are decisions by code;
``restated from source`` marks a published value typed in from the sentence the claim
quotes (agreement proves nothing); ``deviates by design`` marks a run whose setup differs
on purpose; ``partially checkable`` marks a claim only part of which has numbers (shown,
not decided); ``not checkable`` the rest.

Each predicate type maps to a ``Checker`` in ``CHECKERS`` (describe / published / run).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from xstilts import paths
from xstilts.published import (  # noqa: F401  (re-exported: the claims API)
    BASELINE,
    PUBLISHED_PATH,
    QA_TASKS,
    RUN_COLUMNS,
    TABLE_COLUMNS,
    TABLE_SECTIONS,
    TASK_ORDER,
    ClaimsError,
    cite_source,
    is_number,
    load_published,
    numeric_leaves,
    published_avg,
    published_task_table,
    read_yaml,
    recompute_avg,
    resolve,
    table_spec,
    validate_published,
)
from xstilts.xtreme import INTERMEDIATE_TASKS

CLAIMS_PATH = paths.RESOURCES / "claims.yaml"

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
# The published value was typed in from the very sentence the claim quotes: agreement
# is a transcription check and proves nothing, so it never counts as supported.
RESTATED = "restated from source"
# Our run differs from the paper's setup on purpose (a stand-in encoder, fewer tasks):
# a mismatch is a disclosed deviation, not evidence against the claim.
DEVIATES = "deviates by design"
# Only part of what the claim covers has numbers (e.g. v2's MLM and translated data,
# where v1 has MLM only); shown, not decided.
PARTIAL = "partially checkable"
NOT_CHECKABLE = "not checkable"
STATUSES = (SUPPORTED, CONTRADICTED, RESTATED, DEVIATES, PARTIAL, NOT_CHECKABLE)
KINDS = ("number", "ranking", "sign_pattern", "setup")

MIN_SEEDS = 3  # a run with fewer seeds decides no direction (sign and ranking claims)

# Display names for the `requires` facts of number predicates.
_MODEL_NAMES = {"xlm-roberta-large": "XLM-R Large"}


# --------------------------------------------------------------------------- loading


def load_claims(path: str | Path | None = None, published: dict | None = None) -> dict:
    """Load and validate ``claims.yaml`` (cross-checked against the published data).

    Args:
        path: Alternative file; defaults to the packaged ``resources/claims.yaml``.
        published: Already loaded published data; loaded when ``None``.

    Returns:
        The parsed mapping with keys ``claims`` (list) and ``references`` (list).

    Raises:
        ClaimsError: Listing every schema problem found.
    """
    data = read_yaml(Path(path) if path else CLAIMS_PATH)
    problems = validate_claims(data, published if published is not None else load_published())
    if problems:
        raise ClaimsError("claims.yaml: " + "; ".join(problems))
    return data


def validate_claims(data: dict, published: dict) -> list[str]:
    """Return the schema problems of a claims registry (empty = valid).

    Every predicate type must have a checker, the kind must equal the predicate type,
    and every table, published path, unverified entry, quantity, sign and setup fact the
    predicates name must exist.
    """
    problems = []
    ids = [c.get("id") for c in data.get("claims", [])]
    if len(ids) != len(set(ids)):
        problems.append("duplicate claim ids")
    required = ("id", "seed_text", "seed_verified", "seed_confidence", "kind", "full_text",
                "version", "predicate")  # fmt: skip
    for claim in data.get("claims", []):
        cid = claim.get("id")
        for key in required:
            if key not in claim:
                problems.append(f"claim {cid}: missing {key}")
        pred = claim.get("predicate") or {}
        ptype = pred.get("type")
        if ptype not in CHECKERS:
            problems.append(f"claim {cid}: unknown predicate type {ptype!r}")
            continue
        if claim.get("kind") != ptype:
            problems.append(f"claim {cid}: kind {claim.get('kind')!r} != predicate type {ptype!r}")
        if not isinstance(claim.get("seed_verified"), bool):
            problems.append(f"claim {cid}: seed_verified must be a boolean")
        conf = claim.get("seed_confidence")
        if not (is_number(conf) and 0 <= conf <= 1):
            problems.append(f"claim {cid}: seed_confidence must be in [0, 1]")
        problems += [f"claim {cid}: {p}" for p in CHECKERS[ptype].validate(pred, published)]
    for ref in data.get("references", []):
        bad = set(ref.get("bears_on", [])) - set(ids)
        if bad:
            problems.append(f"reference {ref.get('arxiv')}: unknown claim ids {sorted(bad)}")
        for key in ("arxiv", "title", "authors", "venue", "is_the_paper", "why"):
            if key not in ref:
                problems.append(f"reference {ref.get('arxiv')}: missing {key}")
    return problems


# ------------------------------------------------------------------ score lookups


@dataclass
class _Scores:
    """A task table plus per-row averages, with the lookups the checkers need."""

    name: str
    table: pd.DataFrame
    avg: pd.DataFrame
    baseline: str = BASELINE
    _score: dict = field(init=False, repr=False)
    _avg: dict = field(init=False, repr=False)
    _rows: list = field(init=False, repr=False)  # (setting, mode) pairs in table order
    _tasks: set = field(init=False, repr=False)

    def __post_init__(self):
        t = self.table
        self._score = {
            (s, m, k): float(v)
            for s, m, k, v in zip(t["setting"], t["mode"], t["task"], t["score"])
            if pd.notna(v)
        }
        # the checkers call the lookups below in nested loops: index once, in plain Python
        self._rows = list(dict.fromkeys(zip(t["setting"], t["mode"])))
        self._tasks = set(t["task"])
        self._avg = {
            (s, m): float(v)
            for s, m, v in zip(self.avg["setting"], self.avg["mode"], self.avg["avg"])
            if pd.notna(v)
        }

    @classmethod
    def from_run(cls, table: pd.DataFrame) -> _Scores:
        """Wrap a run table; its averages use the tasks its baseline has."""
        missing = [c for c in RUN_COLUMNS if c not in table.columns]
        if missing:
            raise ValueError(f"run_table lacks columns {missing}; needs {list(RUN_COLUMNS)}")
        base = table[table["setting"] == BASELINE]
        tasks = tuple(t for t in TASK_ORDER if t in set(base["task"])) or TASK_ORDER
        return cls("run", table, recompute_avg(table, tasks))

    def _mode_of(self, setting: str, mode: str | None, keys) -> str | None:
        """Pick the mode to read for ``setting``; ``None`` = any, English preferred."""
        modes = [m for s, m in keys if s == setting]
        if mode is not None and mode in modes:
            return mode
        if mode is None or setting == self.baseline:
            return "english" if "english" in modes else (modes[0] if modes else None)
        return None

    def has_baseline(self) -> bool:
        return any(s == self.baseline for s, _ in self._rows)

    @property
    def tasks(self) -> set[str]:
        return self._tasks

    def modes(self) -> list[str]:
        """Modes of non-baseline rows, in table order."""
        return list(dict.fromkeys(m for s, m in self._rows if s != self.baseline))

    def settings(self, mode: str) -> list[str]:
        """Non-baseline settings that have rows in ``mode``, in table order."""
        return [s for s, m in self._rows if m == mode and s != self.baseline]

    def score(self, setting: str, mode: str | None, task: str) -> float | None:
        m = self._mode_of(setting, mode, self._rows)
        return self._score.get((setting, m, task))

    def gain(self, setting: str, mode: str, task: str) -> float | None:
        s, b = self.score(setting, mode, task), self.score(self.baseline, None, task)
        return None if s is None or b is None else round(s - b, 4)

    def avg_of(self, setting: str, mode: str | None) -> float | None:
        return self._avg.get((setting, self._mode_of(setting, mode, self._avg)))

    def avg_gain(self, setting: str, mode: str | None) -> float | None:
        s, b = self.avg_of(setting, mode), self.avg_of(self.baseline, None)
        return None if s is None or b is None else round(s - b, 4)

    def shared_task_gains(self, setting: str, a: str, b: str) -> tuple[float, float, list]:
        """Mean gains of modes ``a`` and ``b`` of ``setting`` over the tasks both have.

        The fallback when a mode lacks some of the baseline's tasks (a profile that trains
        the structured and QA targets for English-only runs only), so its XTREME average
        is undefined. Returns ``(nan, nan, [])`` when they share no task.
        """
        tasks = sorted(
            k
            for k in self._tasks
            if self.gain(setting, a, k) is not None and self.gain(setting, b, k) is not None
        )
        if not tasks:
            return math.nan, math.nan, []
        mean = {m: sum(self.gain(setting, m, k) for k in tasks) / len(tasks) for m in (a, b)}
        return mean[a], mean[b], tasks

    def with_gains(self) -> pd.DataFrame:
        out = self.table.copy()
        out["gain"] = [
            self.gain(s, m, k) for s, m, k in zip(out["setting"], out["mode"], out["task"])
        ]
        return out


def _q_avg_gain(scores: _Scores, setting: str, mode: str | None) -> float | None:
    return scores.avg_gain(setting, mode)


def _q_best_per_task_gain(scores: _Scores, setting: str, mode: str | None) -> float | None:
    """XTREME average with each task's best setting, minus the baseline average.

    A published table prints the best-per-task row. For a run the best (setting, mode)
    per task is chosen on its **dev** score and its test score is used; without dev
    scores there is no value (the maximum of many test scores is biased upwards).
    """
    if scores.avg_of(setting, None) is not None:
        return scores.avg_gain(setting, None)
    base = scores.table[scores.table["setting"] == scores.baseline]
    other = scores.table[scores.table["setting"] != scores.baseline]
    tasks = [t for t in TASK_ORDER if t in set(base["task"])]
    if "dev_score" not in other.columns or other["dev_score"].isna().any() or other.empty:
        return None
    chosen = other.loc[other.groupby("task")["dev_score"].idxmax()]
    best = chosen.set_index("task")["score"].reindex(tasks)
    base_avg = scores.avg_of(scores.baseline, None)
    if not tasks or best.isna().any() or base_avg is None:
        return None
    return round(float(best.mean()) - base_avg, 4)


# quantity name -> (function, what it measures)
QUANTITIES: dict[str, tuple[Callable[[_Scores, str, str | None], float | None], str]] = {
    "avg_gain": (_q_avg_gain, "gain in the XTREME average (mean of task scores, QA = (F1+EM)/2) over the no-intermediate baseline"),
    "best_per_task_gain": (_q_best_per_task_gain, "gain in the XTREME average when each target task takes its best intermediate setting, over the baseline"),
}  # fmt: skip


def task_gains(table: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Return ``table`` with a ``gain`` column: score minus the baseline's score per task.

    The baseline row is the ``baseline`` setting in mode ``english`` if present, else in
    any mode (the baseline has no phase (ii), so one row serves every mode).
    """
    return _Scores("table", table, recompute_avg(table), baseline).with_gains()


# ------------------------------------------------------------------ check context


@dataclass
class _Context:
    """What a checker may look at: published data, the run's scores, the run's setup."""

    published: dict
    run: _Scores | None
    run_context: dict
    _cache: dict = field(default_factory=dict)

    def published_scores(self, ref: str, baseline: str = BASELINE) -> _Scores:
        """Scores of a published table named ``<version>/<block>``."""
        if (ref, baseline) not in self._cache:
            version, block = ref.split("/")
            table = published_task_table(version, block, self.published)
            avg = published_avg(version, block, self.published)
            name = cite_source(self.published, table_spec(self.published, version, block)["source"])
            self._cache[(ref, baseline)] = _Scores(name, table, avg, baseline)
        return self._cache[(ref, baseline)]

    def scale_text(self) -> str:
        rc = self.run_context
        # the profile, not a size word: "full scale" read wrong for cpu-real's e5 ladder
        profile = rc.get("profile") or rc.get("scale") or "unknown"
        return f"{rc.get('base_model', 'unknown model')}, profile {profile}"


def _result(status: str, compared: str, reason: str) -> dict:
    assert status in STATUSES, status
    return {"status": status, "compared": compared, "reason": reason}


def _signed(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:+.{digits}f}"


def _show(value: Any) -> str:
    """Plain text of a setup value: lists joined by commas, not Python reprs."""
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def _no_run(ctx: _Context) -> dict | None:
    if ctx.run is None:
        return _result(NOT_CHECKABLE, "no run results", "no run table was supplied")
    return None


class Checker(NamedTuple):
    """The functions that interpret one predicate type."""

    describe: Callable[[dict], str]
    published: Callable[[dict, _Context], dict]
    run: Callable[[dict, _Context], dict]
    validate: Callable[[dict, dict], list[str]]


def _validate_table_ref(ref: str, pub: dict) -> list[str]:
    try:
        version, block = ref.split("/")
        table_spec(pub, version, block)
    except (KeyError, ValueError):
        return [f"unknown table {ref!r}"]
    return []


def _validate_path(ref: str | None, pub: dict) -> list[str]:
    if ref is None:
        return []
    try:
        resolve(pub, ref)
    except KeyError as err:
        return [str(err)]
    return []


# ------------------------------------------------------------------ number


def _claimed_text(spec: dict) -> str:
    pairs = zip(spec["settings"], spec["claimed"])
    return "claimed " + ", ".join(f"{s} {_signed(c)}" for s, c in pairs)


def _describe_number(spec: dict) -> str:
    mode = "" if spec["mode"] == "any" else f", mode {spec['mode']}"
    return (
        f"{QUANTITIES[spec['quantity']][1]}: {_claimed_text(spec)[8:]}{mode}; "
        f"match if within ±{spec['tolerance']}"
    )


def _number_analogue(spec: dict, ctx: _Context) -> str:
    """The same quantity on another version's table, shown but never used for a status."""
    an = spec.get("analogue")
    if not an:
        return ""
    scores = ctx.published_scores(an["table"], an.get("baseline", BASELINE))
    fn = QUANTITIES[spec["quantity"]][0]
    modes = an.get("modes", [spec["mode"]])
    parts = []
    for setting in spec["settings"]:
        src = an.get("map", {}).get(setting, setting)
        name = setting if src == setting else f"{setting}->{src}"
        for mode in modes:
            value = fn(scores, src, None if mode == "any" else mode)
            parts.append(f"{name}{f' ({mode})' if len(modes) > 1 else ''} {_signed(value)}")
    return f" | analogue, {scores.name} (other version, not used for the status): " + ", ".join(
        parts
    )


def _within(claimed: list[float], values: list[float | None], tol: float) -> bool:
    return all(v is not None and abs(c - v) <= tol + 1e-9 for c, v in zip(claimed, values))


def _check_number_published(spec: dict, ctx: _Context) -> dict:
    claimed, tol = spec["claimed"], spec["tolerance"]
    analogue = _number_analogue(spec, ctx)
    if not spec.get("published_ref"):
        # the claimed numbers exist only in text we could not retrieve: say so, never
        # substitute another version's numbers for them
        entry = ctx.published["unverified"][spec["unverified"]]
        return _result(
            NOT_CHECKABLE,
            f"{_claimed_text(spec)} | no retrieved published table or text holds these numbers{analogue}",
            f"{entry['version']} number(s) in no table we have: {entry['reason']}",
        )
    value, cite = resolve(ctx.published, spec["published_ref"])
    values = value if isinstance(value, list) else [value]
    shown = ", ".join(_signed(v) for v in values)
    compared = f"{_claimed_text(spec)} | {cite}: {shown} (tolerance {tol}){analogue}"
    if _within(claimed, values, tol) and spec.get("restated_from"):
        return _result(RESTATED, compared, _restated_reason(spec, cite))
    if _within(claimed, values, tol):
        return _result(SUPPORTED, compared, f"the claimed value matches {cite} within ±{tol}")
    return _result(
        CONTRADICTED, compared, f"the claimed value differs from {cite} by more than ±{tol}"
    )


def _restated_reason(spec: dict, cite: str) -> str:
    return (
        f"the value at {cite} was typed in from the sentence the claim quotes "
        f"({spec['restated_from']}), so agreement is a transcription check, not evidence"
    )


def _comparable(spec: dict, ctx: _Context) -> str | None:
    """Return why a run's absolute numbers cannot be compared with the claim, or None."""
    for key, expected in (spec.get("requires") or {}).items():
        actual = ctx.run_context.get(key)
        if actual is None:
            return f"run context does not state {key}; absolute numbers need {expected}"
        if _norm_model(actual) != expected:
            return (
                f"run uses {ctx.scale_text()}, not {_MODEL_NAMES.get(expected, expected)}; "
                "absolute gains are not comparable"
            )
    return None


def _check_number_run(spec: dict, ctx: _Context) -> dict:
    if (res := _no_run(ctx)) is not None:
        return res
    fn = QUANTITIES[spec["quantity"]][0]
    mode = None if spec["mode"] == "any" else spec["mode"]
    values = [fn(ctx.run, s, mode) for s in spec["settings"]]
    shown = ", ".join(f"{s} {_signed(v)}" for s, v in zip(spec["settings"], values))
    compared = (
        f"{_claimed_text(spec)} | run ({ctx.scale_text()}): {shown} (tolerance {spec['tolerance']})"
    )
    if (why := _comparable(spec, ctx)) is not None:
        return _result(NOT_CHECKABLE, compared, why)
    lacking_tasks = [t for t in TASK_ORDER if t not in ctx.run.tasks]
    if lacking_tasks:
        return _result(
            NOT_CHECKABLE,
            compared,
            f"run lacks target task(s) {', '.join(lacking_tasks)}; the XTREME average needs all nine",
        )
    lacking = [s for s, v in zip(spec["settings"], values) if v is None]
    if lacking and spec["quantity"] == "best_per_task_gain":
        return _result(
            NOT_CHECKABLE,
            compared,
            "the run recorded no dev scores for every (setting, task): the best setting per "
            "task cannot be selected on dev, and none is selected on test",
        )
    if lacking:
        return _result(
            NOT_CHECKABLE, compared, f"setting(s) {', '.join(lacking)} missing from the run"
        )
    if _within(spec["claimed"], values, spec["tolerance"]):
        return _result(SUPPORTED, compared, f"run values within ±{spec['tolerance']} of the claim")
    return _result(
        CONTRADICTED,
        compared,
        f"run values differ from the claim by more than ±{spec['tolerance']}",
    )


def _validate_number(spec: dict, pub: dict) -> list[str]:
    p = []
    if spec.get("quantity") not in QUANTITIES:
        p.append(f"unknown quantity {spec.get('quantity')!r}")
    if len(spec.get("settings", [])) != len(spec.get("claimed", [])):
        p.append("settings and claimed differ in length")
    if not is_number(spec.get("tolerance")):
        p.append("tolerance must be a number")
    if not spec.get("published_ref") and spec.get("unverified") not in (
        pub.get("unverified") or {}
    ):
        p.append("needs published_ref or a known unverified entry")
    p += _validate_path(spec.get("published_ref"), pub)
    if spec.get("analogue"):
        p += _validate_table_ref(spec["analogue"]["table"], pub)
    return p


# ------------------------------------------------------------------ sign pattern

SIGNS: dict[str, tuple[Callable[[float], bool], str]] = {
    "positive": (lambda g: g > 0, "> 0"),
    "negative": (lambda g: g < 0, "< 0"),
    "non_positive": (lambda g: g <= 0, "<= 0"),
}


def _describe_sign(spec: dict) -> str:
    modes = "all modes" if spec["modes"] == "all" else "mode " + ", ".join(spec["modes"])
    pats = "; ".join(
        f"gain {SIGNS[p['sign']][1]} for >= {p['min_fraction']:.0%} of (setting, task) cells of {'+'.join(p['tasks'])}"
        for p in spec["patterns"]
    )
    return f"sign pattern over every intermediate setting ({modes}), gains vs the baseline: {pats}"


def _eval_sign(spec: dict, scores: _Scores) -> tuple[str, str, str]:
    if not scores.has_baseline():
        return (
            NOT_CHECKABLE,
            "-",
            f"{scores.name} has no {scores.baseline!r} baseline rows to take gains from",
        )
    modes = scores.modes() if spec["modes"] == "all" else list(spec["modes"])
    parts, failed, problems = [], [], []
    for pat in spec["patterns"]:
        label = "+".join(pat["tasks"])
        absent = [t for t in pat["tasks"] if t not in scores.tasks]
        if absent:
            problems.append(f"target task(s) {', '.join(absent)} not in {scores.name}")
            continue
        cells = [
            (s, m, t, g)
            for m in modes
            for s in scores.settings(m)
            for t in pat["tasks"]
            if (g := scores.gain(s, m, t)) is not None
        ]
        if len(cells) < spec.get("min_cells", 1):
            problems.append(
                f"{label}: {len(cells)} (setting, task) cells, need {spec.get('min_cells', 1)}"
            )
            continue
        test, sign_text = SIGNS[pat["sign"]]
        misses = [c for c in cells if not test(c[3])]
        frac = 1 - len(misses) / len(cells)
        text = f"{label}: {len(cells) - len(misses)}/{len(cells)} gains {sign_text} ({frac:.0%}; need >= {pat['min_fraction']:.0%})"
        if misses:
            shown = ", ".join(f"{s}/{m} {t} {_signed(g)}" for s, m, t, g in misses[:4])
            text += f"; exceptions: {shown}{' ...' if len(misses) > 4 else ''}"
        parts.append(text)
        if frac < pat["min_fraction"]:
            failed.append(label)
    compared = " | ".join(parts) or "-"
    if problems:
        return NOT_CHECKABLE, compared, "; ".join(problems)
    if failed:
        return CONTRADICTED, compared, f"pattern fails for {', '.join(failed)} on {scores.name}"
    return SUPPORTED, compared, f"every pattern holds on {scores.name}"


def _check_sign_published(spec: dict, ctx: _Context) -> dict:
    return _result(*_eval_sign(spec, ctx.published_scores(spec["published_table"])))


def _check_sign_run(spec: dict, ctx: _Context) -> dict:
    if (res := _no_run(ctx)) is not None:
        return res
    status, compared, reason = _eval_sign(spec, ctx.run)
    if (few := _too_few_seeds(ctx)) is not None and status in (SUPPORTED, CONTRADICTED):
        return _result(NOT_CHECKABLE, compared, few)
    # signs are relative to the run's own baseline, so they are checkable at any scale
    return _result(
        status, compared, f"{reason} (run {ctx.scale_text()}, gains vs its own baseline)"
    )


def _too_few_seeds(ctx: _Context) -> str | None:
    """Why a run with fewer than 3 seeds decides no direction (None when it may)."""
    n = ctx.run_context.get("n_seeds")
    if n is None or n >= MIN_SEEDS:
        return None
    seeds = f"{n} seed{'s' if n != 1 else ''}"
    most = ctx.run_context.get("n_seeds_max")
    if most is not None and most > n:  # a budget-restricted profile: say both ends
        model = ctx.run_context.get("base_model")
        seeds = f"cells of {model} have {n} to {most} seeds, and the fewest decides"
    return (
        f"{seeds}: no inference; the gains are shown for description "
        f"only (a direction needs at least {MIN_SEEDS} seeds in every cell)"
    )


def _validate_sign(spec: dict, pub: dict) -> list[str]:
    p = _validate_table_ref(spec.get("published_table", ""), pub)
    for pat in spec.get("patterns", []):
        if pat.get("sign") not in SIGNS:
            p.append(f"unknown sign {pat.get('sign')!r}")
        if set(pat.get("tasks", [])) - set(TASK_ORDER):
            p.append(f"unknown tasks in {pat.get('tasks')}")
    return p


# ------------------------------------------------------------------ ranking


def _describe_ranking(spec: dict) -> str:
    return (
        f"ranking over {spec['over']}: mean {spec['quantity']} of mode {spec['best']} above that of "
        f"each of {', '.join(spec['alternatives'])}, over the settings both modes share"
    )


def _ranking_pairs(spec: dict, scores: _Scores, best: str, alt: str) -> tuple[list, list]:
    """``(best, alt)`` values per setting both modes have, and the tasks a fallback used.

    ``avg_gain`` of a mode that lacks some of the baseline's tasks is undefined; then the
    two modes are compared on the mean gain over the tasks they share, and those tasks are
    returned so the comparison says what it covers.
    """
    fn = QUANTITIES[spec["quantity"]][0]
    pairs, fallback_tasks = [], set()
    for setting in [s for s in scores.settings(best) if s in scores.settings(alt)]:
        b, a = fn(scores, setting, best), fn(scores, setting, alt)
        if (b is None or a is None) and spec["quantity"] == "avg_gain":
            b, a, tasks = scores.shared_task_gains(setting, best, alt)
            b, a = (None, None) if not tasks else (b, a)
            fallback_tasks.update(tasks)
        if b is not None and a is not None:
            pairs.append((b, a))
    return pairs, sorted(fallback_tasks)


def _eval_ranking(spec: dict, scores: _Scores) -> tuple[str, str, str]:
    if not scores.has_baseline():
        return (
            NOT_CHECKABLE,
            "-",
            f"{scores.name} has no {scores.baseline!r} baseline rows to take gains from",
        )
    best = spec["best"]
    parts, losers, absent = [], [], []
    for alt in spec["alternatives"]:
        pairs, on_tasks = _ranking_pairs(spec, scores, best, alt)
        if not pairs:
            absent.append(alt)
            continue
        mb, ma = (sum(x) / len(pairs) for x in zip(*pairs))
        wins = sum(b > a for b, a in pairs)
        over = (
            f"; mean task gain over the tasks both have: {', '.join(on_tasks)}" if on_tasks else ""
        )
        parts.append(
            f"{best} {_signed(mb, 2)} vs {alt} {_signed(ma, 2)} (mean over {len(pairs)} settings; {best} higher in {wins}/{len(pairs)}{over})"
        )
        if not mb > ma:
            losers.append(alt)
    unchecked = f"no numbers for {', '.join(absent)}" if absent else ""
    compared = " | ".join(parts + ([unchecked] if unchecked else [])) or "-"
    if not parts or (absent and spec.get("require_all_alternatives", True)):
        return NOT_CHECKABLE, compared, f"{unchecked or 'nothing to compare'} in {scores.name}"
    tail = f"; unchecked: {unchecked}" if unchecked else ""
    if losers:
        return (
            CONTRADICTED,
            compared,
            f"{', '.join(losers)} not below {best} on {scores.name}{tail}",
        )
    if absent:
        # One counterexample would contradict; agreement on a subset supports only that.
        return (
            PARTIAL,
            compared,
            f"{best} ranks above {', '.join(a for a in spec['alternatives'] if a not in absent)} "
            f"on {scores.name}; {unchecked}, so the claim as a whole is not decided",
        )
    return (
        SUPPORTED,
        compared,
        f"{best} ranks above every alternative with numbers on {scores.name}{tail}",
    )


def _check_ranking_published(spec: dict, ctx: _Context) -> dict:
    status, compared, reason = _eval_ranking(spec, ctx.published_scores(spec["published_table"]))
    covers = spec.get("published_covers")
    if covers is None:
        return _result(status, compared, reason)
    # The table covers only some alternatives of the claim, and it is another version's
    # table: published.yaml's rule is that v1 numbers never stand for v2 facts.
    return _result(
        PARTIAL,
        compared,
        f"shown, not decided: {spec['published_table']} covers only {', '.join(covers)} of "
        f"{', '.join(spec['alternatives'])}, and {spec['published_table'].split('/')[0]} "
        "numbers never stand for the claim's version",
    )


def _check_ranking_run(spec: dict, ctx: _Context) -> dict:
    if (res := _no_run(ctx)) is not None:
        return res
    status, compared, reason = _eval_ranking(spec, ctx.run)
    if (few := _too_few_seeds(ctx)) is not None and status in (SUPPORTED, CONTRADICTED, PARTIAL):
        return _result(NOT_CHECKABLE, compared, few)
    return _result(
        status, compared, f"{reason} (run {ctx.scale_text()}, gains vs its own baseline)"
    )


def _validate_ranking(spec: dict, pub: dict) -> list[str]:
    p = _validate_table_ref(spec.get("published_table", ""), pub)
    if spec.get("quantity") not in QUANTITIES:
        p.append(f"unknown quantity {spec.get('quantity')!r}")
    if spec.get("over") != "mode":
        p.append("ranking supports over: mode only")
    return p


# ------------------------------------------------------------------ setup


def _norm_model(name: Any) -> str:
    """``FacebookAI/XLM-RoBERTa-large`` -> ``xlm-roberta-large`` (hub org dropped)."""
    return str(name).strip().lower().rsplit("/", 1)[-1]


def _norm_phase(name: Any) -> str:
    s = str(name).lower().replace("phase", "")
    return "".join(ch for ch in s if ch not in "()[] _-")


def _fact_base_model(spec: dict, ctx: _Context) -> tuple[str, str, str]:
    actual = ctx.run_context.get("base_model")
    compared = f"claimed {spec['expected']} | run: {actual if actual else 'not stated'}"
    if actual is None:
        return NOT_CHECKABLE, compared, "run context does not state base_model"
    if _norm_model(actual) == spec["expected"]:
        return SUPPORTED, compared, f"run starts from {actual}"
    return (
        DEVIATES,
        compared,
        f"by design the run starts from {ctx.scale_text()}, not "
        f"{_MODEL_NAMES.get(spec['expected'], spec['expected'])}; this is no evidence against the claim",
    )


def _fact_phases(spec: dict, ctx: _Context) -> tuple[str, str, str]:
    phases = ctx.run_context.get("phases")
    compared = f"claimed phases ({'), ('.join(spec['expected'])}) | run: {_show(phases) if phases else 'not stated'}"
    if not phases:
        return NOT_CHECKABLE, compared, "run context does not list its phases"
    have = {_norm_phase(p) for p in phases}
    missing = [
        ph
        for ph, aliases in spec["phase_aliases"].items()
        if not have & {_norm_phase(a) for a in aliases}
    ]
    if missing:
        return CONTRADICTED, compared, f"run lacks phase(s) ({'), ('.join(missing)})"
    base = ctx.run_context.get("base_model", "a pretrained encoder")
    return SUPPORTED, compared, f"run has phases (ii) and (iii) on top of {base} as phase (i)"


def _fact_n_tasks(spec: dict, ctx: _Context) -> tuple[str, str, str]:
    rc = ctx.run_context
    names = [t for t in rc.get("intermediate_tasks") or [] if t in INTERMEDIATE_TASKS]
    n = rc.get(
        "n_intermediate_tasks", len(names) if rc.get("intermediate_tasks") is not None else None
    )
    compared = f"claimed {spec['expected']} | run: {n if n is not None else 'not stated'}"
    if names:
        compared += f" ({', '.join(names)})"
    if n is None:
        return NOT_CHECKABLE, compared, "run context does not state its intermediate tasks"
    if n == spec["expected"]:
        return SUPPORTED, compared, f"run trains {n} intermediate tasks"
    missing = [t for t in spec.get("expected_tasks", []) if names and t not in names]
    extra = f"; not in the run: {', '.join(missing)}" if missing else ""
    return (
        DEVIATES,
        compared,
        f"by design the profile trains {n} intermediate task(s), the paper "
        f"{spec['expected']}{extra}; this is no evidence against the claim",
    )


SETUP_FACTS: dict[str, Callable[[dict, _Context], tuple[str, str, str]]] = {
    "base_model": _fact_base_model,
    "phases": _fact_phases,
    "n_intermediate_tasks": _fact_n_tasks,
}


def _describe_setup(spec: dict) -> str:
    expected = spec["expected"]
    shown = ", ".join(map(str, expected)) if isinstance(expected, list) else expected
    return f"setup fact {spec['fact']} = {shown}"


def _check_setup_published(spec: dict, ctx: _Context) -> dict:
    value, cite = resolve(ctx.published, spec["published_ref"])
    compared = f"claimed {_show(spec['expected'])} | {cite}: {_show(value)}"
    if spec.get("analogue_ref"):
        other, other_cite = resolve(ctx.published, spec["analogue_ref"])
        compared += f" | {other_cite} (other version): {_show(other)}"
    if value == spec["expected"] and spec.get("restated_from"):
        return _result(RESTATED, compared, _restated_reason(spec, cite))
    if value == spec["expected"]:
        return _result(SUPPORTED, compared, f"{cite} states the same {spec['fact']}")
    return _result(CONTRADICTED, compared, f"{cite} states {_show(value)}")


def _check_setup_run(spec: dict, ctx: _Context) -> dict:
    # setup facts come from the run's configuration, so no result table is needed
    return _result(*SETUP_FACTS[spec["fact"]](spec, ctx))


def _validate_setup(spec: dict, pub: dict) -> list[str]:
    p = [] if spec.get("fact") in SETUP_FACTS else [f"unknown setup fact {spec.get('fact')!r}"]
    if spec.get("fact") == "phases" and not spec.get("phase_aliases"):
        p.append("phases needs phase_aliases")
    return (
        p
        + _validate_path(spec.get("published_ref"), pub)
        + _validate_path(spec.get("analogue_ref"), pub)
    )


# ------------------------------------------------------------------ dispatch and API

CHECKERS: dict[str, Checker] = {
    "number": Checker(_describe_number, _check_number_published, _check_number_run, _validate_number),
    "sign_pattern": Checker(_describe_sign, _check_sign_published, _check_sign_run, _validate_sign),
    "ranking": Checker(_describe_ranking, _check_ranking_published, _check_ranking_run, _validate_ranking),
    "setup": Checker(_describe_setup, _check_setup_published, _check_setup_run, _validate_setup),
}  # fmt: skip


def verify_claims(
    run_table: pd.DataFrame | None,
    run_context: dict | None,
    *,
    claims: dict | None = None,
    published: dict | None = None,
) -> list[dict]:
    """Check every registered claim against the published numbers and one run.

    Args:
        run_table: This run's main-model results, mean over languages and seeds, with
            the columns of ``published_task_table`` (at least setting, mode, task,
            score); ``None`` when there are no results yet.
        run_context: Setup facts of the run, e.g. ``base_model``, ``profile``,
            ``phases``, ``n_intermediate_tasks``, ``intermediate_tasks``. Setup claims
            are checked from these alone, so they can be decided without a run table.
        claims: Loaded registry (default: packaged claims.yaml).
        published: Loaded published data (default: packaged published.yaml).

    Returns:
        One dict per claim: ``id``, ``claim`` (seed text), ``full_text``, ``version``,
        ``seed_verified``, ``seed_confidence``, ``kind``, ``predicate`` (what is
        checked), and ``published`` / ``run``, each ``{"status", "compared", "reason"}``
        with status in ``STATUSES``.
    """
    pub = published if published is not None else load_published()
    reg = claims if claims is not None else load_claims(published=pub)
    has_rows = run_table is not None and len(run_table) > 0
    ctx = _Context(pub, _Scores.from_run(run_table) if has_rows else None, dict(run_context or {}))
    results = []
    for claim in reg["claims"]:
        pred = claim["predicate"]
        checker = CHECKERS[pred["type"]]
        results.append(
            {
                "id": int(claim["id"]),
                "claim": claim["seed_text"],
                "full_text": claim["full_text"],
                "version": claim["version"],
                "seed_verified": bool(claim["seed_verified"]),
                "seed_confidence": float(claim["seed_confidence"]),
                "seed_mark_note": _seed_mark_note(claim, pub),
                "kind": claim["kind"],
                "predicate": checker.describe(pred),
                "published": checker.published(pred, ctx),
                "run": checker.run(pred, ctx),
            }
        )
    return results


def _seed_mark_note(claim: dict, pub: dict) -> str:
    """What the seed's own check mark means beside our statuses."""
    ref = claim["predicate"].get("unverified")
    if ref:
        return (
            "the seed's own mark; the numbers it rests on are unverified here "
            f"({pub['unverified'][ref]['version']} text we could not retrieve)"
        )
    return "the seed's own mark, not a check by this package"


def check_references(claims: dict | None = None) -> list[dict]:
    """Describe the seed's references and which claims each can bear on.

    Returns:
        One dict per reference: ``arxiv``, ``seed_url``, ``title``, ``authors``,
        ``venue``, ``year``, ``is_the_paper``, ``topic``, ``bears_on`` and
        ``does_not_bear_on`` (claim ids) and ``why``.
    """
    reg = claims if claims is not None else load_claims()
    ids = [c["id"] for c in reg["claims"]]
    out = []
    for ref in reg["references"]:
        bears = list(ref.get("bears_on", []))
        out.append(
            {
                "arxiv": ref["arxiv"],
                "seed_url": ref.get("seed_url"),
                "title": ref["title"],
                "authors": list(ref["authors"]),
                "venue": ref["venue"],
                "year": ref.get("year"),
                "is_the_paper": bool(ref["is_the_paper"]),
                "topic": ref.get("topic", ""),
                "bears_on": bears,
                "does_not_bear_on": [i for i in ids if i not in bears],
                "why": ref["why"],
            }
        )
    return out
