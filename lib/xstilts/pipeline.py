"""Expand a profile into a plan of notebook runs (a DAG) and execute it.

The plan::

    data ─┬─ intermediate[model, setting, mode, seed] ─┬─ target[..., task] ─┐
          │                                            │                    ├─ analysis
          └────────── target[model, none, seed, task] ─┘────────────────────┘

One phase-(ii) encoder per (model, intermediate setting, mode, seed) is reused by every
target task, BUCC and Tatoeba included. Runs are content-addressed (``xstilts.runs``):
a finished run is skipped, an interrupted run resumes, a changed input re-runs only the
runs downstream of it. Notebooks run through papermill's and nbconvert's Python APIs in
one process (measured 3-4 s per notebook saved over the CLIs), on a warm kernel that each
worker process keeps across its runs (``xstilts.warm_kernel``). For every step the runner
prints ``ran`` / ``skipped`` / ``resumed`` / ``FAILED`` with the reason and elapsed time.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from xstilts import grid, paths, runs, xtreme
from xstilts.params import Profile, intermediate_train_for
from xstilts.precision import resolve_precision
from xstilts.run_params import NOTEBOOKS


def _nb(phase: str) -> Path:
    return paths.NOTEBOOKS / NOTEBOOKS[phase]


def _label(m) -> str:
    return m.label or m.name


def intermediate_settings(profile: Profile) -> list[tuple[str, list[str]]]:
    """``(setting, tasks)`` pairs of phase (ii), without ``none`` (``xstilts.grid``)."""
    return list({s: (s, t) for s, t, _ in grid.grid(profile).cells}.values())


def eval_languages(profile: Profile, task: str) -> list[str]:
    """Evaluation languages of a target task: the profile's list ∩ the task's XTREME list."""
    spec = xtreme.TARGET_TASKS[task]
    wanted = profile.data.retrieval_languages if spec.train_task is None else profile.data.languages
    gone = profile.data.missing_languages.get(task, [])  # real-split: file not downloaded
    langs = [lang for lang in spec.languages if lang in wanted and lang not in gone]
    langs += [
        lang for lang in profile.data.real_test_sets.get(task, []) if lang not in langs
    ]  # real annotated test-only sets (mini)
    if spec.train_task is not None and "en" in spec.languages:
        langs = ["en"] + [lang for lang in langs if lang != "en"]
    return langs


def wanted(profile: Profile, task: str, model: str, setting: str, mode: str, seed: int) -> bool:
    """Whether ``target.restrict`` lets ``task`` run in this (model, setting, mode, seed) cell.

    The baseline cell (setting ``none``) is kept whenever the model and seed are, so every
    restricted task still has its no-intermediate-training reference for the same seeds.
    """
    rule = profile.target.restrict.get(task, {})
    if model not in rule.get("models", [model]) or seed not in rule.get("seeds", [seed]):
        return False
    if setting == "none":
        return True
    return setting in rule.get("settings", [setting]) and mode in rule.get("modes", [mode])


def trained(profile: Profile, model: str, setting: str, mode: str, seed: int) -> bool:
    """Whether ``intermediate.restrict`` lets this (model, setting, mode, seed) be trained."""
    rule = profile.intermediate.restrict.get(setting, {})
    return (
        model in rule.get("models", [model])
        and mode in rule.get("modes", [mode])
        and seed in rule.get("seeds", [seed])
    )


def data_tasks(profile: Profile) -> list[str]:
    """Every task whose data the profile needs (intermediate, target and their train tasks)."""
    needed = list(grid.grid(profile).tasks)
    for t in profile.target.tasks:
        needed.append(t)
        train_task = xtreme.TARGET_TASKS[t].train_task
        if train_task:
            needed.append(train_task)
    if "english+mlm" in profile.intermediate.modes:
        needed.append("mlm")
    return list(dict.fromkeys(needed))


def data_params(profile: Profile) -> dict:
    """The ``data`` section as the data run reads it: roots resolved (``grid.data_root``)."""
    data = dataclasses.asdict(profile.data)
    for key in ("root", "fallback_root"):
        root = grid.data_root(data[key])
        data[key] = str(root) if root else ""
    return data


def translated_tasks(profile: Profile) -> list[str]:
    """Intermediate tasks whose translated training data the plan reads."""
    cells = grid.grid(profile).cells
    return list(
        dict.fromkeys(t for _, tasks, mode in cells if mode in grid.TRANSLATED_MODES for t in tasks)
    )


def plan(profile: Profile) -> list[runs.Run]:
    """Expand a profile into runs in dependency (topological) order."""
    cells = grid.grid(profile).cells
    data_run = runs.Run(
        phase="data",
        cell={"profile": profile.profile},
        params={
            "profile": profile.profile,
            "data": data_params(profile),
            "tasks": data_tasks(profile),
            "translated_tasks": translated_tasks(profile),
            "translated_languages": profile.intermediate.translated_languages,
            "mlm_languages": profile.intermediate.mlm_languages,
            "mlm_size": profile.intermediate.mlm_size,
            "seed": 0,
        },
        notebook=_nb("data"),
    )
    plan_: list[runs.Run] = [data_run]
    ctx = {
        "data_run": data_run,
        "common": {
            "device": profile.compute.device,
            "threads": profile.compute.threads,
            # Resolved here, not in the run: a bf16 result gets its own run id and is never
            # reused as (or skipped for) an fp32 one.
            "precision": resolve_precision(profile.compute.precision, profile.compute.device),
            "deterministic": profile.compute.deterministic,
        },
        # Resume state of training runs (~1 GB per e5-L12 run) is deleted once a run is
        # done, unless the profile keeps it; intermediate runs keep encoder/ for phase (iii).
        "scratch": () if profile.compute.keep_checkpoints else ("checkpoint", "best"),
    }
    inter_runs: list[runs.Run] = []
    target_runs: list[runs.Run] = []
    for m in profile.models:
        for seed in profile.seeds:
            uppers: list[tuple[str, str, runs.Run | None]] = [("none", "english", None)]
            for setting, tasks, mode in cells:
                if not trained(profile, _label(m), setting, mode, seed):
                    continue
                r = _intermediate_run(profile, m, seed, (setting, tasks, mode), ctx)
                inter_runs.append(r)
                uppers.append((setting, mode, r))
            for setting, mode, upper in uppers:
                target_runs += _target_runs(profile, m, seed, (setting, mode, upper), ctx)
    plan_ += inter_runs + target_runs
    analysis = runs.Run(
        phase="analysis",
        cell={"profile": profile.profile},
        params={"profile": profile.profile, "profile_file": str(profile.source_file)},
        notebook=_nb("analysis"),
        deps=[data_run] + inter_runs + target_runs,
    )
    plan_.append(analysis)
    for r in plan_:
        _ = r.run_id  # freeze every id now (see runs.Run.fingerprint)
    return plan_


def _intermediate_run(profile: Profile, m, seed: int, cell: tuple, ctx: dict) -> runs.Run:
    """The phase-(ii) run of one (model, seed, setting, mode)."""
    setting, tasks, mode = cell
    train, mixture = intermediate_train_for(profile, tasks, mode)
    return runs.Run(
        phase="intermediate",
        cell={"model": _label(m), "setting": setting, "mode": mode, "seed": seed},
        params={
            "model": m.name,
            "model_label": _label(m),
            "setting": setting,
            "mode": mode,
            "tasks": tasks,
            "languages": profile.intermediate.translated_languages,
            "mlm_languages": profile.intermediate.mlm_languages,
            "translated_per_language": profile.intermediate.translated_per_language,
            "seed": seed,
            "train": dataclasses.asdict(train),
            "per_task": mixture,
            **ctx["common"],
        },
        notebook=_nb("intermediate"),
        deps=[ctx["data_run"]],
        scratch=ctx["scratch"],
    )


def _target_runs(profile: Profile, m, seed: int, upper: tuple, ctx: dict) -> list[runs.Run]:
    """The phase-(iii) runs on one upstream cell: one per target, one per shared fine-tune.

    XQuAD and MLQA both fine-tune on SQuAD v1.1 and select on its dev set, so one run
    trains once and scores both (``xtreme.SHARED_FINETUNE``; ``also_evaluate``).
    """
    from xstilts.params import train_spec_for

    setting, mode, up = upper
    tasks = [t for t in profile.target.tasks if wanted(profile, t, _label(m), setting, mode, seed)]
    out = []
    for task, members in xtreme.shared_finetune(tasks).items():
        out.append(
            runs.Run(
                phase="target",
                cell={
                    "model": _label(m),
                    "setting": setting,
                    "mode": mode,
                    "seed": seed,
                    "task": "+".join(members),
                },
                params={
                    "model": m.name,
                    "model_label": _label(m),
                    "setting": setting,
                    "mode": mode,
                    "task": task,
                    "languages": eval_languages(profile, task),
                    "also_evaluate": {t: eval_languages(profile, t) for t in members[1:]},
                    "retrieval_layer": m.retrieval_layer,
                    "seed": seed,
                    "train": dataclasses.asdict(train_spec_for(profile, task)),
                    **ctx["common"],
                },
                notebook=_nb("target"),
                deps=[ctx["data_run"]] + ([up] if up else []),
                scratch=ctx["scratch"],
            )
        )
    return out


def notebook_parameters(run: runs.Run) -> dict:
    """Parameters papermill injects: the run's params plus its own and upstream folders."""
    params = dict(run.params)
    params["run_dir"] = str(run.dir)
    if run.phase in ("intermediate", "target"):
        params["data_dir"] = str(run.deps[0].dir)
    if run.phase == "target":
        params["intermediate_dir"] = str(run.deps[1].dir) if len(run.deps) > 1 else ""
    if run.phase == "analysis":
        params["data_dir"] = str(run.deps[0].dir)
        params["intermediate_dirs"] = [str(d.dir) for d in run.deps if d.phase == "intermediate"]
        params["target_dirs"] = [str(d.dir) for d in run.deps if d.phase == "target"]
    return params


