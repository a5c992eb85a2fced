"""Sweeps: the plan as waves of independent runs, executed locally or on SLURM.

Executors (``compute.executor`` in the profile):

- ``local``: one process, runs in plan order (``pipeline.execute``).
- ``local-parallel``: ``compute.workers`` processes; each wave (data, then all phase-ii
  runs, then all phase-iii runs, then analysis) is spread over the workers.
- ``slurm``: one submitit job per run, submitted as a job array per wave
  (``executor.map_array``), resources from ``compute.slurm``. Multi-GPU inside a run goes
  through accelerate in the notebook, not through the sweep.

No home-made scheduler: waves follow the DAG's levels, submitit does the queueing. A failing
run never stops the others; its dependants are reported as blocked, and
``--retry-failed`` re-queues it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from xstilts import io, params, paths, pipeline, runs, xtreme

PHASE_ORDER = ("data", "intermediate", "target", "analysis")


def waves(plan: list[runs.Run]) -> list[list[runs.Run]]:
    """Group a plan into waves of runs that do not depend on each other (by phase)."""
    return [
        [r for r in plan if r.phase == ph] for ph in PHASE_ORDER if any(r.phase == ph for r in plan)
    ]


def _execute_one(run: runs.Run, resumed: bool) -> tuple[bool, str, str | None]:
    # Top-level function so that process pools and submitit can pickle it.
    return pipeline.execute_run(run, resumed)


def execute_waves(
    plan: list[runs.Run],
    executor: str = "local-parallel",
    workers: int = 2,
    slurm: dict | None = None,
    retry_failed: bool = False,
    folder: Path | None = None,
    weights: dict[str, float] | None = None,
) -> pipeline.Summary:
    """Execute a plan wave by wave on a pool of local processes or on SLURM via submitit.

    Args:
        plan: Runs in topological order.
        executor: ``local-parallel`` | ``slurm`` | ``submitit-local`` (submitit's local
            executor, used to test the SLURM path without a cluster).
        workers: Local processes for ``local-parallel``.
        slurm: submitit parameters (``partition``, ``gpus_per_node``, ``timeout_min``...).
        retry_failed: Re-queue runs that failed before.
        folder: submitit log folder (default ``runs/_submitit``).
        weights: Estimated seconds per run id for the time-left estimate.

    Returns:
        The summary of this invocation.
    """
    from xstilts import progress

    runs.tidy(plan)  # leftovers of a killed earlier invocation
    summary = pipeline.Summary()
    counter = progress.for_plan(plan, weights)
    bad: set[str] = set()
    for wave in waves(plan):
        todo: list[tuple[runs.Run, bool, str]] = []
        for run in wave:
            if any(d.run_id in bad for d in run.deps):
                step = pipeline.StepResult(run, "blocked", "an upstream run did not finish")
                bad.add(run.run_id)
            else:
                action, why = pipeline.decide(run, retry_failed)
                if action in ("run", "resume"):
                    todo.append((run, action == "resume", why))
                    continue
                step = pipeline.StepResult(run, "skipped" if action == "skip" else "FAILED", why)
                if action == "fail":
                    bad.add(run.run_id)
            summary.steps.append(step)
            pipeline._print(counter.step(run.run_id, False) + " " + pipeline.format_step(step))
        if not todo:
            continue
        t0 = time.time()
        for i, (ok, reason, log) in _submit(todo, executor, workers, slurm or {}, folder):
            run, resumed, why = todo[i]
            outcome = ("resumed" if resumed else "ran") if ok else "FAILED"
            # Runs of a wave overlap: report each run's own elapsed time from its DONE stamp.
            stamp = run.dir / runs.STAMP
            elapsed = (
                io.read_json(stamp)["elapsed_s"] if ok and stamp.exists() else time.time() - t0
            )
            step = pipeline.StepResult(run, outcome, why if ok else reason, elapsed, log)
            if not ok:
                bad.add(run.run_id)
            summary.steps.append(step)
            pipeline._print(counter.step(run.run_id, True) + " " + pipeline.format_step(step))
    pipeline.report_failures(summary)
    return summary


def _submit(todo, executor, workers, slurm, folder) -> Iterator[tuple[int, tuple]]:
    """Execute a wave; yield ``(index in todo, (ok, reason, log))`` as each run finishes."""
    runs_ = [t[0] for t in todo]
    resumed = [t[1] for t in todo]
    if executor == "local-parallel":
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {
                pool.submit(_execute_one, r, res): i
                for i, (r, res) in enumerate(zip(runs_, resumed))
            }
            for future in as_completed(futures):  # print each run when it ends
                yield futures[future], future.result()
        return
    import submitit

    folder = folder or paths.runs_root() / "_submitit"
    if executor == "submitit-local":
        ex = submitit.LocalExecutor(folder=str(folder))
        ex.update_parameters(timeout_min=slurm.get("timeout_min", 60))
    elif executor == "slurm":
        ex = submitit.AutoExecutor(folder=str(folder))
        ex.update_parameters(
            slurm_partition=slurm.get("partition"),
            gpus_per_node=slurm.get("gpus_per_node", 1),
            timeout_min=slurm.get("timeout_min", 1440),
            cpus_per_task=slurm.get("cpus_per_task", 8),
            mem_gb=slurm.get("mem_gb", 64),
            slurm_array_parallelism=slurm.get("array_parallelism", 64),
        )
    else:
        raise ValueError(f"unknown executor {executor!r}; allowed: local, local-parallel, slurm")
    jobs = ex.map_array(_execute_one, runs_, resumed)
    for i, job in enumerate(jobs):
        try:
            yield i, job.result()
        except Exception as e:  # noqa: BLE001 - a crashed job is one failed run
            yield (
                i,
                (
                    False,
                    f"job {job.job_id} crashed: {str(e).splitlines()[-1:]}",
                    str(job.paths.stderr),
                ),
            )


def run_profile(profile: params.Profile, plan: list[runs.Run], retry_failed: bool):
    """Dispatch a plan to the profile's executor."""
    weights = {r.run_id: e["device_hours"] * 3600 for r, e in zip(plan, estimate(profile, plan))}
    if profile.compute.executor == "local":
        return pipeline.execute(plan, retry_failed=retry_failed, weights=weights)
    return execute_waves(
        plan,
        executor=profile.compute.executor,
        workers=profile.compute.workers,
        slurm=profile.compute.slurm,
        retry_failed=retry_failed,
        weights=weights,
    )


