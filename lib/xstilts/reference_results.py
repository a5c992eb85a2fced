"""Reference results: a finished profile's aggregated results, published under ``results/``.

Usage (from the repository root)::

    invoke reproduce --profile cpu-real && invoke publish-reference --profile cpu-real

Layout of ``results/<profile>/`` (aggregated scores only, never data)::

    bundle/                       the analysis bundle, copied unchanged (``xstilts.bundle``)
    index.html, figures/, *.png   the index re-rendered from that copy (``report.render_index``)
    pipeline_timing.json          the pipeline's timing record (the index reads it)
    profile.yaml                  the profile file the runs were planned from
    runs/<phase>/<run_id>/        metrics.json and params.yaml of every finished run
    MANIFEST.json                 commit, profile digest, wall time, run counts, file digests
    README.md                     what this is, the measured wall time, how to regenerate

The run records are what ``tests/integration/test_reference_results.py`` recomputes the
bundle's tables from, so an edited number fails the test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from xstilts import io, paths, runs

RUN_FILES = (runs.METRICS, "params.yaml")  # the only files kept of each run
ALLOWED_SUFFIXES = (".csv", ".json", ".png", ".html", ".yaml", ".md")
FORBIDDEN_PARTS = ("dataset", "checkpoint", "encoder", "best")  # run-store data folders
REGENERATE = "invoke reproduce --profile {p} && invoke publish-reference --profile {p}"


def results_dir(profile: str) -> Path:
    """Return ``<repo>/results/<profile>/``, the published reference results of a profile.

    ``XSTILTS_RESULTS`` moves the ``results/`` folder (tests point it at a temp folder).
    """
    return Path(os.environ.get("XSTILTS_RESULTS", paths.ROOT / "results")) / profile


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _copy_file(src: Path, dst: Path) -> None:
    io.atomic_write_bytes(dst, src.read_bytes())


def _copy_tree(src: Path, dst: Path) -> None:
    for f in sorted(p for p in src.rglob("*") if p.is_file()):
        _copy_file(f, dst / f.relative_to(src))


PORTABLE_SUFFIXES = (".json", ".yaml", ".csv")


def local_paths(profile) -> dict[str, str]:
    """This machine's absolute paths in run records, and what a published copy says instead.

    The data roots become the profile's own ``data.root`` value (resolved again by the
    reader's ``paths.xtreme_real()``); paths inside the repository become relative to it.
    """
    from xstilts import grid

    out = {}
    for key in ("root", "fallback_root"):
        literal = getattr(profile.data, key, "") or ""
        resolved = grid.data_root(literal) if literal else None
        if resolved and str(resolved) != literal:
            out[str(resolved)] = literal
    out[f"{paths.ROOT}{os.sep}"] = ""
    return out


def make_portable(folder: Path, replacements: dict[str, str]) -> int:
    """Rewrite local absolute paths in the text records under ``folder``; return files changed.

    A published folder is read on other machines: ``/home/me/xstilts/runs/...`` there is
    a leak and a dead link, ``runs/...`` is neither.
    """
    changed = 0
    for f in sorted(p for p in folder.rglob("*") if p.suffix in PORTABLE_SUFFIXES):
        text = original = f.read_text()
        for local, portable in replacements.items():  # data roots first: one may be in ROOT
            text = text.replace(local, portable)
        if text != original:
            io.atomic_write_text(f, text)
            changed += 1
    return changed


def _git_head() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=paths.ROOT, capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def check_no_data(folder: Path) -> None:
    """Raise ``ValueError`` if ``folder`` holds anything but metrics, tables and figures.

    Dataset text must never be published: no ``.jsonl``, no notebook (its outputs print
    examples), no checkpoint, nothing under a run's ``dataset/`` folder.
    """
    for f in (p for p in folder.rglob("*") if p.is_file()):
        rel = f.relative_to(folder)
        if f.suffix not in ALLOWED_SUFFIXES or set(rel.parts[:-1]) & set(FORBIDDEN_PARTS):
            raise ValueError(f"reference results may hold only metrics; refusing {rel}")


def _copy_runs(plan: list, dst: Path) -> dict[str, int]:
    """Copy ``metrics.json`` and ``params.yaml`` of every finished run; count per phase."""
    counts: dict[str, int] = {}
    for run in plan:
        if not runs.is_done(run.dir):
            continue
        for name in RUN_FILES:
            if (run.dir / name).is_file():
                _copy_file(run.dir / name, dst / run.phase / run.run_id / name)
        counts[run.phase] = counts.get(run.phase, 0) + 1
    return counts


def _timing(profile: str, bundle_dir: Path, stage: Path) -> dict | None:
    """Copy the pipeline timing record beside the index and return what the index reads."""
    from xstilts import bundle as bundle_schema
    from xstilts import report

    record = paths.report_dir() / report.TIMING_FILE
    if not record.is_file():
        return None
    _copy_file(record, stage / report.TIMING_FILE)
    costs = bundle_schema.load(bundle_dir).costs
    ids = set() if costs is None else set(costs["run_id"].astype(str))
    timing = report.pipeline_timing(stage, profile, ids)
    if timing is not None:
        # A later invocation that only re-made the analysis, report or paper (a code change
        # below them): its minutes are not part of the results' wall time, but are told.
        last_ran = report.last_execution_ids(timing) or set()
        timing["after_results_s"] = None if last_ran & ids else timing["wall_s"]
    return timing


def manifest(profile, analysis, stage: Path, counts: dict, timing: dict | None) -> dict:
    """The facts of a publication: code version, profile digest, wall time, runs, files."""
    from xstilts import bundle as bundle_schema

    prov = bundle_schema.load(stage / "bundle").provenance
    profile_file = Path(profile.source_file)
    return {
        "profile": profile.profile,
        "profile_file": profile_file.name,
        "profile_sha256": _sha256(profile_file),
        "git_commit": prov.get("git_commit", "unknown"),  # the code the runs were made with
        "git_dirty": prov.get("git_dirty"),
        "lib_code_version": prov.get("code_version"),
        "published_from_commit": _git_head(),
        "analysis_run_id": analysis.run_id,
        "wall_s": None if timing is None else timing["results_wall_s"],
        "wall_runs_covered": None if timing is None else timing["results_runs_covered"],
        "wall_runs_of": None if timing is None else timing["results_runs"],  # the cost rows
        "wall_after_s": None if timing is None else timing["after_results_s"],
        "workers": None if timing is None else timing.get("workers"),
        "n_runs": sum(counts.values()),
        "runs_per_phase": counts,
        "results_created": prov.get("created"),
        "published": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "files": {
            p.relative_to(stage).as_posix(): _sha256(p)
            for p in sorted(stage.rglob("*"))
            if p.is_file()
        },
    }


def readme(m: dict) -> str:
    """The short README of a publication, written from its manifest."""
    wall = "not recorded (no pipeline timing record)"
    if m["wall_s"] is not None:
        workers = f" with {m['workers']} worker(s)" if m.get("workers") else ""
        wall = f"{m['wall_s'] / 60:.1f} minutes{workers} (the pipeline's own timing record)"
        covered, of = m.get("wall_runs_covered"), m.get("wall_runs_of")
        if covered is not None and of is not None and covered < of:
            # A resumed study: the record lacks the invocations that made the other runs.
            wall += (
                f", covering {covered} of the {of} data, training and evaluation runs: the "
                "others were made by invocations without a timing record, e.g. interrupted ones"
            )
        elif of is not None:
            wall += f", covering all {of} data, training and evaluation runs"
        after = m.get("wall_after_s")
        if after is not None:
            wall += (
                f"; a later invocation re-made only the analysis and below ({after / 60:.1f} min)"
            )
    return (
        f"# Reference results: `{m['profile']}`\n\n"
        f"Aggregated results of one complete `{m['profile']}` run (scores, tables, figures and each "
        "run's `metrics.json` / `params.yaml`; no data, no notebooks, no checkpoints). "
        "Generated by `invoke publish-reference`; do not edit: "
        "`tests/integration/test_reference_results.py` recomputes the tables from `runs/`.\n\n"
        f"- Index: [index.html](index.html); headline figure: "
        "[figures/gap_vs_scale.png](figures/gap_vs_scale.png)\n"
        f"- Code: commit `{m['git_commit']}`; profile `{m['profile_file']}` "
        f"(sha256 `{m['profile_sha256'][:16]}`)\n"
        f"- Runs: {m['n_runs']} ({', '.join(f'{k} {v}' for k, v in m['runs_per_phase'].items())})\n"
        f"- Measured wall time: {wall}\n"
        f"- Results made {m['results_created']}; published {m['published']}\n\n"
        f"Regenerate with one command:\n\n    {REGENERATE.format(p=m['profile'])}\n"
    )


def _swap_in(stage: Path, out: Path) -> None:
    """Replace ``out`` by the finished ``stage`` folder (renames, so never half-written)."""
    old = out.with_name(out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(stage, out)
    shutil.rmtree(old, ignore_errors=True)


def publish(profile_name: str, out: str | os.PathLike | None = None) -> Path:
    """Publish the profile's finished analysis run as reference results.

    Args:
        profile_name: Profile name or YAML path (as ``invoke reproduce`` takes).
        out: Target folder; default ``results/<profile>/``.

    Returns:
        The folder written.

    Raises:
        FileNotFoundError: The profile's analysis run has not finished.
        ValueError: Something that is not a metric would be published.
    """
    from xstilts import cli, report

    profile, plan = cli.load(profile_name)
    analysis = plan[-1]
    if not runs.is_done(analysis.dir):
        raise FileNotFoundError(
            f"the analysis run of profile {profile_name!r} has not finished ({analysis.dir}); "
            f"run `invoke reproduce --profile {profile_name}` first"
        )
    out = Path(out) if out else results_dir(profile.profile)
    stage = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(stage, ignore_errors=True)
    _copy_tree(analysis.dir / "bundle", stage / "bundle")
    _copy_file(Path(profile.source_file), stage / "profile.yaml")
    counts = _copy_runs(plan, stage / "runs")
    timing = _timing(profile.profile, stage / "bundle", stage)
    make_portable(stage, local_paths(profile))
    report.render_index(stage / "bundle", stage / "index.html")
    check_no_data(stage)
    m = manifest(profile, analysis, stage, counts, timing)
    io.atomic_write_text(stage / "README.md", readme(m))
    io.atomic_write_json(stage / "MANIFEST.json", m)
    _swap_in(stage, out)
    print(f"published {m['n_runs']} runs of {profile.profile} to {out}")
    return out