# --------------------------------------------------------------------------- execution


@dataclass
class StepResult:
    """What happened to one run in this invocation."""

    run: runs.Run
    outcome: str  # ran | skipped | resumed | FAILED | blocked
    reason: str
    elapsed_s: float = 0.0
    log: str | None = None


@dataclass
class Summary:
    """End-of-sweep summary."""

    steps: list[StepResult] = field(default_factory=list)

    @property
    def failures(self) -> list[StepResult]:
        """Runs that failed or could not start because an upstream run failed."""
        return [s for s in self.steps if s.outcome in ("FAILED", "blocked")]


def _print(line: str) -> None:
    print(line, flush=True)


def format_step(s: StepResult) -> str:
    """One line per step: phase, run, outcome, reason, elapsed."""
    return f"{s.run.phase:<12} {s.run.name[:48]:<48} {s.outcome:<8} {s.elapsed_s:7.1f}s  {s.reason}"


def _kernel_manager_class():
    """A kernel manager that talks to the kernel over Unix sockets instead of TCP ports.

    With parallel workers, TCP ports picked free by one launcher can be taken by another
    kernel before it binds them ("Address already in use" in the heartbeat thread); IPC
    sockets are named after each kernel's unique connection file, so they cannot collide.
    It also avoids ipykernel's plaintext-TCP warning on every run.
    """
    import tempfile
    import uuid

    from jupyter_client import AsyncKernelManager
    from traitlets import default

    from xstilts import kernel

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self):
            return "ipc"

        @default("ip")
        def _default_ip(self):
            # jupyter_client's default IPC prefix is "kernel-ipc" in the working directory,
            # shared by every kernel started there: make it unique per kernel (and short,
            # since Unix socket paths are limited to ~100 bytes).
            return str(Path(tempfile.gettempdir()) / f"xstilts-{uuid.uuid4().hex[:12]}-ipc")

        async def _async_pre_start_kernel(self, **kw):
            # Marks the kernel as the pipeline's (xstilts.kernel.in_pipeline), in the
            # kernel's own environment only: this process may itself be a Jupyter kernel.
            kw["env"] = {**(kw.get("env") or os.environ), **kernel.PIPELINE_KERNEL_ENV}
            return await super()._async_pre_start_kernel(**kw)

        async def _async_interrupt_kernel(self):
            # jupyter_client sends SIGINT before every shutdown; our notebooks have finished
            # by then, so it only makes ipykernel log "KeyboardInterrupt caught in kernel".
            if not self.shutting_down:
                await super()._async_interrupt_kernel()

    return IPCKernelManager


