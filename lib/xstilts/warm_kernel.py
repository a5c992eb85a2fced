"""One warm notebook kernel per worker process, reused across runs.

Starting a kernel and importing torch, transformers and xstilts costs 4-5 s of CPU per
notebook on the developers' 2-core machine, about a fifth of the mini sweep. A worker
process (the pipeline's own process, or one of the ``local-parallel`` pool) therefore
keeps one kernel alive and hands it to papermill run after run, through the
``xstilts-warm`` papermill engine registered here.

Isolation between runs: before each notebook the kernel's user namespace is cleared
(``%reset -f``), the working directory is reset and garbage is collected. Imported modules
stay loaded, which is the point. Every run seeds its own RNGs and sets its own thread
count (``phases.common.setup``), so results do not depend on what ran before in the same
kernel; the slow determinism test compares a warm-kernel sweep with a fresh-kernel one.
A kernel that died is replaced. A kernel is retired when its resident memory passes
``MAX_KERNEL_RSS_BYTES`` (whatever a library may leak is bounded by memory, which is what a
leak costs), or after ``MAX_RUNS_PER_KERNEL`` runs. Retiring is not free: a new kernel
imports torch, transformers and the phase modules again, 10 to 15 s on 2 cores, which
retiring every 40 runs made a tenth of the rehearsal's 1,346 tiny runs.

``XSTILTS_FRESH_KERNELS=1`` switches reuse off (one fresh kernel per run, as papermill
does by default), e.g. to rule reuse out when debugging a run.
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import os

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import (
    NBClientEngine,
    NotebookExecutionManager,
    catch_nb_assignment,
    papermill_engines,
)

from xstilts import paths

ENGINE_NAME = "xstilts-warm"
FRESH_ENV = "XSTILTS_FRESH_KERNELS"
MAX_RUNS_PER_KERNEL = 1000
MAX_KERNEL_RSS_BYTES = 6 * 2**30  # a quarter of the 24 GiB machine; e5-L12 runs use ~2
# papermill writes the whole executed notebook at the start and end of every cell: 20
# writes of 6 ms per run, a third of the fixed cost of a tiny run on a warm kernel.
SAVE_EVERY_S = 5.0

# Executed silently before each notebook. `%reset -f` drops the previous run's variables
# (models, data, tensors) and runs a full gc.collect() itself. gc.freeze() then moves what
# survives (imported modules, caches) out of the collector's view: later collections scan
# only new objects. Two full collections over the imported transformers/torch heap cost
# about 4% of the mini job's kernel time (py-spy); one collection plus freeze costs less.
_RESET_CODE = (
    "get_ipython().run_line_magic('reset', '-f')\n"
    f"import os as _os, gc as _gc; _os.chdir({str(paths.ROOT)!r}); _gc.freeze(); del _os, _gc"
)


class _WarmKernel:
    """The kernel manager kept alive in this process, with its run count."""

    def __init__(self) -> None:
        self.km = None
        self.runs = 0

    def acquire(self, manager_class, kernel_name: str, start_timeout: float):
        """A started, live kernel manager (starting or replacing one when needed)."""
        from jupyter_client.utils import run_sync

        if self.km is not None and (
            self.runs >= MAX_RUNS_PER_KERNEL
            or kernel_rss(self.km) > MAX_KERNEL_RSS_BYTES
            or not run_sync(self.km.is_alive)()
        ):
            self.shutdown()
        if self.km is None:
            self.km = manager_class(kernel_name=kernel_name)
            run_sync(self.km.start_kernel)(cwd=str(paths.ROOT))
            self.runs = 0
            # Worker processes of a pool exit through os._exit, which skips atexit but
            # runs multiprocessing's finalizers; the main process runs atexit.
            multiprocessing.util.Finalize(self, _WarmKernel.shutdown, args=(self,), exitpriority=10)
        self.runs += 1
        return self.km

    def shutdown(self) -> None:
        """Stop the kernel (if any); the next ``acquire`` starts a new one."""
        from jupyter_client.utils import run_sync

        km, self.km = self.km, None
        if km is None:
            return
        try:
            run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - a kernel that is already gone is fine
            pass


def kernel_rss(km) -> int:
    """Resident memory of ``km``'s kernel process in bytes (0 when it cannot be read)."""
    import psutil

    pid = getattr(getattr(km.provisioner, "process", None), "pid", None)
    try:
        return psutil.Process(pid).memory_info().rss if pid else 0
    except psutil.Error:  # gone: is_alive replaces it
        return 0


_WARM = _WarmKernel()
atexit.register(_WARM.shutdown)


def enabled() -> bool:
    """Whether runs reuse this process's warm kernel (``XSTILTS_FRESH_KERNELS`` unset)."""
    return os.environ.get(FRESH_ENV, "") not in ("1", "true", "yes")


class _ResettingClient(PapermillNotebookClient):
    """papermill's client that clears the kernel's namespace before the first cell."""

    def papermill_execute_cells(self):
        reply = self.wait_for_reply(self.kc.execute(_RESET_CODE, silent=True, store_history=False))
        if reply is None or reply["content"].get("status") != "ok":
            raise RuntimeError(f"could not reset the warm kernel: {reply and reply['content']}")
        return super().papermill_execute_cells()


class _ThrottledSaves(NotebookExecutionManager):
    """The papermill execution manager, writing the partial notebook every few seconds at most.

    The first and the final write always happen (``notebook_complete`` runs on failure too,
    so a failed run's notebook still shows its traceback); between them, a cell boundary
    writes only when ``SAVE_EVERY_S`` passed since the last write. A long cell still has
    papermill's own output-driven autosave.
    """

    forced = True  # until notebook_start has written once

    @catch_nb_assignment
    def save(self, **kwargs):
        if self.forced or (self.now() - self.last_save_time).total_seconds() >= SAVE_EVERY_S:
            super().save(**kwargs)
            self.forced = False

    def notebook_complete(self, **kwargs):
        self.forced = True
        super().notebook_complete(**kwargs)


class WarmKernelEngine(NBClientEngine):
    """papermill engine that executes on this process's warm kernel."""

    @classmethod
    def execute_notebook(
        cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False, **kwargs
    ):
        """The same as papermill's ``Engine.execute_notebook``, with ``_ThrottledSaves``."""
        kwargs.pop("autosave_cell_every", None)
        nb_man = _ThrottledSaves(
            nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output
        )
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        **kwargs,
    ):
        """Execute ``nb_man``'s notebook; the kernel outlives the run, the client does not."""
        manager_class = kwargs.pop("kernel_manager_class")
        kwargs.pop("input_path", None)
        kwargs.pop("cwd", None)  # the kernel was started in paths.ROOT; reset keeps it there
        km = _WARM.acquire(manager_class, kernel_name, start_timeout)
        client = _ResettingClient(
            nb_man,
            km=km,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            **kwargs,
        )
        try:
            return client.execute()
        finally:
            if client.kc is not None:
                client.kc.stop_channels()  # one client per run; the kernel stays


papermill_engines.register(ENGINE_NAME, WarmKernelEngine)
