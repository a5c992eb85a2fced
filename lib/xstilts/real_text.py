"""The "Real text (cpu-real)" section of the index and the paper.

It puts the per-rung gap of each multilingual mode over English-only intermediate training
on real XTREME text (the committed reference results of the ``cpu-real`` profile,
``results/cpu-real/bundle/``) beside the same cells of the run being reported (e.g.
``mini``) and beside v1 Table 2 (XLM-R Large, development sets, one run) where the
comparison and the task match. Every cell is a row of a bundle's ``scale_group.csv`` as
:func:`xstilts.report.scale_table` lays it out, so bold face is the scale study's own
decision (``significant``: Bonferroni-adjusted seed-level t-test, ``xstilts.stats``).

Usage::

    from xstilts import real_text
    section = real_text.section(bundle)   # the template context; section["table"] is None
                                          # when no reference results are committed
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from xstilts import bundle as bundle_schema
from xstilts import claims, io, paths, reference_results, xtreme
from xstilts.bundle import Bundle

REFERENCE_PROFILE = "cpu-real"
BASELINE = "english"  # the research question: a multilingual mode minus English-only
# Our intermediate slot -> v1 Table 2's row. v1's ANLI+ trains on ANLI, MNLI and SNLI, so
# it contains our slot's task (MNLI); ours fills that slot with XNLI part A English.
PUBLISHED_SETTING = {"mnli": "anli"}
SETTING_NOTES = {
    "mnli": "NLI: our mnli slot (English XNLI dev part A); v1 row ANLI+, which includes MNLI",
}
# v1 Table 2 (dev) has No MLM and With MLM rows: the only comparison it can give.
PUBLISHED_COMPARISON = {"english+mlm": "english"}
PUBLISHED_NOTE = "v1 Table 2, XLM-R Large, development sets, one run (no interval)"
# Targets of the real-split source whose test set is a dev set (data.real_splits.STAND_IN).
DEV_AS_TEST = {
    "xnli": "XNLI dev (part B)",
    "pawsx": "PAWS-X dev (part B)",
    "panx": "PAN-X dev-<lang>",
    "mlqa": "MLQA dev",
    "bucc2018": "the BUCC 2018 sample (XTREME's dev) split",
}
MISSING = (
    "No reference results committed (results/{p}/ is absent). Make them with: "
    "invoke reproduce --profile {p} && invoke publish-reference --profile {p}"
)


def reference_bundle_dir(profile: str = REFERENCE_PROFILE) -> Path:
    """Return the committed bundle of the reference results (``results/<profile>/bundle``)."""
    return reference_results.results_dir(profile) / "bundle"


def scale_cells(bundle: Bundle) -> tuple[dict[tuple, Any], list[str]]:
    """Scale-table cells keyed by ``(setting, baseline, mode, group, model)``, and the models.

    Built by :func:`xstilts.report.scale_table`, the scale table's own function.
    """
    from xstilts import report  # report imports this module

    table = report.scale_table(bundle)
    if table is None:
        return {}, []
    models = [m for m, _, _ in table["models"]]
    cells = {}
    for r in table["rows"]:
        for model, cell in zip(models, r["cells"], strict=True):
            if cell is not None:
                cells[(r["setting"], r["baseline"], r["mode"], r["group"], model)] = cell
    return cells, models


def _group_tasks(bundle: Bundle) -> dict[tuple, list[str]]:
    """Tasks behind each group cell (``scale_summary.csv``), in XTREME order."""
    if bundle.scale_summary is None or bundle.scale_summary.empty:
        return {}
    keys = ["setting", "baseline", "mode", "group", "model"]
    return {
        k: bundle_schema.task_order(f["task"])
        for k, f in bundle.scale_summary.groupby(keys, sort=False)
    }


def published_gaps() -> tuple[dict[tuple[str, str], float], dict[str, str]]:
    """v1 Table 2 (dev) With MLM − No MLM per (setting, task), and v1's row labels."""
    pub = claims.published_task_table("v1", "dev")
    wide = pub.pivot_table(index=["setting", "task"], columns="mode", values="score")
    gaps = {}
    if {"english", "english+mlm"} <= set(wide.columns):
        diff = (wide["english+mlm"] - wide["english"]).dropna()
        gaps = {k: float(v) for k, v in diff.items()}
    labels = pub.dropna(subset=["label"]).groupby("setting")["label"].first().to_dict()
    return gaps, labels


