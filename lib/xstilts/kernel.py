"""What a phase notebook's kernel needs besides its parameters (``run_params.check`` calls it).

Three situations, one code path:

- **The pipeline runs it** (``invoke``): parameters are injected by papermill; the kernel's
  environment carries ``XSTILTS_PIPELINE`` (``PIPELINE_KERNEL_ENV``).
- **Opened in Jupyter with its defaults** (``run_dir`` empty): the smoke profile is planned
  in a scratch store (``paths.scratch_root()``), the upstream runs this notebook needs are
  executed there through the ordinary pipeline, and the parameters of the matching plan
  run are used: ``invoke lab``, open ``notebooks/20_target.ipynb``, run all.
- **A finished notebook of the run store re-run in Jupyter**: its injected parameters point
  at real folders; the run's own folder is finished (``DONE``), so the re-run writes into
  a scratch copy instead and the store's results stay as the pipeline wrote them.

In every case progress bars (tqdm, Hugging Face) are switched off: executed notebooks are
logs that researchers read, and bars only add red stderr boxes to the HTML reports.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from xstilts import paths

PIPELINE_ENV = "XSTILTS_PIPELINE"
PIPELINE_KERNEL_ENV = {PIPELINE_ENV: "1"}  # added to the environment of pipeline kernels
STANDALONE_PROFILE = "smoke"  # small enough to build a notebook's upstream runs in minutes
MATCH_KEYS = ("model", "setting", "mode", "task", "seed")  # how defaults pick a plan run


def quiet() -> None:
    """Switch off progress bars and the tqdm widget warning for this kernel.

    Environment variables act on libraries imported later (``transformers`` reads
    ``HF_HUB_DISABLE_PROGRESS_BARS`` at import); already imported ones are told directly.
    """
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    # tqdm.auto warns once per kernel when ipywidgets is missing; with bars off it is noise.
    warnings.filterwarnings("ignore", message="IProgress not found")
    try:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    except ImportError:  # pragma: no cover - huggingface_hub comes with transformers
        pass
    import sys

    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


def in_pipeline() -> bool:
    """Whether this kernel was started by the pipeline (``pipeline.execute_run``)."""
    return os.environ.get(PIPELINE_ENV) == "1"


def _closure(run, plan: list) -> list:
    """``run``'s upstream runs, transitively, in plan (topological) order."""
    needed: set[str] = set()
    frontier = list(run.deps)
    while frontier:
        r = frontier.pop()
        if r.run_id not in needed:
            needed.add(r.run_id)
            frontier.extend(r.deps)
    return [r for r in plan if r.run_id in needed]


def pick_run(plan: list, phase: str, values: dict):
    """The run of ``phase`` whose cell agrees most with the notebook's default values."""
    candidates = [r for r in plan if r.phase == phase]

    def agreement(r) -> int:
        return sum(k in r.params and r.params[k] == values.get(k) for k in MATCH_KEYS)

    return max(candidates, key=agreement)  # max keeps the first of equals (plan order)


def standalone_parameters(phase: str, values: dict) -> dict:
    """Plan the smoke profile in the scratch store, build the upstream runs, return parameters.

    Args:
        phase: The notebook's phase.
        values: The notebook's namespace; its defaults pick the plan run (``MATCH_KEYS``).

    Returns:
        The parameters the pipeline would inject for that run (real folders).

    Raises:
        RuntimeError: If an upstream run fails (its log path is printed above).
    """
    from xstilts import params, pipeline

    store = paths.scratch_root()
    os.environ["XSTILTS_RUNS"] = str(store)  # this kernel and the upstream kernels use it
    plan = pipeline.plan(params.load_profile(STANDALONE_PROFILE))
    run = pick_run(plan, phase, values)
    print(
        f"no run_dir given: standalone {phase} run {run.name} of the {STANDALONE_PROFILE} "
        f"profile in the scratch store {store}"
    )
    upstream = _closure(run, plan)
    if upstream:
        summary = pipeline.execute(upstream)
        if summary.failures:
            raise RuntimeError(f"{len(summary.failures)} upstream run(s) failed; see above")
    return pipeline.notebook_parameters(run)


def rerun_dir(run_dir: str) -> str:
    """Folder a re-run outside the pipeline writes to: the run's own unless it is finished."""
    from xstilts import runs

    folder = Path(run_dir)
    if in_pipeline() or not runs.is_done(folder):
        return run_dir
    copy = paths.scratch_root() / "reruns" / folder.parent.name / folder.name
    copy.mkdir(parents=True, exist_ok=True)
    print(
        f"{folder} is a finished run of the store; this re-run writes to {copy} "
        "and leaves the store's results as they are"
    )
    return str(copy)
