"""Sweeps: the plan as a DAG of runs, each started as soon as its upstream runs finish.

Executors (``compute.executor`` in the profile):

- ``local``: one process, runs in plan order (``pipeline.execute``).
- ``local-parallel``: ``compute.workers`` processes; a run is handed to a free worker as
  soon as every run it depends on has finished (not phase by phase: the target runs of
  setting ``none`` start while the phase-(ii) runs train).
- ``slurm``: one submitit job per run, submitted when its upstream runs have finished, on
  one GPU (``compute.slurm``: ``partition``, ``gpus_per_node``, ``cpus_per_task``,
  ``mem_gb``, ``timeout_min`` = the partition's time limit per job, ``max_jobs`` in the
  queue at once). Several GPUs serve the sweep as one run per GPU; a run does not spread
  over GPUs. ``submitit-local`` is the same path on submitit's local executor (tests).

On SLURM a job that reaches its time limit or is preempted is requeued by submitit
(``RunJob.checkpoint``) and resumes from the run's last training checkpoint (the trainer
finds ``checkpoint/`` on start; at most ``checkpoint_every`` steps are redone). Each job
asks for the time its cost estimate needs (``timeouts``), capped at the partition limit:
a run longer than the limit (ANLI+ on XLM-R large, about 26 h against 24 h) finishes over
several requeued jobs instead of failing.

A failing run never stops the others; its dependants are reported as blocked, and
``--retry-failed`` re-queues it. ``invoke status`` shows each job's state and log
(``xstilts.jobs``).
"""

from __future__ import annotations

import math
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import submitit

from xstilts import io, jobs, params, paths, pipeline, runs, xtreme

PHASE_ORDER = ("data", "intermediate", "target", "analysis")


class RunJob(submitit.helpers.Checkpointable):
    """A submitit job that executes one run and, when requeued, resumes it.

    Args:
        runner: ``(run, resumed) -> (ok, reason, log)``; ``pipeline.execute_run`` when
            ``None`` (tests pass a picklable fake).
    """

    def __init__(self, runner=None):
        self.runner = runner

    def __call__(self, run: runs.Run, resumed: bool) -> tuple[bool, str, str | None]:
        """Execute the run."""
        return (self.runner or pipeline.execute_run)(run, resumed)

    def checkpoint(self, run: runs.Run, resumed: bool) -> submitit.helpers.DelayedSubmission:
        """Called by submitit on timeout or preemption: requeue the same run, resuming.

        The training state is already on disk (the trainer checkpoints every
        ``checkpoint_every`` steps), so nothing is pickled but the run description.
        """
        jobs.mark_requeued(run.dir)
        return submitit.helpers.DelayedSubmission(RunJob(self.runner), run, True)


def _execute_one(run: runs.Run, resumed: bool, runner=None) -> tuple[bool, str, str | None]:
    # Top-level function so that process pools can pickle it.
    return (runner or pipeline.execute_run)(run, resumed)


class _Pool:
    """``local-parallel``: a process pool fed one ready run at a time."""

    kind = "local-parallel"

    def __init__(self, workers: int, runner):
        self.pool = ProcessPoolExecutor(max_workers=workers)
        self.capacity, self.runner, self.futures = workers, runner, {}

    def submit(self, run: runs.Run, resumed: bool) -> dict:
        self.futures[self.pool.submit(_execute_one, run, resumed, self.runner)] = run.run_id
        log = str(run.dir / "notebook.partial.ipynb")
        return jobs.new_record(run, self.kind, f"pool-{len(self.futures)}", log, "running")

    def finished(self, records: dict) -> list[tuple[str, tuple]]:
        # The records need no polling: a submitted run is running until its future ends.
        done, _ = wait(list(self.futures), return_when=FIRST_COMPLETED)
        return [(self.futures.pop(f), f.result()) for f in done]

    def adopt(self, run: runs.Run, record: dict | None) -> bool:  # pool workers die with us
        return False

    def close(self) -> None:
        self.pool.shutdown()