def published_cell(setting: str, baseline: str, mode: str, tasks: list[str]) -> dict | None:
    """v1's gap for one row: the mean over the row's tasks that v1 reports, else ``None``."""
    if PUBLISHED_COMPARISON.get(mode) != baseline:
        return None
    gaps, labels = published_gaps()
    ours = PUBLISHED_SETTING.get(setting, setting)
    matched = [t for t in tasks if (ours, t) in gaps]
    if not matched:
        return None
    mean = sum(gaps[(ours, t)] for t in matched) / len(matched)
    return dict(mean=mean, tasks=matched, label=labels.get(ours, ours))


def _row(key: tuple, ref: dict, run: dict, tasks: dict, nonemb: dict) -> dict:
    setting, baseline, mode, group, model = key
    return dict(
        setting=setting,
        setting_note=SETTING_NOTES.get(setting, ""),
        baseline=baseline,
        mode=mode,
        model=model,
        nonemb_m=nonemb.get(model),
        tasks=tasks.get(key, []),
        ref=ref[key],
        run=run.get(key),
        published=None,
    )


def real_text_table(reference: Bundle, run: Bundle | None = None) -> list[dict]:
    """Per task group: one row per (setting, multilingual mode, rung) of the reference.

    Args:
        reference: The ``cpu-real`` bundle.
        run: The bundle being reported, when it is another profile's (its cells beside).

    Returns:
        ``[{"group", "rows"}]`` in ``xtreme.TASK_GROUPS`` order; each row has ``ref`` and
        ``run`` (scale-table cells or ``None``) and, on the first row of a comparison that
        v1 can make, ``published`` (:func:`published_cell` over the row's tasks).
    """
    ref, models = scale_cells(reference)
    other = scale_cells(run)[0] if run is not None else {}
    tasks = _group_tasks(reference)
    keys = [k for k in ref if k[1] == BASELINE and k[2] in xtreme.MULTILINGUAL_MODES]
    groups = []
    for group in [g for g in xtreme.TASK_GROUPS if any(k[3] == g for k in keys)]:
        mine = sorted(
            (k for k in keys if k[3] == group),
            key=lambda k: (
                bundle_schema.order_key(list(bundle_schema.SETTING_ORDER), k[0]),
                bundle_schema.order_key(list(bundle_schema.MODE_ORDER), k[2]),
                models.index(k[4]),
            ),
        )
        rows = [_row(k, ref, other, tasks, reference.nonemb) for k in mine]
        for r in rows:  # v1 has one number per comparison: on the block's largest rung
            same = [x for x in rows if (x["setting"], x["mode"]) == (r["setting"], r["mode"])]
            if r is same[-1]:
                every = sorted({t for x in same for t in x["tasks"]})
                r["published"] = published_cell(r["setting"], r["baseline"], r["mode"], every)
        groups.append(dict(group=group, rows=rows))
    return groups


def _cards(bundle: Bundle) -> dict:
    """Data cards of the bundle's data run: the published copy, else the run store."""
    from xstilts import paths

    if bundle.runs is None:
        return {}
    for run_id in bundle.runs.loc[bundle.runs["phase"] == "data", "run_id"].astype(str):
        for folder in (bundle.root.parent / "runs" / "data", paths.runs_root() / "data"):
            path = folder / run_id / "metrics.json"
            if path.is_file():
                return io.read_json(path).get("cards") or {}
    return {}


def _profile(bundle: Bundle):
    """The profile the reference was planned from (published copy first), else ``None``."""
    from xstilts import params

    for path in (bundle.root.parent / "profile.yaml", bundle.provenance.get("profile_file")):
        if path and Path(path).is_file():
            try:
                return params.load_profile(path)
            except params.ParamsError:
                return None
    return None


def _sizes(profile) -> str:
    data = profile.data
    base = ", ".join(f"{k} {v}" for k, v in (data.subsample or {}).items())
    own = "; ".join(
        f"{t}: " + ", ".join(f"{k} {v}" for k, v in s.items())
        for t, s in (data.subsample_per_task or {}).items()
    )
    epochs = profile.intermediate.train.epochs
    return (
        f"Small training sets (profile {profile.profile}): items per split and language {base}"
        + (f" ({own})" if own else "")
        + f"; {epochs} epoch(s) of intermediate training."
    )


# Why the e5 ladder's retrieval gaps cannot test v1's large BUCC / Tatoeba gains.
E5_RETRIEVAL_CAVEAT = (
    "Retrieval: multilingual-e5-small was trained as a sentence embedder (contrastive "
    "training on text pairs, then supervised fine-tuning), so its rungs retrieve well before "
    "any intermediate training, unlike the MLM-only XLM-R of v1; intermediate training moves it "
    "away from that objective, so its BUCC / Tatoeba gaps do not test v1's retrieval gains."
)