def execute_run(run: runs.Run, resumed: bool) -> tuple[bool, str, str | None]:
    """Execute one notebook run; returns ``(ok, reason, log_path)``.

    The executed notebook is written to ``notebook.partial.ipynb`` while it runs and renamed
    to ``notebook.ipynb`` when it finished, so a half-executed notebook is never taken for
    a finished one. ``DONE`` is written last.
    """
    import papermill

    from xstilts import warm_kernel
    from xstilts.report import render_phase_html

    d = runs.prepare(run)
    partial = d / "notebook.partial.ipynb"
    t0 = time.time()
    try:
        papermill.execute_notebook(
            str(run.notebook),
            str(partial),
            parameters=notebook_parameters(run),
            cwd=str(paths.ROOT),
            progress_bar=False,
            log_output=False,
            kernel_name="python3",
            kernel_manager_class=_kernel_manager_class(),
            # One warm kernel per worker process, reset between runs (xstilts.warm_kernel).
            engine_name=warm_kernel.ENGINE_NAME if warm_kernel.enabled() else None,
        )
    except Exception as e:  # noqa: BLE001 - a failing run must never stop the sweep
        reason = _error_line(e)
        runs.mark_failed(d, reason, partial if partial.exists() else None)
        return False, reason, str(partial)
    os.replace(partial, d / "notebook.ipynb")
    if not (d / runs.METRICS).exists():
        reason = "notebook finished without writing metrics.json"
        runs.mark_failed(d, reason, d / "notebook.ipynb")
        return False, reason, str(d / "notebook.ipynb")
    render_phase_html(d / "notebook.ipynb", d / "report.html")
    runs.mark_done(d, time.time() - t0, resumed)
    runs.discard_scratch(run)  # after DONE: a kill in between leaves a finished run
    return True, "", None


