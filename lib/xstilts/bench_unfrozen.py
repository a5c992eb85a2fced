"""The unfrozen check: what freezing the word embeddings (as ``mini`` does) does to the gap.

``mini`` freezes the 250k x 384 word-embedding matrix in phases (ii) and (iii) to fit 2 CPU
cores; the paper trains all weights. This check reruns one rung of the mini ladder on one
target task with the matrix frozen and unfrozen, and reports the multilingual-minus-English
gap (mean over the non-English evaluation languages) under both, and their difference.

The gap is paired within a seed and the effect of unfreezing is tested over the profile's
seeds (``stats.seed_inference``), as the scale study does. Run with (runs go to the run
store, so the frozen runs of a finished mini sweep are reused and a second call reuses all)::

    python bench/unfrozen_check.py --model e5-L12 --modes english translated --task xnli

Writes ``bench/unfrozen_check.json`` and ``bench/unfrozen_check.md``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import yaml

from xstilts import codehash, io, params, paths, pipeline, runs, stats, sweep

BENCH = paths.ROOT / "bench"


def check_profile(model: str, task: str, freeze: bool) -> params.Profile:
    """The mini profile cut to one rung and one target task (modes: ``check_plan``)."""
    data = yaml.safe_load((paths.PARAMS / "mini.yaml").read_text())
    data["models"] = [m for m in data["models"] if m["label"] == model]
    if not data["models"]:
        raise ValueError(f"no mini model labelled {model!r}")
    # The modes are cut from the plan (``check_plan``), not here: the data run's params
    # depend on them (MLM data), and it must stay mini's.
    # Other targets are restricted away rather than removed: the data run (whose params list
    # every task) stays mini's, so the frozen variant reuses a finished mini sweep's runs.
    if task not in data["target"]["tasks"]:
        raise ValueError(f"{task!r} is not a mini target task")
    restrict = data["target"].get("restrict") or {}
    restrict.pop(task, None)
    for t in list(data["target"]["tasks"]):
        if t == task:
            continue
        if model not in restrict.get(t, {}).get("models", [model]):
            data["target"]["tasks"].remove(t)  # mini never runs it on this rung
            restrict.pop(t, None)
            data["data"].get("real_test_sets", {}).pop(t, None)
        else:  # only the untrained baseline cell stays (a finished mini run: reused)
            restrict[t] = {**restrict.get(t, {}), "settings": ["none"]}
    data["target"]["restrict"] = restrict
    for phase in ("intermediate", "target"):
        data[phase]["train"]["freeze_embeddings"] = freeze
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        yaml.safe_dump(data, fh)
    try:
        return params.load_profile(fh.name)
    finally:
        Path(fh.name).unlink()


def gaps(target_metrics: list[dict], baseline_mode: str = "english") -> dict[str, dict[int, float]]:
    """Per mode and seed, the mean over non-English languages of (mode - English-mode score).

    The gap is paired within a seed (the unit of replication): a mode's run is compared with
    the English-only run of the same model and seed, never with another seed's.

    Args:
        target_metrics: ``metrics.json`` of the target runs of one intermediate setting
            (setting ``none`` is ignored), one per (mode, seed).
        baseline_mode: The English-only mode.

    Returns:
        ``{mode: {seed: gap}}`` for every mode but the baseline (points, higher =
        multilingual wins); a seed without its English-only run is left out.
    """
    by_cell = {
        (m["mode"], int(m["seed"])): m["per_language"]
        for m in target_metrics
        if m.get("status") == "ok" and m.get("setting") != "none"
    }
    out: dict[str, dict[int, float]] = {}
    for (mode, seed), scores in sorted(by_cell.items()):
        base = by_cell.get((baseline_mode, seed))
        if mode == baseline_mode or base is None:
            continue
        langs = [lang for lang in scores if lang != "en" and lang in base]
        diffs = [scores[lang]["score"] - base[lang]["score"] for lang in langs]
        out.setdefault(mode, {})[seed] = sum(diffs) / len(diffs)
    return out


def summarise(per_seed: dict[int, float]) -> dict:
    """Mean, 95% t-interval and p over seeds (``stats.seed_inference``; none below 3 seeds)."""
    r = stats.seed_inference(list(per_seed.values()))
    return {
        "per_seed": {str(k): v for k, v in per_seed.items()},
        "mean": r.mean,
        "ci95": [r.lo, r.hi] if r.decision is not None else None,
        "p": r.p if r.decision is not None else None,
        "sentence": stats.describe_seed_result(
            r,
            positive="unfreezing raises the gap by",
            negative="unfreezing lowers the gap by",
            null="unfreezing does not change the gap significantly",
        ),
    }


def _paired_effect(frozen: dict, unfrozen: dict) -> dict[int, float]:
    """Per seed, unfrozen minus frozen gap (seeds present in both)."""
    both = [k for k in frozen["per_seed"] if k in unfrozen["per_seed"]]
    return {int(k): unfrozen["per_seed"][k] - frozen["per_seed"][k] for k in both}


def check_plan(profile: params.Profile, modes: list[str]) -> list[runs.Run]:
    """The profile's plan without the analysis and without runs of other modes."""
    return [
        r
        for r in pipeline.plan(profile)
        if r.phase == "data" or (r.phase != "analysis" and r.params.get("mode", "english") in modes)
    ]