def caveats(reference: Bundle) -> list[str]:
    """What the real-text numbers are not, one sentence each, from the reference's files."""
    models = ", ".join(f"{m} ({reference.nonemb.get(m)} M non-emb.)" for m in reference.models)
    out = [
        f"Stand-in encoder: multilingual-e5-small truncated by layers ({models}), not mBERT / "
        "XLM-R; the v1 column is XLM-R Large.",
        *(reference.provenance.get("disclosures") or []),
    ]
    if any("e5" in str(m) for m in reference.models):
        out.append(E5_RETRIEVAL_CAVEAT)
    profile = _profile(reference)
    if profile is not None:
        out.append(_sizes(profile))
    devs = [DEV_AS_TEST[t] for t in reference.tasks if t in DEV_AS_TEST]
    if devs:
        out.append("Dev sets used as test stand-ins: " + "; ".join(devs) + ".")
    scores = reference.scores
    if scores is not None and (scores["task"] == "bucc2018").any():
        langs = sorted(scores.loc[scores["task"] == "bucc2018", "lang"].unique())
        out.append(f"BUCC: {', '.join(langs)} only.")
    cards = _cards(reference)
    out += [
        f"{t}: {cards[t]['stand_in']}" for t in reference.tasks if "stand_in" in cards.get(t, {})
    ]
    return out


def _reference(bundle: Bundle) -> tuple[Bundle | None, Path]:
    if bundle.profile == REFERENCE_PROFILE:
        return bundle, bundle.root  # the cpu-real run's own index: its own numbers
    folder = reference_bundle_dir()
    if not (folder / "task_scores.csv").is_file():
        return None, folder
    return bundle_schema.load(folder), folder


def _shown_path(folder: Path) -> str:
    """``folder`` as a reader should see it: relative to the repository, never a staging copy.

    ``publish-reference`` renders the index inside ``results/.<profile>.partial-<pid>/``
    before renaming it into place, so the published name is shown instead of the stage.
    """
    try:
        shown = folder.resolve().relative_to(paths.ROOT.resolve()).as_posix()
    except ValueError:
        shown = str(folder)
    return re.sub(r"\.([\w-]+)\.partial-\d+", r"\1", shown)


def section(bundle: Bundle) -> dict:
    """Template context of the section for the index or the paper of ``bundle``.

    Returns:
        ``table`` (``None`` without reference results; ``missing`` then says how to make
        them), ``caveats``, ``source`` (the reference bundle folder), ``run_profile`` (the
        reported run's profile when it is not the reference), ``n_seeds``, ``ci_level``.
    """
    reference, folder = _reference(bundle)
    if reference is None:
        return dict(
            table=None, missing=MISSING.format(p=REFERENCE_PROFILE), source=_shown_path(folder)
        )
    own = reference is bundle
    table = real_text_table(reference, None if own else bundle)
    group = reference.scale_group
    level = None if group is None or group["ci_level"].isna().all() else group["ci_level"].max()
    n_seeds = None if group is None else int(group["n_seeds"].max())
    manifest = folder.parent / "MANIFEST.json"
    return dict(
        table=table or None,
        missing="" if table else "The reference bundle has no multilingual-vs-English gaps.",
        source=_shown_path(folder),
        run_profile=None if own else bundle.profile,
        caveats=caveats(reference),
        n_seeds=n_seeds,
        ci_level=None if level is None or math.isnan(level) else float(level),
        published_note=PUBLISHED_NOTE,
        manifest=io.read_json(manifest) if manifest.is_file() else None,
    )


def cell_key(row: dict, *extra: str) -> tuple:
    """Macro-name parts of one row: unique per setting, comparison, group and rung."""
    return (*extra, row["setting"], row["mode"], "vs", row["baseline"], row["group"], row["model"])


def add_paper_macros(ms, section_context: dict) -> None:
    r"""Add the section's numbers as paper macros (``\RealGap...``, ``\RealRunGap...``).

    Args:
        ms: The paper's ``MacroSet``.
        section_context: :func:`section`'s output for the paper's bundle.
    """
    from xstilts import paper  # paper imports report, which imports this module

    for group in section_context.get("table") or []:
        for r in group["rows"]:
            r = {**r, "group": group["group"]}
            for prefix, cell in (("RealGap", r["ref"]), ("RealRunGap", r["run"])):
                if cell is not None:
                    ms.add(cell_key(r, prefix), paper.signed(cell.mean, 1))
            if r["published"] is not None:
                ms.add(cell_key(r, "RealVOneGap"), paper.signed(r["published"]["mean"], 1))
    if section_context.get("table"):
        ms.add(["RealNumSeeds"], str(section_context["n_seeds"]))
