"""Entry points behind ``tasks.py``: reproduce, phase, status, plan, report, paper.

Each function validates the profile first (no compute starts on a bad profile), then
works through the plan, printing one line per step: ran / skipped / resumed / FAILED,
the reason and the elapsed time.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from xstilts import io, params, paths, pipeline, runs


def configure_threads(profile: params.Profile) -> None:
    """Pin CPU threads for kernels started by papermill (inherited through the env)."""
    if profile.compute.threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, str(profile.compute.threads))


def preflight(profile: params.Profile) -> None:
    """Checks that need more than the schema, before any compute: models and files resolvable."""
    from xstilts import grid
    from xstilts.data import annotated
    from xstilts.models import encoder

    for m in profile.models:
        if m.name not in encoder.EMBEDDED_MODELS:  # embedded models are built on first use
            encoder.resolve(m.name)  # raises ModelNotFoundError at once, one line
    for key in ("root", "fallback_root"):
        root = grid.data_root(getattr(profile.data, key))
        if profile.data.source in ("real", "real-split") and root is not None and not root.exists():
            raise FileNotFoundError(f"data.{key} = {root} does not exist (see README 'Real data')")
    for task, langs in profile.data.real_test_sets.items():
        for lang in langs:
            annotated.require(task, lang)  # raises MissingPackageError at once, one line


def print_left_out(profile: params.Profile) -> None:
    """Say which cells of the grid are not planned and why (``xstilts.grid``)."""
    from xstilts import grid

    for line in grid.grid(profile).left_out:
        print(f"left out: {line}")


def load(profile_name: str, overrides: dict | None = None) -> tuple[params.Profile, list]:
    """Load + validate a profile and expand its plan."""
    profile = params.load_profile(profile_name, overrides)
    configure_threads(profile)
    return profile, pipeline.plan(profile)


def reproduce(profile_name: str, retry_failed: bool = False, with_paper: bool = True) -> int:
    """Run every phase of a profile, then the HTML index and the paper. Returns an exit code."""
    t0 = time.time()
    profile, plan = load(profile_name)
    preflight(profile)
    print(f"profile {profile.profile}: {len(plan)} runs  (runs in {paths.runs_root()})")
    print_left_out(profile)
    from xstilts import sweep

    summary = sweep.run_profile(profile, plan, retry_failed)
    record_execution(profile, plan, summary, time.time() - t0, paths.report_dir())
    analysis = plan[-1]
    if runs.is_done(analysis.dir):
        publish(analysis, with_paper=with_paper)
    print(f"total {time.time() - t0:.1f}s; report: {paths.report_dir() / 'index.html'}")
    if summary.failures:
        flags = "" if with_paper else " --no-paper"
        print_retry_hint(summary, f"invoke reproduce --profile {profile_name}{flags}")
    return 1 if summary.failures else 0


# Set by the Makefile to the command its users know (``make reproduce RETRY=1``); without it
# the hint is the invoke line of the command that was run.
RETRY_ENV = "XSTILTS_RETRY_COMMAND"


def retry_command(invoke_line: str) -> str:
    """The command that re-queues failed runs, in the form the user typed the first one.

    Args:
        invoke_line: The ``invoke ...`` line that ran, without ``--retry-failed``.

    Returns:
        ``$XSTILTS_RETRY_COMMAND`` when a wrapper (the Makefile) sets it, else
        ``invoke_line --retry-failed``.
    """
    return os.environ.get(RETRY_ENV) or f"{invoke_line} --retry-failed"


def print_retry_hint(summary: pipeline.Summary, invoke_line: str) -> None:
    """Closing line of a sweep with failures: what did not finish and how to retry it."""
    failed = sum(s.outcome == "FAILED" for s in summary.steps)
    blocked = sum(s.outcome == "blocked" for s in summary.steps)
    print(
        f"{failed} run(s) failed, {blocked} blocked; finished runs are kept. "
        f"Retry the failed ones with: {retry_command(invoke_line)}"
    )


def record_execution(
    profile: params.Profile, plan: list, summary: pipeline.Summary, wall_s: float, out: Path
) -> None:
    """Append this execution to the report folder's timing file, if it finished any run.

    The index shows the last execution's wall time and, summed over the executions whose
    runs make up the current results, the wall time that produced them (``report``).
    The file holds the last execution's fields at the top level and every execution of
    the profile under ``executions`` (with the run ids it finished).
    """
    from xstilts import report

    finished = [s.run.run_id for s in summary.steps if s.outcome in ("ran", "resumed")]
    if not finished:
        return
    entry = {
        "wall_s": round(wall_s, 1),
        "runs_executed": len(finished),
        "runs_total": len(plan),
        "executor": profile.compute.executor,
        "workers": profile.compute.workers,
        "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    path = out / report.TIMING_FILE
    earlier = io.read_json(path) if path.is_file() else {}
    history = earlier.get("executions", []) if earlier.get("profile") == profile.profile else []
    history = [*history, {**entry, "run_ids": finished}][-report.TIMING_HISTORY :]
    io.atomic_write_json(path, {"profile": profile.profile, **entry, "executions": history})


def phase(profile_name: str, name: str, retry_failed: bool = False) -> int:
    """Run one phase of a profile (upstream phases must have finished)."""
    profile, plan = load(profile_name)
    if name not in {r.phase for r in plan}:
        raise ValueError(f"unknown phase {name!r}; allowed: data, intermediate, target, analysis")
    preflight(profile)
    t0 = time.time()
    summary = pipeline.execute(plan, retry_failed=retry_failed, only_phase=name)
    record_execution(profile, plan, summary, time.time() - t0, paths.report_dir())
    if summary.failures:
        print_retry_hint(summary, f"invoke phase {name} --profile {profile_name}")
    return 1 if summary.failures else 0


def status(profile_name: str) -> int:
    """Print each run as done / stale (why) / partial / failed / pending, with its job.

    Runs a sweep submitted (``local-parallel``, ``slurm``) also show their job: id, state
    (pending / running / requeued / done / failed; SLURM's asked afresh through submitit)
    and log path (``xstilts.jobs``).
    """
    from xstilts import jobs

    _, plan = load(profile_name)
    records = jobs.load()
    if any(r["executor"] == "slurm" for r in records.values()):
        folder = paths.runs_root() / "_submitit"
        records = jobs.refresh(records, folder, {r.run_id: r.dir for r in plan})
    for line in jobs.status_lines(plan, records):
        print(line)
    counts: dict[str, int] = {}
    for r in plan:
        st = runs.state(r)[0]
        counts[st] = counts.get(st, 0) + 1
    print("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    mine = [records[r.run_id]["state"] for r in plan if r.run_id in records]
    if mine:
        print("jobs: " + "  ".join(f"{k}: {mine.count(k)}" for k in jobs.STATES if k in mine))
    return 0


def _paper_sources_version() -> str:
    """Hash of the paper's own sources (templates, bibliography), not its build folders.

    Part of the paper's up-to-date key: an edited template must rebuild the PDF even when
    the analysis and ``lib/`` are unchanged.
    """
    h = hashlib.sha256()
    for f in sorted(p for p in paths.PAPER.iterdir() if p.is_file()):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def _stamp_ok(stamp: Path, key: str, output: Path) -> bool:
    return output.exists() and stamp.exists() and io.read_json(stamp).get("key") == key


def publish(analysis: runs.Run, with_paper: bool = True) -> None:
    """Render the HTML index and the paper from the analysis bundle, skipping when current."""
    from xstilts import paper, report

    bundle = analysis.dir / "bundle"
    key = f"{analysis.run_id}:{runs.code_version()}"
    out_html = paths.report_dir() / "index.html"
    stamp = paths.report_dir() / ".stamp.json"
    t0 = time.time()
    if _stamp_ok(stamp, key, out_html):
        print(f"{'report':<12} {'index.html':<48} {'skipped':<8} {0.0:7.1f}s  up to date")
    else:
        report.render_index(bundle, out_html)
        io.atomic_write_json(stamp, {"key": key})
        print(
            f"{'report':<12} {'index.html':<48} {'ran':<8} {time.time() - t0:7.1f}s  "
            "analysis or code changed"
        )
    if not with_paper:
        return
    t0 = time.time()
    pdf = paths.paper_build() / "paper.pdf"
    pstamp = paths.paper_build() / ".stamp.json"
    key = f"{key}:{_paper_sources_version()}"
    if _stamp_ok(pstamp, key, pdf):
        print(f"{'paper':<12} {'paper.pdf':<48} {'skipped':<8} {0.0:7.1f}s  up to date")
        return
    paper.render_paper(bundle)
    built = paper.build_pdf()
    io.atomic_write_json(pstamp, {"key": key, "pdf": str(built)})
    print(
        f"{'paper':<12} {'paper.pdf':<48} {'ran':<8} {time.time() - t0:7.1f}s  "
        "analysis or code changed"
    )


def report_only(profile_name: str, with_paper: bool) -> int:
    """Re-render the index (and paper) from the profile's finished analysis run."""
    _, plan = load(profile_name)
    analysis = plan[-1]
    if not runs.is_done(analysis.dir):
        raise FileNotFoundError(
            f"the analysis run of profile {profile_name!r} has not finished; run "
            f"`invoke reproduce --profile {profile_name}` first"
        )
    publish(analysis, with_paper=with_paper)
    return 0
