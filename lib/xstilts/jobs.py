"""Job records of a sweep: which job executes which run, in what state, with which log.

The sweep driver (``xstilts.sweep``) writes one record per submitted run into
``<runs>/_jobs.json`` (atomically; only the driver writes it). A SLURM job that is
requeued (timeout or preemption, submitit's ``checkpoint``) leaves ``REQUEUED.json`` in
its run folder with the count, so the record survives the driver. ``invoke status``
reads both, refreshes the state of unfinished SLURM jobs from the scheduler (through
submitit), and prints each run with its job's state and log path.

Job states: ``pending`` (queued), ``running``, ``requeued`` (timed out or preempted,
waiting to resume from its checkpoint), ``done``, ``failed``.
"""

from __future__ import annotations

import time
from pathlib import Path

from xstilts import io, paths, runs

REGISTRY = "_jobs.json"
REQUEUED = "REQUEUED.json"
STATES = ("pending", "running", "requeued", "done", "failed")

# SLURM job states (sacct / squeue names, as submitit reports them) -> ours.
_SLURM_STATES = {
    "PENDING": "pending",
    "CONFIGURING": "pending",
    "RUNNING": "running",
    "COMPLETING": "running",
    "COMPLETED": "done",
    "REQUEUED": "requeued",
    "REQUEUE_HOLD": "requeued",
    "REQUEUE_FED": "requeued",
    "PREEMPTED": "requeued",
    "TIMEOUT": "requeued",  # submitit requeues a timed-out Checkpointable job
    "RESIZING": "running",
    "SUSPENDED": "pending",
}
# submitit's local executor: a process that runs or has ended.
_LOCAL_STATES = {"RUNNING": "running", "FINISHED": "done", "INTERRUPTED": "failed"}


def registry_path() -> Path:
    """``<runs root>/_jobs.json``."""
    return paths.runs_root() / REGISTRY


def load() -> dict[str, dict]:
    """All job records, keyed by run id (empty when no sweep submitted jobs here)."""
    path = registry_path()
    return io.read_json(path) if path.is_file() else {}


def save(records: dict[str, dict]) -> None:
    """Write the records atomically."""
    path = registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    io.atomic_write_json(path, records)


def new_record(run: runs.Run, executor: str, job_id: str, log: str | None, state: str) -> dict:
    """A record for a job just submitted."""
    return {
        "phase": run.phase,
        "executor": executor,
        "job_id": str(job_id),
        "log": log,
        "state": state,
        "submitted": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def map_state(executor: str, raw: str, requeues: int = 0) -> str:
    """Our state for a scheduler's raw state (``CANCELLED by 123`` -> ``failed``)."""
    word = str(raw).split()[0].upper() if raw else "UNKNOWN"
    table = _SLURM_STATES if executor == "slurm" else _LOCAL_STATES
    state = table.get(word, "failed" if executor == "slurm" else "running")
    if state == "pending" and requeues:
        return "requeued"  # back in the queue after a timeout or preemption
    return state


def mark_requeued(run_dir: Path) -> int:
    """Count one requeue of the run's job (called in the job, at submitit's checkpoint)."""
    path = Path(run_dir) / REQUEUED
    n = requeues(run_dir) + 1
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    io.atomic_write_json(path, {"requeues": n, "last": time.strftime("%Y-%m-%dT%H:%M:%S")})
    return n


def requeues(run_dir: Path) -> int:
    """How often the run's job was requeued (0 if never)."""
    path = Path(run_dir) / REQUEUED
    return int(io.read_json(path)["requeues"]) if path.is_file() else 0


def refresh(records: dict[str, dict], folder: Path, run_dirs: dict[str, Path]) -> dict:
    """Ask SLURM (through submitit) for the state of every unfinished SLURM job."""
    live = [k for k, r in records.items() if r["executor"] == "slurm" and r["state"] not in (
        "done", "failed")]  # fmt: skip
    if not live:
        return records
    from submitit import SlurmJob

    for key in live:
        rec = records[key]
        raw = SlurmJob(folder=str(folder), job_id=rec["job_id"]).state
        rec["state"] = map_state("slurm", raw, requeues(run_dirs[key]) if key in run_dirs else 0)
    return records


def status_lines(plan: list[runs.Run], records: dict[str, dict]) -> list[str]:
    """``invoke status``: each run's store state, and its job's state, id and log if any."""
    lines = []
    for run in plan:
        st, why = runs.state(run)
        rec = records.get(run.run_id)
        job = ""
        if rec is not None:
            n = requeues(run.dir)
            again = f", requeued {n}x" if n else ""
            job = f"  [job {rec['job_id']} ({rec['executor']}): {rec['state']}{again}; log {rec['log']}]"
        lines.append(f"{run.phase:<12} {run.run_id:<62} {st:<8} {why}{job}")
    return lines