def run(model: str, modes: list[str], task: str) -> dict:
    """Run the frozen and the unfrozen variant; return both gaps and their paired difference."""
    result = {"model": model, "task": task, "modes": modes, "variants": {}}
    for freeze in (True, False):
        profile = check_profile(model, task, freeze)
        plan = check_plan(profile, modes)
        summary = sweep.run_profile(profile, plan, retry_failed=False)
        if summary.failures:
            raise RuntimeError(f"{len(summary.failures)} run(s) failed; see the lines above")
        target = [runs.read_metrics(r.dir) for r in plan if r.phase == "target"]
        result["variants"]["frozen" if freeze else "unfrozen"] = {
            "gap": {m: summarise(g) for m, g in gaps(target).items()},
            "wall_s": sum(s.elapsed_s for s in summary.steps),
            "run_ids": [r.run_id for r in plan if r.phase in ("intermediate", "target")],
        }
        result["seeds"] = list(profile.seeds)
    # Hash of the code the target runs execute (as in their run ids): tells a stale check.
    result["code_version"] = codehash.code_version(paths.NOTEBOOKS / "20_target.ipynb")
    frozen, unfrozen = (result["variants"][v]["gap"] for v in ("frozen", "unfrozen"))
    result["effect_of_unfreezing"] = {
        m: summarise(_paired_effect(frozen[m], unfrozen[m])) for m in frozen
    }
    return result


def _interval(s: dict) -> str:
    if s["ci95"] is None:
        return "no interval (< 3 seeds)"
    return f"[{s['ci95'][0]:+.1f}, {s['ci95'][1]:+.1f}]"


def write(result: dict) -> None:
    """``bench/unfrozen_check.json`` + a markdown table."""
    BENCH.mkdir(exist_ok=True)
    io.atomic_write_json(BENCH / "unfrozen_check.json", result)
    n = len(result["seeds"])
    lines = [
        f"# Unfrozen check: {result['model']}, {result['task']} ({n} seeds, mini data)",
        "",
        "| mode | gap, frozen | gap, unfrozen | effect of unfreezing | 95% CI over seeds |",
        "|---|---:|---:|---:|---|",
    ]
    v = result["variants"]
    for mode, effect in result["effect_of_unfreezing"].items():
        lines.append(
            f"| {mode} - english | {v['frozen']['gap'][mode]['mean']:+.1f} | "
            f"{v['unfrozen']['gap'][mode]['mean']:+.1f} | {effect['mean']:+.1f} | "
            f"{_interval(effect)} |"
        )
    sentences = "; ".join(
        f"{m}: {e['sentence']}" for m, e in result["effect_of_unfreezing"].items()
    )
    lines += [
        "",
        "Gap: per seed, the mean over non-English languages of the score difference between",
        "the mode's run and the English-only run of the same seed, in points; the effect is the",
        f"paired (same seed) unfrozen minus frozen gap. {sentences}.",
        f"Code version {result['code_version']} (hash of the target runs' code).",
    ]
    io.atomic_write_text(BENCH / "unfrozen_check.md", "\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    """CLI entry point (``bench/unfrozen_check.py``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="e5-L12", help="mini ladder label (e5-L3, e5-L6, e5-L12)")
    ap.add_argument("--modes", nargs="+", default=["english", "translated"])
    ap.add_argument("--task", default="xnli", help="one trained target task of mini")
    args = ap.parse_args(argv)
    result = run(args.model, args.modes, args.task)
    write(result)
    print((BENCH / "unfrozen_check.md").read_text())
    return 0


def for_report(profile: str, disclosures: list[str], path: Path | None = None) -> str | None:
    """One sentence on the committed unfrozen check, for a report whose profile froze them.

    Shown only for ``mini`` (the profile the check cuts), when the profile's disclosures say
    the word embeddings are frozen and ``bench/unfrozen_check.json`` exists. The check was
    run by the bench, not by this sweep, so the sentence names its file and code version.
    """
    path = path or BENCH / "unfrozen_check.json"
    if profile != "mini" or not path.exists() or not any("frozen" in d for d in disclosures):
        return None
    r = json.loads(path.read_text())
    if "seeds" not in r:
        return None  # a file of the earlier one-seed format: no seed-level result to state
    v, parts = r["variants"], []
    for mode, effect in r["effect_of_unfreezing"].items():
        frozen, unfrozen = (v[k]["gap"][mode]["mean"] for k in ("frozen", "unfrozen"))
        parts.append(
            f"the {mode} − English gap is {frozen:+.1f} points frozen and {unfrozen:+.1f} "
            f"unfrozen; {effect['sentence']}"
        )
    stale = r.get("code_version") != codehash.code_version(paths.NOTEBOOKS / "20_target.ipynb")
    return (
        f"Unfrozen check ({path.relative_to(paths.ROOT) if path.is_relative_to(paths.ROOT) else path}, "
        f"{r['model']}, {r['task']}, {len(r['seeds'])} seeds, run by `python "
        f"bench/unfrozen_check.py`, not by this sweep): {'; '.join(parts)}."
        + (" Measured on an earlier version of the target code." if stale else "")
    )