class _Submitit:
    """``slurm`` / ``submitit-local``: one job per run, polled until it ends."""

    def __init__(self, kind: str, slurm: dict, folder: Path, runner, timeouts, poll_s):
        self.kind, self.runner, self.timeouts, self.poll_s = kind, runner, timeouts, poll_s
        self.folder = folder
        self.jobs: dict[str, object] = {}
        self.capacity = int(slurm.get("max_jobs", 256))
        self.default_timeout = slurm.get("timeout_min", 60 if kind == "submitit-local" else 1440)
        # Requeues after a timeout before submitit gives up (run_profile sizes it).
        retries = int(slurm.get("max_num_timeout", 3))
        if kind == "submitit-local":
            self.ex = submitit.LocalExecutor(folder=str(folder), max_num_timeout=retries)
            self.ex.update_parameters(signal_delay_s=int(slurm.get("signal_delay_s", 30)))
        elif kind == "slurm":
            self.ex = submitit.AutoExecutor(folder=str(folder), slurm_max_num_timeout=retries)
            resources = {
                "slurm_partition": slurm.get("partition"),
                "gpus_per_node": slurm.get("gpus_per_node", 1),
                "cpus_per_task": slurm.get("cpus_per_task", 8),
                "mem_gb": slurm.get("mem_gb", 64),
            }
            self.ex.update_parameters(**{k: v for k, v in resources.items() if v is not None})
        else:
            raise ValueError(
                f"unknown executor {kind!r}; allowed: local, local-parallel, slurm, submitit-local"
            )

    def submit(self, run: runs.Run, resumed: bool) -> dict:
        self.ex.update_parameters(timeout_min=self.timeouts.get(run.run_id, self.default_timeout))
        job = self.ex.submit(RunJob(self.runner), run, resumed)
        self.jobs[run.run_id] = job
        state = "running" if self.kind == "submitit-local" else "pending"
        return jobs.new_record(run, self.kind, job.job_id, str(job.paths.stdout), state)

    def adopt(self, run: runs.Run, record: dict | None) -> bool:
        """Take over a SLURM job of an earlier driver that still holds this run.

        A driver that died (login node reboot) leaves its jobs queued or running; a new
        driver must wait for them, not submit a second job writing the same run folder.
        """
        if self.kind != "slurm" or not record or record.get("executor") != "slurm":
            return False
        if record.get("state") in ("done", "failed"):
            return False
        job = submitit.SlurmJob(folder=str(self.folder), job_id=record["job_id"])
        if jobs.map_state("slurm", job.state) not in ("pending", "running", "requeued"):
            return False
        self.jobs[run.run_id] = job
        return True

    def finished(self, records: dict) -> list[tuple[str, tuple]]:
        """Wait for jobs to end; meanwhile keep their records current (``invoke status``)."""
        executor = "slurm" if self.kind == "slurm" else "local"
        while True:
            done = [k for k, j in self.jobs.items() if j.done()]
            if done:
                return [(k, _job_result(self.jobs.pop(k))) for k in done]
            for key, job in self.jobs.items():
                n = jobs.requeues(paths.run_dir(records[key]["phase"], key))
                records[key]["state"] = jobs.map_state(executor, job.state, n)
            jobs.save(records)
            time.sleep(self.poll_s)

    def close(self) -> None:
        return None


def _job_result(job) -> tuple[bool, str, str | None]:
    try:
        return job.result()
    except Exception as e:  # noqa: BLE001 - a crashed job is one failed run
        last = str(e).strip().splitlines()[-1:] or [type(e).__name__]
        return False, f"job {job.job_id} crashed: {last[0]}", str(job.paths.stderr)


def _backend(executor, workers, slurm, folder, runner, timeouts, poll_s):
    if executor == "local-parallel":
        return _Pool(workers, runner)
    folder = folder or paths.runs_root() / "_submitit"
    poll_s = poll_s if poll_s is not None else (30.0 if executor == "slurm" else 1.0)
    return _Submitit(executor, slurm, folder, runner, timeouts, poll_s)


