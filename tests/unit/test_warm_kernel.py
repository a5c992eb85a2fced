"""The warm kernel is reused across runs, starts each run with an empty namespace, and is
replaced when it died (``xstilts.warm_kernel``)."""

import json
import os
import signal
import time

import nbformat
import papermill
import pytest
from jupyter_client.utils import run_sync

from xstilts import pipeline, warm_kernel


def _notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "language": "python",
        "display_name": "Python 3",
    }
    nb.cells = [nbformat.v4.new_code_cell("out = ''", metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    return path


def _run(nb, tmp_path, out):
    papermill.execute_notebook(
        str(nb),
        str(tmp_path / "executed.ipynb"),
        parameters={"out": str(out)},
        kernel_name="python3",
        progress_bar=False,
        kernel_manager_class=pipeline._kernel_manager_class(),
        engine_name=warm_kernel.ENGINE_NAME,
    )
    return json.loads(out.read_text())


@pytest.fixture
def notebooks(tmp_path):
    report = (
        "import json, os\n"
        "json.dump({'pid': os.getpid(), 'cwd': os.getcwd(), 'leftover': 'secret' in globals()},"
        " open(out, 'w'))"
    )
    first = _notebook(tmp_path / "first.ipynb", "secret = 42\nimport os\nos.chdir('/')", report)
    second = _notebook(tmp_path / "second.ipynb", report)
    yield first, second
    warm_kernel._WARM.shutdown()


def test_kernel_is_reused_with_a_clean_namespace(tmp_path, notebooks):
    first, second = notebooks
    a = _run(first, tmp_path, tmp_path / "a.json")
    b = _run(second, tmp_path, tmp_path / "b.json")
    assert a["pid"] == b["pid"] != os.getpid()  # the same kernel process served both runs
    assert a["leftover"] is True and b["leftover"] is False  # run 1's variable is gone
    assert b["cwd"] == str(pipeline.paths.ROOT)  # run 1's chdir was undone


def test_a_dead_kernel_is_replaced(tmp_path, notebooks):
    first, second = notebooks
    a = _run(first, tmp_path, tmp_path / "a.json")
    os.kill(a["pid"], signal.SIGKILL)  # e.g. the OOM killer, between two runs
    deadline = time.time() + 10
    while run_sync(warm_kernel._WARM.km.is_alive)() and time.time() < deadline:
        time.sleep(0.1)
    b = _run(second, tmp_path, tmp_path / "b.json")
    assert b["pid"] != a["pid"] and b["leftover"] is False


def test_kernels_are_retired_after_max_runs(tmp_path, notebooks, monkeypatch):
    _, second = notebooks
    monkeypatch.setattr(warm_kernel, "MAX_RUNS_PER_KERNEL", 2)
    pids = [_run(second, tmp_path, tmp_path / f"{i}.json")["pid"] for i in range(3)]
    assert pids[0] == pids[1] != pids[2]


def test_fresh_kernels_switch(monkeypatch):
    monkeypatch.delenv(warm_kernel.FRESH_ENV, raising=False)
    assert warm_kernel.enabled()
    monkeypatch.setenv(warm_kernel.FRESH_ENV, "1")
    assert not warm_kernel.enabled()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not open(f"/proc/{pid}/stat").read().split()[2] == "Z"  # a zombie has exited


def test_a_pool_worker_stops_its_kernel_when_it_exits(tmp_path, notebooks):
    # local-parallel workers exit through os._exit, which skips atexit handlers.
    from concurrent.futures import ProcessPoolExecutor

    _, second = notebooks
    with ProcessPoolExecutor(1) as pool:
        pid = pool.submit(_run, second, tmp_path, tmp_path / "w.json").result()["pid"]
        assert _pid_alive(pid)
    deadline = time.time() + 15
    while _pid_alive(pid) and time.time() < deadline:
        time.sleep(0.2)
    assert not _pid_alive(pid)


def test_kernels_are_retired_past_the_memory_bound(tmp_path, notebooks, monkeypatch):
    _, second = notebooks
    a = _run(second, tmp_path, tmp_path / "a.json")
    assert warm_kernel.kernel_rss(warm_kernel._WARM.km) > 10 * 2**20  # a live kernel is read
    monkeypatch.setattr(warm_kernel, "MAX_KERNEL_RSS_BYTES", 10 * 2**20)
    b = _run(second, tmp_path, tmp_path / "b.json")
    assert b["pid"] != a["pid"]


def test_partial_notebook_writes_are_throttled_but_the_last_one_is_kept(
    tmp_path, notebooks, monkeypatch
):
    # A failing run's notebook must still carry its traceback (the final write is forced);
    # quick cells between the first and the last write are not written one by one.
    _, second = notebooks
    writes = []
    real_write = papermill.iorw.write_ipynb
    monkeypatch.setattr(
        papermill.engines, "write_ipynb", lambda nb, path: writes.append(1) or real_write(nb, path)
    )
    failing = _notebook(tmp_path / "failing.ipynb", "a = 1", "b = 2", "c = 3", "1 / 0")
    with pytest.raises(papermill.PapermillExecutionError):
        _run(failing, tmp_path, tmp_path / "unused.json")
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    assert "ZeroDivisionError" in json.dumps(executed.cells[-1].outputs)
    assert 2 <= len(writes) <= 3  # papermill alone writes 2 x 5 cells + 2
