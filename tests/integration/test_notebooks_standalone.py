"""Phase notebooks outside the pipeline, as a user runs them in Jupyter.

- with its default parameters a notebook runs on its own against the smoke profile in a
  scratch store, building the upstream runs it needs there;
- an executed notebook of the run store re-runs as it is (its injected parameters point
  at real folders) and leaves the store's finished run untouched.
"""

from __future__ import annotations

import nbformat
import papermill
import pytest

from xstilts import cli, io, paths, pipeline, runs


@pytest.fixture()
def stores(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("XSTILTS_SCRATCH", str(tmp_path / "scratch"))
    monkeypatch.delenv("XSTILTS_PIPELINE", raising=False)
    return tmp_path


def _execute(notebook, out, cwd):
    """papermill without injected parameters: the notebook's own defaults, as in Jupyter."""
    papermill.execute_notebook(
        str(notebook), str(out), cwd=str(cwd), progress_bar=False, kernel_name="python3"
    )
    return nbformat.read(out, as_version=4)


def _stderr(nb) -> list[str]:
    return [
        o.text
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stderr"
    ]


def test_data_notebook_runs_with_its_defaults(stores):
    nb = _execute(paths.NOTEBOOKS / "00_data.ipynb", stores / "out.ipynb", paths.NOTEBOOKS)
    (run_dir,) = (stores / "scratch" / "data").iterdir()
    m = runs.read_metrics(run_dir)  # the smoke data, written by the notebook
    assert m["phase"] == "data" and m["files"]
    assert str(stores / "scratch") in m["dataset_dir"]
    assert not (stores / "runs").exists()  # the user's store is not touched
    assert _stderr(nb) == []
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    assert last.outputs == []  # no metrics dict dumped at the end


def test_finished_notebook_of_the_store_reruns_as_it_is(stores):
    _, plan = cli.load("smoke")
    data_run = plan[0]
    summary = pipeline.execute([data_run])
    assert [s.outcome for s in summary.steps] == ["ran"]
    before = (data_run.dir / runs.METRICS).stat().st_mtime_ns
    nb = _execute(data_run.dir / "notebook.ipynb", stores / "rerun.ipynb", data_run.dir)
    assert (data_run.dir / runs.METRICS).stat().st_mtime_ns == before  # store untouched
    copy = stores / "scratch" / "reruns" / "data" / data_run.run_id
    again, first = io.read_json(copy / runs.METRICS), runs.read_metrics(data_run.dir)
    assert (again["cards"], again["files"]) == (first["cards"], first["files"])  # same data
    assert _stderr(nb) == []


@pytest.mark.slow
def test_target_notebook_builds_its_upstream_runs(stores):
    nb = _execute(paths.NOTEBOOKS / "20_target.ipynb", stores / "out.ipynb", paths.NOTEBOOKS)
    scratch = stores / "scratch"
    assert [d.name.split("-")[0] for d in (scratch / "data").iterdir()] == ["smoke"]
    (target,) = (scratch / "target").iterdir()
    m = runs.read_metrics(target)
    assert (m["task"], m["setting"]) == ("xnli", "none")  # the notebook's own defaults
    assert set(m["per_language"]) == {"en", "de", "zh"}
    assert _stderr(nb) == []
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the training curves and the per-language bars