def execute_graph(
    plan: list[runs.Run],
    executor: str = "local-parallel",
    workers: int = 2,
    slurm: dict | None = None,
    retry_failed: bool = False,
    folder: Path | None = None,
    weights: dict[str, float] | None = None,
    timeouts: dict[str, int] | None = None,
    runner=None,
    poll_s: float | None = None,
) -> pipeline.Summary:
    """Execute a plan, each run as soon as its upstream runs have finished.

    Args:
        plan: Runs in topological order.
        executor: ``local-parallel`` | ``slurm`` | ``submitit-local`` (submitit's local
            executor, used to test the SLURM path without a cluster).
        workers: Local processes for ``local-parallel``.
        slurm: submitit parameters (``partition``, ``gpus_per_node``, ``timeout_min``...).
        retry_failed: Re-queue runs that failed before.
        folder: submitit log folder (default ``runs/_submitit``).
        weights: Estimated seconds per run id for the time-left estimate.
        timeouts: Minutes per run id asked of SLURM (``timeouts``); default the limit.
        runner: ``(run, resumed) -> (ok, reason, log)``, picklable; default
            ``pipeline.execute_run`` (tests inject fakes).
        poll_s: Seconds between polls of submitit jobs (default 30 on SLURM, whose
            accounting should not be asked more often, else 1).

    Returns:
        The summary of this invocation.
    """
    runs.tidy(plan)  # leftovers of a killed earlier invocation
    backend = _backend(executor, workers, slurm or {}, folder, runner, timeouts or {}, poll_s)
    sweep = _Sweep(plan, backend, retry_failed, weights)
    try:
        while sweep.waiting or sweep.started:
            progressed = sweep.launch_ready()
            jobs.save(sweep.records)
            if sweep.started:
                sweep.collect(backend.finished(sweep.records))
            elif not progressed:
                raise RuntimeError("no run can start: the plan is not in dependency order")
    finally:
        jobs.save(sweep.records)
        backend.close()
    pipeline.report_failures(sweep.summary)
    return sweep.summary


class _Sweep:
    """The state of one invocation: what waits, what runs, what finished (ok / bad)."""

    def __init__(self, plan, backend, retry_failed, weights):
        from xstilts import progress

        self.waiting, self.by_id = list(plan), {r.run_id: r for r in plan}
        self.backend, self.retry_failed = backend, retry_failed
        self.summary, self.counter = pipeline.Summary(), progress.for_plan(plan, weights)
        self.records = jobs.load()
        self.ok: set[str] = set()
        self.bad: set[str] = set()
        self.started: dict[str, tuple[bool, str, float]] = {}

    def report(self, step: pipeline.StepResult, executed: bool) -> None:
        self.summary.steps.append(step)
        line = self.counter.step(step.run.run_id, executed) + " " + pipeline.format_step(step)
        pipeline._print(line)

    def launch_ready(self) -> bool:
        """Submit every run whose upstream runs all finished; decide skips and blocks.

        Returns:
            Whether any run left the waiting list.
        """
        before = len(self.waiting)
        for run in list(self.waiting):
            if len(self.started) >= self.backend.capacity:
                break
            if any(d.run_id in self.bad for d in run.deps):
                self.waiting.remove(run)
                self.bad.add(run.run_id)
                self.report(
                    pipeline.StepResult(run, "blocked", "an upstream run did not finish"), False
                )
            elif all(d.run_id in self.ok for d in run.deps):
                self.waiting.remove(run)
                action, why = pipeline.decide(run, self.retry_failed)
                if action in ("run", "resume") and self.backend.adopt(
                    run, self.records.get(run.run_id)
                ):
                    why = f"job {self.records[run.run_id]['job_id']} of an earlier sweep"
                    self.started[run.run_id] = (action == "resume", why, time.time())
                    continue
                if action in ("run", "resume"):
                    self.records[run.run_id] = self.backend.submit(run, action == "resume")
                    self.started[run.run_id] = (action == "resume", why, time.time())
                    continue
                (self.ok if action == "skip" else self.bad).add(run.run_id)
                outcome = "skipped" if action == "skip" else "FAILED"
                self.report(pipeline.StepResult(run, outcome, why), False)
        return len(self.waiting) < before

    def collect(self, finished) -> None:
        """Record runs that ended: ok ones unblock their dependants, failed ones block them."""
        for run_id, (good, reason, log) in finished:
            run, (resumed, why, t0) = self.by_id[run_id], self.started.pop(run_id)
            (self.ok if good else self.bad).add(run_id)
            self.records[run_id]["state"] = "done" if good else "failed"
            outcome = ("resumed" if resumed else "ran") if good else "FAILED"
            stamp = run.dir / runs.STAMP
            # Runs overlap: each run's own elapsed time comes from its DONE stamp.
            ran_for = time.time() - t0
            elapsed = io.read_json(stamp)["elapsed_s"] if good and stamp.exists() else ran_for
            step = pipeline.StepResult(run, outcome, why if good else reason, elapsed, log)
            self.report(step, True)


# Headroom of a job's time request over its estimate (the estimate counts training and
# test examples only: model loading, dev evaluations and the report add to it), and the
# least any job asks for.
TIMEOUT_SAFETY = 1.5
TIMEOUT_FLOOR_MIN = 30


