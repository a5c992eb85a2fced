"""The rehearsal: full's grid end to end on the real XTREME files (plus fixtures), on a CPU.

Fresh run store and an empty xstilts cache (the three tiny encoders are built on first use):
data, every phase-(ii) and phase-(iii) run, the analysis, the HTML index and the paper PDF.
Skips when the real XTREME folder (``paths.xtreme_real()``, ``XSTILTS_XTREME_REAL``) is absent.
``.ci/run`` (and ``invoke test --slow``) runs the ``rehearsal-ci`` cut, which fits the CI
budget; the whole rehearsal is marked ``rehearsal`` and runs with ``pytest -m rehearsal``.
"""

import csv

import pytest

from tests.integration.invoke_runner import invoke, isolated_env
from xstilts import paths, pipeline, runs, xtreme
from xstilts.params import load_profile


def _expected_cells(plan) -> set[tuple]:
    """(model, setting, mode, seed, task) of every target score the plan implies."""
    return {
        (r.params["model_label"], r.params["setting"], r.params["mode"], str(r.params["seed"]), t)
        for r in plan
        if r.phase == "target"
        for t in (r.params["task"], *r.params["also_evaluate"])
    }


def _rehearse(profile_name: str, tmp_path, monkeypatch) -> None:
    real = paths.xtreme_real()
    if not (real / "xnli").is_dir():
        pytest.skip(f"real XTREME files absent ({real}); set XSTILTS_XTREME_REAL")
    env = isolated_env(tmp_path, XSTILTS_CACHE=str(tmp_path / "cache"))
    proc = invoke(["reproduce", "--profile", profile_name], env, timeout=3600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    monkeypatch.setenv("XSTILTS_RUNS", env["XSTILTS_RUNS"])
    profile = load_profile(profile_name)
    plan = pipeline.plan(profile)
    unfinished = [r.key for r in plan if not runs.is_done(r.dir)]
    assert not unfinished, unfinished[:10]
    assert {r.phase for r in plan} == {"data", "intermediate", "target", "analysis"}

    (bundle,) = (tmp_path / "runs" / "analysis").glob("*/bundle")
    with open(bundle / "scores.csv") as f:
        got = {
            (r["model"], r["setting"], r["mode"], r["seed"], r["task"]) for r in csv.DictReader(f)
        }
    missing = _expected_cells(plan) - got
    assert not missing, sorted(missing)[:10]
    assert {c[4] for c in got} == set(xtreme.TARGET_TASKS)  # XQuAD and MLQA apart

    assert (tmp_path / "runs" / "report" / "index.html").is_file()
    assert (tmp_path / "paper" / "build" / "paper.pdf").stat().st_size > 10_000
    table = (tmp_path / "paper" / "generated" / "table_main.tex").read_text()
    settings = [*xtreme.INTERMEDIATE_TASKS, "multitask"]
    assert len(settings) == 10
    assert all(s.replace("_", r"\_") in table for s in settings), table


@pytest.mark.slow
def test_rehearsal_ci_cut_runs_end_to_end(tmp_path, monkeypatch):
    """CI: every phase-(ii) run of one seed, and every target on every architecture."""
    _rehearse("rehearsal-ci", tmp_path, monkeypatch)


@pytest.mark.rehearsal
def test_whole_rehearsal_runs_end_to_end(tmp_path, monkeypatch):
    """The whole rehearsal (1,346 runs; about 35 min on 2 idle cores): `pytest -m rehearsal`."""
    _rehearse("rehearsal", tmp_path, monkeypatch)
