"""The unfrozen check: what freezing the word embeddings (as ``mini`` does) does to the gap.

``mini`` freezes the 250k x 384 word-embedding matrix in phases (ii) and (iii) to fit 2 CPU
cores; the paper trains all weights. This check reruns one rung of the mini ladder on one
target task with the matrix frozen and unfrozen, and reports the multilingual-minus-English
gap (mean over the non-English evaluation languages) under both, and their difference.

Run with (about 10 minutes for the 3-layer rung on 2 cores; runs go to the run store, so a
second call reuses them)::

    python bench/unfrozen_check.py --model e5-L3 --modes english translated --task xnli

Writes ``bench/unfrozen_check.json`` and ``bench/unfrozen_check.md``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import yaml

from xstilts import io, params, paths, pipeline, runs, sweep

BENCH = paths.ROOT / "bench"


def check_profile(model: str, modes: list[str], task: str, freeze: bool) -> params.Profile:
    """The mini profile cut to one rung, the given modes and one target task."""
    data = yaml.safe_load((paths.PARAMS / "mini.yaml").read_text())
    data["models"] = [m for m in data["models"] if m["label"] == model]
    if not data["models"]:
        raise ValueError(f"no mini model labelled {model!r}")
    data["intermediate"]["modes"] = list(modes)
    data["target"]["tasks"] = [task]
    data["target"]["restrict"] = {}
    data["target"]["per_task"] = {t: o for t, o in data["target"]["per_task"].items() if t == task}
    data["data"]["real_test_sets"] = {
        t: v for t, v in data["data"].get("real_test_sets", {}).items() if t == task
    }
    for phase in ("intermediate", "target"):
        data[phase]["train"]["freeze_embeddings"] = freeze
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        yaml.safe_dump(data, fh)
    try:
        return params.load_profile(fh.name)
    finally:
        Path(fh.name).unlink()


def gaps(target_metrics: list[dict], baseline_mode: str = "english") -> dict[str, float]:
    """Per mode, the mean over non-English languages of (mode score - English-mode score).

    Args:
        target_metrics: ``metrics.json`` of the target runs of one intermediate setting
            (setting ``none`` is ignored), one per mode.
        baseline_mode: The English-only mode.

    Returns:
        ``{mode: gap}`` for every mode but the baseline (points, higher = multilingual wins).
    """
    by_mode = {
        m["mode"]: m["per_language"]
        for m in target_metrics
        if m.get("status") == "ok" and m.get("setting") != "none"
    }
    base = by_mode[baseline_mode]
    out = {}
    for mode, scores in by_mode.items():
        if mode == baseline_mode:
            continue
        langs = [lang for lang in scores if lang != "en" and lang in base]
        diffs = [scores[lang]["score"] - base[lang]["score"] for lang in langs]
        out[mode] = sum(diffs) / len(diffs)
    return out


def run(model: str, modes: list[str], task: str) -> dict:
    """Run the frozen and the unfrozen variant; return both gaps and their difference."""
    result = {"model": model, "task": task, "modes": modes, "variants": {}}
    for freeze in (True, False):
        profile = check_profile(model, modes, task, freeze)
        plan = [r for r in pipeline.plan(profile) if r.phase != "analysis"]
        summary = sweep.run_profile(profile, plan, retry_failed=False)
        if summary.failures:
            raise RuntimeError(f"{len(summary.failures)} run(s) failed; see the lines above")
        target = [runs.read_metrics(r.dir) for r in plan if r.phase == "target"]
        result["variants"]["frozen" if freeze else "unfrozen"] = {
            "gap": gaps(target),
            "wall_s": sum(s.elapsed_s for s in summary.steps),
            "run_ids": [r.run_id for r in plan if r.phase in ("intermediate", "target")],
        }
    frozen, unfrozen = result["variants"]["frozen"]["gap"], result["variants"]["unfrozen"]["gap"]
    result["effect_of_unfreezing"] = {m: unfrozen[m] - frozen[m] for m in frozen}
    return result


def write(result: dict) -> None:
    """``bench/unfrozen_check.json`` + a markdown table."""
    BENCH.mkdir(exist_ok=True)
    io.atomic_write_json(BENCH / "unfrozen_check.json", result)
    lines = [
        f"# Unfrozen check: {result['model']}, {result['task']} (one seed, mini data)",
        "",
        "| mode | gap, embeddings frozen | gap, unfrozen | effect of unfreezing |",
        "|---|---:|---:|---:|",
    ]
    v = result["variants"]
    for mode, effect in result["effect_of_unfreezing"].items():
        lines.append(
            f"| {mode} - english | {v['frozen']['gap'][mode]:+.1f} | "
            f"{v['unfrozen']['gap'][mode]:+.1f} | {effect:+.1f} |"
        )
    lines += ["", "Gap: mean over non-English languages of the score difference, in points."]
    io.atomic_write_text(BENCH / "unfrozen_check.md", "\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    """CLI entry point (``bench/unfrozen_check.py``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="e5-L3", help="mini ladder label (e5-L3, e5-L6, e5-L12)")
    ap.add_argument("--modes", nargs="+", default=["english", "translated"])
    ap.add_argument("--task", default="xnli", help="one trained target task of mini")
    args = ap.parse_args(argv)
    result = run(args.model, args.modes, args.task)
    write(result)
    print((BENCH / "unfrozen_check.md").read_text())
    return 0