def timeouts(estimates: list[dict], plan: list[runs.Run], limit_min: int) -> dict[str, int]:
    """Minutes each run's SLURM job asks for: its estimate with headroom, at most the limit.

    Args:
        estimates: ``estimate`` rows, in plan order.
        plan: The runs.
        limit_min: The partition's time limit per job (``compute.slurm.timeout_min``).

    Returns:
        ``{run_id: minutes}``. A run whose need exceeds the limit asks for the limit and
        finishes over requeued jobs (``max_timeouts``).
    """
    return {
        r.run_id: min(limit_min, need_minutes(e["device_hours"]))
        for r, e in zip(plan, estimates, strict=True)
    }


def need_minutes(device_hours: float) -> int:
    """Wall minutes a run is given for ``device_hours`` of estimated work."""
    return max(TIMEOUT_FLOOR_MIN, math.ceil(device_hours * 60 * TIMEOUT_SAFETY))


def max_timeouts(needs, limit_min: int) -> int:
    """Requeues after a timeout before submitit fails a job (its ``max_num_timeout``).

    Args:
        needs: Minutes each run needs (``need_minutes``, not capped).
        limit_min: The partition's time limit per job.

    Returns:
        What the longest run needs at the limit, plus three spare (preemptions are not
        counted by submitit).
    """
    longest = max([*needs, 1])
    return 3 + max(0, math.ceil(longest / max(1, limit_min)) - 1)


def run_profile(profile: params.Profile, plan: list[runs.Run], retry_failed: bool):
    """Dispatch a plan to the profile's executor."""
    est = estimate(profile, plan)
    weights = {r.run_id: e["device_hours"] * 3600 for r, e in zip(plan, est)}
    if profile.compute.executor == "local":
        return pipeline.execute(plan, retry_failed=retry_failed, weights=weights)
    slurm = dict(profile.compute.slurm)
    limit = int(slurm.get("timeout_min", 1440))
    needs = [need_minutes(e["device_hours"]) for e in est]
    slurm.setdefault("max_num_timeout", max_timeouts(needs, limit))
    return execute_graph(
        plan,
        executor=profile.compute.executor,
        workers=profile.compute.workers,
        slurm=slurm,
        retry_failed=retry_failed,
        weights=weights,
        timeouts=timeouts(est, plan, limit),
    )


# --------------------------------------------------------------------------- cost estimate

# Relative cost of a forward+backward example vs a forward-only example.
TRAIN_VS_INFER = 3.0
# Fixed cost of one run beyond its examples (notebook execution, run record, report.html),
# measured on 2 CPU cores: about 2.6 s a run inside `pipeline.execute_run` for the tiny
# rehearsal encoders. It dominates only profiles of tiny runs (rehearsal, smoke).
RUN_OVERHEAD_S = 2.6


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
            sizes = [_train_size(profile, t) for t in p["tasks"]]
            if "translated" in p["mode"]:
                sizes = [_translated_size(s, p) for s in sizes]
            if p["mode"] == "english+mlm":  # MLM is one more task of the capped mixture
                sizes.append(profile.intermediate.mlm_size)
            n = sum(min(s, 2**17) for s in sizes) if len(sizes) > 1 else sum(sizes)
            examples = n * p["train"]["epochs"]
        elif r.phase == "target":
            spec = xtreme.TARGET_TASKS[p["task"]]
            if spec.train_task:
                n = _train_size(profile, spec.train_task)
                examples = n * p["train"]["epochs"]
            per_lang = _split_size(profile, p["task"], "test", xtreme.EVAL_SIZES[p["task"]])
            examples += len(p["languages"]) * per_lang / TRAIN_VS_INFER
        hours = (examples / ex_s + RUN_OVERHEAD_S) / 3600
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
        f"estimated total: {total:.2f} device-hours (throughput per model from "
        f"compute.throughput, else bench/training.json; plus {RUN_OVERHEAD_S} s a run)"
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


def _split_size(profile, task: str, split: str, official: int) -> int:
    """Rows per language a (task, split) holds under the profile's source (for estimates)."""
    d = profile.data
    if d.source == "mini":
        return d.train_size if split == "train" else d.test_size
    # Both real sources cut each split to `subsample` rows a language (0 = all); only
    # real-split has per-task overrides. A subsample never grows a split past its size.
    n = d.subsample_per_task.get(task, {}).get(split, d.subsample.get(split, 0))
    return min(n, official) if n and official else (n or official)


def _train_size(profile, task: str) -> int:
    return _split_size(profile, task, "train", xtreme.TRAIN_SIZES.get(task, 0))