def _error_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    # papermill's PapermillExecutionError carries the notebook's exception name and value.
    ename, evalue = getattr(e, "ename", None), getattr(e, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    return text[-1] if text else type(e).__name__


def decide(run: runs.Run, retry_failed: bool) -> tuple[str, str]:
    """What to do with a run: ``skip`` / ``fail`` (failed before) / ``run`` / ``resume``."""
    st, why = runs.state(run)
    if st == "done":
        return "skip", why
    if st == "failed" and not retry_failed:
        return "fail", f"failed earlier: {why} (not retried; see the retry command below)"
    if st == "partial":
        return "resume", why
    if st == "failed":
        return "run", f"retrying: {why}"
    return "run", why


def execute(
    plan_: list[runs.Run],
    *,
    retry_failed: bool = False,
    only_phase: str | None = None,
    runner=None,
    weights: dict[str, float] | None = None,
) -> Summary:
    """Run every step of a plan in order (one process), skipping finished runs.

    Args:
        plan_: Runs in topological order (``plan``).
        retry_failed: Re-queue runs that failed in an earlier invocation.
        only_phase: Execute only this phase; unfinished runs of other phases block their
            dependants.
        runner: Callable ``(run, resumed) -> (ok, reason, log)``; defaults to
            ``execute_run`` (tests inject failures here).
        weights: Estimated seconds per run id for the time-left estimate
            (``xstilts.progress``).

    Returns:
        The summary of this invocation.

    """
    from xstilts import progress

    runner = runner or execute_run
    runs.tidy(plan_)  # leftovers of a killed earlier invocation
    summary = Summary()
    counter = progress.for_plan(
        [r for r in plan_ if not only_phase or r.phase == only_phase], weights
    )
    bad: set[str] = set()
    for run in plan_:
        t0 = time.time()
        if only_phase and run.phase != only_phase:
            # Not this invocation's business, so never reported: an unfinished run only
            # blocks its dependants inside the requested phase.
            if not runs.is_done(run.dir):
                bad.add(run.run_id)
            continue
        if any(d.run_id in bad for d in run.deps):
            step = StepResult(run, "blocked", "an upstream run did not finish")
            bad.add(run.run_id)
        else:
            action, why = decide(run, retry_failed)
            if action == "skip":
                step = StepResult(run, "skipped", why)
            elif action == "fail":
                step = StepResult(run, "FAILED", why)
                bad.add(run.run_id)
            else:
                resumed = action == "resume"
                ok, reason, log = runner(run, resumed)
                outcome = ("resumed" if resumed else "ran") if ok else "FAILED"
                step = StepResult(run, outcome, why if ok else reason, 0.0, log)
                if not ok:
                    bad.add(run.run_id)
        step.elapsed_s = time.time() - t0
        summary.steps.append(step)
        executed = step.outcome in ("ran", "resumed") or step.log is not None
        _print(counter.step(run.run_id, executed) + " " + format_step(step))
    report_failures(summary)
    return summary


def report_failures(summary: Summary) -> None:
    """End-of-sweep list of failures with reason and log path."""
    if summary.failures:
        _print(f"\n{len(summary.failures)} run(s) did not finish:")
        for s in summary.failures:
            log = f"  log: {s.log}" if s.log else ""
            _print(f"  {s.run.phase}/{s.run.run_id}: {s.reason}{log}")


def main_error(e: BaseException) -> None:
    """Print an error without a traceback for expected problems, with one otherwise."""
    if isinstance(e, ValueError | FileNotFoundError):
        print(f"error: {e}", file=sys.stderr)
    else:
        traceback.print_exc()