# --------------------------------------------------------------------------- cost estimate

# Relative cost of a forward+backward example vs a forward-only example.
TRAIN_VS_INFER = 3.0


def _measured_throughput() -> dict:
    p = paths.ROOT / "bench" / "training.json"
    if p.exists():
        data = io.read_json(p)
        return data.get("throughput_by_model", {})
    return {}


def _translated_size(english: int, p: dict) -> int:
    """Training examples of a translated mode (``phases.intermediate.translated_rows``)."""
    per_lang = p["translated_per_language"]
    if per_lang == 0:  # equal budget: the English size, split over the languages
        return english
    extra = english if p["mode"] == "english+translated" else 0
    return extra + len(p["languages"]) * (english if per_lang < 0 else min(per_lang, english))


def estimate(profile: params.Profile, plan: list[runs.Run]) -> list[dict]:
    """Estimated device-hours per run from configured or measured training throughput.

    Training examples: the mini sizes for ``mini``/``smoke``, the paper's train sizes for real
    data (``xtreme.TRAIN_SIZES``); evaluation examples: ``xtreme.EVAL_SIZES`` per language.
    """
    measured = _measured_throughput()
    rows = []
    for r in plan:
        label = r.cell.get("model", "")
        ex_s = profile.compute.throughput.get(label) or measured.get(label) or 10.0
        p = r.params
        examples = 0.0
        if r.phase == "intermediate":
            sizes = [
                profile.data.train_size if profile.data.source == "mini" else xtreme.TRAIN_SIZES[t]
                for t in p["tasks"]
            ]
            if "translated" in p["mode"]:
                sizes = [_translated_size(s, p) for s in sizes]
            if p["mode"] == "english+mlm":  # MLM is one more task of the capped mixture
                sizes.append(profile.intermediate.mlm_size)
            n = sum(min(s, 2**17) for s in sizes) if len(sizes) > 1 else sum(sizes)
            examples = n * p["train"]["epochs"]
        elif r.phase == "target":
            spec = xtreme.TARGET_TASKS[p["task"]]
            if spec.train_task:
                n = (
                    profile.data.train_size
                    if profile.data.source == "mini"
                    else xtreme.TRAIN_SIZES.get(spec.train_task, 0)
                )
                examples = n * p["train"]["epochs"]
            per_lang = (
                profile.data.test_size
                if profile.data.source == "mini"
                else xtreme.EVAL_SIZES[p["task"]]
            )
            examples += len(p["languages"]) * per_lang / TRAIN_VS_INFER
        hours = examples / ex_s / 3600
        rows.append(
            {
                "phase": r.phase,
                "run": r.name,
                "model": label,
                "examples": int(examples),
                "throughput": ex_s,
                "device_hours": hours,
            }
        )
    return rows


def print_plan(profile_name: str) -> int:
    """``invoke plan``: every run with its state and an estimated cost; runs nothing."""
    profile = params.load_profile(profile_name)
    plan = pipeline.plan(profile)
    est = {e["run"] + e["phase"]: e for e in estimate(profile, plan)}
    total = 0.0
    by_model: dict[str, float] = {}
    for r in plan:
        e = est[r.name + r.phase]
        st, why = runs.state(r)
        total += e["device_hours"]
        by_model[e["model"]] = by_model.get(e["model"], 0.0) + e["device_hours"]
        print(f"{r.phase:<12} {r.name[:60]:<60} {st:<8} {e['device_hours']:8.2f} h")
    counts = {ph: sum(r.phase == ph for r in plan) for ph in PHASE_ORDER}
    print("runs: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for m, h in by_model.items():
        if m:
            print(f"  {m:<20} {h:10.1f} device-hours")
    print(
        f"estimated total: {total:.1f} device-hours "
        f"(throughput per model from compute.throughput, else bench/training.json)"
    )
    return 0


def clean(profile_name: str) -> int:
    """Delete the run folders of one profile's plan, the report and the paper build."""
    profile = params.load_profile(profile_name)
    removed = 0
    for r in pipeline.plan(profile):
        for d in [r.dir, *runs.previous_runs(r)]:
            if d.exists():
                shutil.rmtree(d)
                removed += 1
    for d in (paths.report_dir(), paths.paper_build(), paths.paper_generated()):
        if d.exists():
            shutil.rmtree(d)
    print(f"removed {removed} run folders of profile {profile.profile}")
    return 0
