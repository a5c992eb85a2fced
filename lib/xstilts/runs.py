"""The run store: one folder per run, one written contract.

Layout of ``runs/<phase>/<run_id>/`` (documented in the README)::

    params.yaml          resolved parameters the notebook ran with (written first)
    fingerprint.json     what the run_id hashes: cell, params, upstream run ids, code versions
    checkpoint/          resumable training state (safetensors + JSON), phases ii and iii only;
                         deleted with best/ once DONE is written (``Run.scratch``)
    encoder/             phase ii only: the trained encoder handed to phase iii (safetensors)
    metrics.json         results (written by the notebook through ``write_metrics``)
    notebook.ipynb       the executed notebook (a log; never parsed for results)
    report.html          the notebook rendered by nbconvert, code hidden
    DONE                 JSON stamp written last: finished run, elapsed time
    FAILED.json          written instead of DONE when the notebook raised

``run_id`` is ``<readable cell name>-<hash>``, where the hash covers the resolved params,
the upstream run ids, the notebook's source and the ``lib/xstilts`` code that notebook
executes (``xstilts.codehash``: its import closure and the resources those modules name). A run
whose ``DONE`` exists is skipped; a run folder without ``DONE`` is resumed (the trainer
picks up ``checkpoint/``). Every file is written atomically (``xstilts.io``).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import yaml

from xstilts import codehash, io, paths

STAMP = "DONE"
FAILED = "FAILED.json"
METRICS = "metrics.json"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of every source and resource file of ``lib/xstilts`` (what a report renders with).

    Run ids use the narrower ``codehash.code_version`` of the run's notebook instead.
    """
    h = hashlib.sha256()
    for p in sorted(paths.LIB.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
            h.update(str(p.relative_to(paths.LIB)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def notebook_version(notebook: Path) -> str:
    """Hash of a notebook's cell sources (outputs and metadata are ignored)."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    text = "\n\x00".join(
        c["cell_type"] + ":" + "".join(c.get("source", "")) for c in nb.get("cells", [])
    )
    return _sha(text.encode())[:16]


def canonical(obj) -> str:
    """Canonical JSON used for hashing (sorted keys, no whitespace)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", str(value)).strip("-")


@dataclass
class Run:
    """One notebook execution of the plan.

    Attributes:
        phase: ``data``, ``intermediate``, ``target`` or ``analysis``.
        cell: Identifying coordinates (model, setting, mode, seed, task); the readable name.
        params: Notebook parameters, except ``run_dir`` and upstream folders.
        deps: Upstream runs this run reads from.
        notebook: The notebook file to execute.
        scratch: Subfolders needed only while the run is unfinished (resume state such as
            ``checkpoint/`` and ``best/``), deleted once ``DONE`` is written. Not part of
            the run id.

    """

    phase: str
    cell: dict
    params: dict
    notebook: Path
    deps: list[Run] = field(default_factory=list)
    scratch: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """Readable prefix of the run id, e.g. ``e5-L12_mnli_english_s0_xnli``."""
        parts = [_slug(v) for v in self.cell.values()]
        return "_".join(parts) if parts else self.phase

    def fingerprint(self) -> dict:
        """The inputs of the run id, computed once per Run object.

        Freezing it at plan time means a run id cannot change while a sweep runs (e.g. when
        a file is edited mid-sweep, workers would otherwise hash the new sources).
        """
        if "_fingerprint" in self.__dict__:
            return self.__dict__["_fingerprint"]
        self.__dict__["_fingerprint"] = fp = {
            "phase": self.phase,
            "cell": self.cell,
            "params_hash": _sha(canonical(self.params).encode())[:16],
            "deps": {d.key: d.run_id for d in self.deps},
            "notebook": notebook_version(self.notebook),
            # Only the code this run executes (its notebook's import closure): editing a
            # template or the claims registry must not re-queue training runs.
            "code": codehash.code_version(Path(self.notebook).resolve()),
        }
        return fp

    @cached_property
    def run_id(self) -> str:
        """``<name>-<12 hex>``: content address of params, upstream, notebook and code."""
        return f"{self.name}-{_sha(canonical(self.fingerprint()).encode())[:12]}"

    @property
    def key(self) -> str:
        """Identity of the cell regardless of content (used to explain staleness)."""
        return f"{self.phase}/{self.name}"

    @property
    def dir(self) -> Path:
        """The run folder."""
        return paths.run_dir(self.phase, self.run_id)

    def upstream_dirs(self) -> dict[str, str]:
        """Folders of the upstream runs, keyed by phase (passed to the notebook)."""
        return {f"{d.phase}_dir": str(d.dir) for d in self.deps}


def is_done(run_dir: Path) -> bool:
    """True when the run finished (its ``DONE`` stamp exists)."""
    return (Path(run_dir) / STAMP).exists()


def state(run: Run) -> tuple[str, str]:
    """Return ``(state, reason)``: done / failed / partial / stale / pending.

    ``stale`` means an earlier finished run of the same cell exists but its inputs changed;
    the reason says which input (params, upstream, notebook, code).
    """
    d = run.dir
    if is_done(d):
        return "done", "finished run with identical params, upstream and code"
    if (d / FAILED).exists():
        info = io.read_json(d / FAILED)
        return "failed", info.get("reason", "failed")
    if d.exists():
        return "partial", "interrupted run found; it resumes from its checkpoint"
    old = previous_runs(run)
    if old:
        return "stale", "changed since the last finished run: " + explain_change(run, old[0])
    return "pending", "never run"


def previous_runs(run: Run) -> list[Path]:
    """Finished run folders of the same cell with a different run id (newest first)."""
    phase_dir = paths.runs_root() / run.phase
    if not phase_dir.exists():
        return []
    prefix = run.name + "-"
    found = [
        p
        for p in phase_dir.iterdir()
        if p.name.startswith(prefix)
        and len(p.name) == len(prefix) + 12
        and p.name != run.run_id
        and is_done(p)
    ]
    return sorted(found, key=lambda p: (p / STAMP).stat().st_mtime, reverse=True)


def explain_change(run: Run, old_dir: Path) -> str:
    """Which fingerprint components differ from an older run folder."""
    try:
        old = io.read_json(old_dir / "fingerprint.json")
    except (OSError, ValueError):
        return "unknown (old fingerprint unreadable)"
    new = run.fingerprint()
    labels = {
        "params_hash": "params",
        "deps": "upstream runs",
        "notebook": "notebook source",
        "code": "lib/ code",
    }
    changed = [label for k, label in labels.items() if old.get(k) != new.get(k)]
    return ", ".join(changed) or "nothing (same inputs)"


def prepare(run: Run) -> Path:
    """Create the run folder and write ``params.yaml`` and ``fingerprint.json`` atomically."""
    d = run.dir
    d.mkdir(parents=True, exist_ok=True)
    resolved = {"phase": run.phase, "run_id": run.run_id, "cell": run.cell, **run.params}
    io.atomic_write_text(d / "params.yaml", yaml.safe_dump(resolved, sort_keys=True))
    io.atomic_write_json(d / "fingerprint.json", run.fingerprint())
    if (d / FAILED).exists():
        (d / FAILED).unlink()
    return d


def write_metrics(run_dir: str | Path, metrics: dict) -> Path:
    """Write ``metrics.json`` atomically (called from notebooks via ``lib``)."""
    return io.atomic_write_json(Path(run_dir) / METRICS, metrics)


def read_metrics(run_dir: str | Path) -> dict:
    """Read a finished run's ``metrics.json``."""
    return io.read_json(Path(run_dir) / METRICS)


def mark_done(run_dir: Path, elapsed_s: float, resumed: bool) -> None:
    """Write the ``DONE`` stamp, the last file of a finished run."""
    io.atomic_write_json(
        Path(run_dir) / STAMP,
        {
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "elapsed_s": elapsed_s,
            "resumed": resumed,
        },
    )


def mark_failed(run_dir: Path, reason: str, log: Path | None) -> None:
    """Record a failure with its reason and the log path; the sweep goes on."""
    io.atomic_write_json(
        Path(run_dir) / FAILED,
        {
            "reason": reason,
            "log": str(log) if log else None,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )


def describe_resume(run_dir: str | Path) -> str:
    """One line for the notebook's skip-or-resume cell: fresh run or resuming from a checkpoint."""
    # The trainer's checkpoint (xstilts.train.find_checkpoint: checkpoint/, or checkpoint.old
    # after a kill between its two renames); its step is where training resumes.
    found = [Path(run_dir) / d / "trainer_state.json" for d in ("checkpoint", "checkpoint.old")]
    ckpt = next((f for f in found if f.exists()), found[0])
    if is_done(run_dir):
        return "finished already (DONE present): the pipeline would skip this run"
    if ckpt.exists():
        try:
            step = io.read_json(ckpt).get("step", "?")
        except (OSError, ValueError):
            step = "?"
        return f"resuming from checkpoint at step {step}"
    return "fresh run: no checkpoint found"


def discard_scratch(run: Run) -> None:
    """Delete the scratch subfolders of a finished run (``Run.scratch``); a no-op otherwise."""
    if not is_done(run.dir):
        return  # an unfinished run resumes from them
    for name in run.scratch:
        shutil.rmtree(run.dir / name, ignore_errors=True)


def tidy(plan: list[Run]) -> None:
    """Remove what a killed earlier invocation left behind.

    That is temp files of dead writers (``io``) and scratch folders of runs that finished
    just before the kill.
    """
    for r in plan:
        if r.dir.exists():
            io.remove_orphan_temp_files(r.dir)
            discard_scratch(r)
