"""Kernels kept between the notebooks of a deck.

Starting a kernel and importing what the analyses use (pandas, scipy, statsmodels,
lifelines, matplotlib, seaborn) costs about 3 s per notebook: a fifth of a month's work in a
backfill of 12 months x 7 notebooks. A deck worker therefore keeps one kernel
(:class:`KeptKernel`) and runs its notebooks in it one after another. Before each one the
kernel is put back to how a new kernel looks to a notebook (:func:`restore`): no variables,
execution counts from 1, no figures, matplotlib's settings and the warning filters as they
were when the kernel started, warnings shown again. Imported modules stay: that is the
saving; so do the checked tables it read (:data:`ccinsight.data._CHECKED`, per file: a
changed file is read again), so a backfill reads and checks each file once per worker.
What was imported is hidden from the garbage collector (``gc.freeze``), so each full
collection scans only what the notebooks made. Figures are drawn only for the images shown
(:func:`_one_draw`). The worker talks to the kernel through one
client, connected once. A notebook that fails, runs out of time or kills the kernel gets a
new kernel for the next one, so nothing a failure left behind can reach another notebook.

Single runs (``ccinsight run``) start a kernel of their own, as papermill does.
"""
from __future__ import annotations

from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient

#: What a new kernel held, taken by the first :func:`restore` in it.
_START: dict[str, Any] | None = None

#: Code sent to a kept kernel before each notebook (it binds no name).
RESTORE_CODE = "__import__('ccinsight.kernels').kernels.restore()"

#: Checked tables a kept kernel keeps for its next notebooks (:data:`ccinsight.data._CHECKED`).
#: A kept table is held twice while a notebook uses its copy: on 100M calls a cap of 384 MB
#: kept the 304 MB performance table and the deck's largest process peaked at 1.97 GiB. The
#: default data's largest table (queue intervals, 157 MB) still fits.
KEPT_TABLES_BYTES = 256 * 2**20

#: Seconds a kept kernel may take to start, or to restore itself before a notebook.
START_TIMEOUT_S = 60


def restore() -> None:
    """Run inside a kernel: the first call notes its state, later calls return to it."""
    global _START
    import gc
    import warnings

    import matplotlib
    import matplotlib.pyplot as plt
    from IPython import get_ipython

    from ccinsight import memory

    if _START is None:
        # a notebook's first figure activates the kernel's inline backend (interactive mode, the
        # hook that shows figures after each cell): done here first, so the state noted has it
        plt.figure()
        plt.close("all")
        _one_draw(plt)
        _START = {"rc": matplotlib.rcParams.copy(), "filters": list(warnings.filters)}
        import ccinsight.analyses  # noqa: F401 - imported ahead (a notebook would): modules only, no names
        import seaborn  # noqa: F401
        from ccinsight import data

        data.CHECKED_BYTES = KEPT_TABLES_BYTES  # the months and notebooks here read the same files
        memory.tune()  # what a notebook frees is there for the next one (see ccinsight.memory)
        # what is imported stays for the kernel's life: out of the garbage collector's sight, a
        # full collection (IPython's reset before each notebook; statsmodels' Holm correction
        # makes one per call, ten a month) takes under a millisecond, not 40-100 ms
        gc.collect()
        gc.freeze()
        return
    shell = get_ipython()
    shell.reset(new_session=True)  # variables and cached outputs gone; execution counts start at 1
    plt.close("all")
    _one_draw(plt)
    matplotlib.rcParams.clear()
    matplotlib.rcParams.update(_START["rc"])
    warnings.resetwarnings()  # also forgets which warnings were shown: they show again
    warnings.filters[:] = _START["filters"]
    gc.collect()  # the closed figures too
    memory.give_back()  # the last notebook's freed memory, to the system before the next one


def _one_draw(plt) -> None:
    """Figures drawn only for the images they show. After every cell pyplot's hook renders each
    open figure in full (``draw_all``, for interactive windows), then the inline backend's hook
    draws it again for the image it shows, and closes it: the first rendering is thrown away
    (a third of the time spent on figures; a 12-month backfill 47.8 -> 42.7 s). Figures still
    show, through the inline backend's hook; a notebook's ``plt.ion()`` puts pyplot's hook back
    until the next restore."""
    plt.uninstall_repl_displayhook()


class KeptClient(AsyncKernelClient):
    """The client a kept kernel keeps: connected once, then handed to each notebook's run.

    nbclient starts the channels of the client it gets and waits for it to be ready; for a
    client already connected the first is a no-op and the second a kernel-info round trip,
    not jupyter_client's 0.2 s wait for stray IOPub messages (nbclient reads only its own
    requests' messages, so strays do no harm).
    """

    ready = False

    def start_channels(self, *args, **kwargs) -> None:
        if not self.channels_running:
            super().start_channels(*args, **kwargs)

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        if not self.ready:
            await AsyncKernelClient.wait_for_ready(self, timeout=timeout)
            self.ready = True
            return
        await self._async_recv_reply(self.kernel_info(), timeout=timeout)


class KeptKernel:
    """One kernel, kept for the notebooks one worker runs in turn (see the module's text).

    :meth:`manager` gives the kernel manager papermill runs the next notebook with (a
    restored kernel, or a new one); :meth:`done` says how that run went; :meth:`close`
    ends the kernel. Every run talks to the kernel through one client, connected when the
    kernel starts (a new client per notebook took 0.2-0.5 s to connect).
    """

    def __init__(self, kernel_name: str, manager_class, cwd: str):
        self.kernel_name = kernel_name
        self.manager_class = manager_class  # one that hands out its ``kept_client`` when set
        self.cwd = cwd
        self.km = None

    def start(self) -> None:
        """Start the kernel and import the analyses in it, ahead of the first notebook."""
        self.manager()

    def manager(self):
        from jupyter_core.utils import run_sync

        if self.km is not None and not run_sync(self.km.is_alive)():
            self.close()
        try:
            if self.km is None:
                self.km = self.manager_class(kernel_name=self.kernel_name, client_class="ccinsight.kernels.KeptClient")
                # the history in memory, as nbclient starts its kernels: no file written per run
                run_sync(self.km.start_kernel)(extra_arguments=["--HistoryManager.hist_file=:memory:"], cwd=self.cwd)
                client = self.km.client()
                client.start_channels()
                run_sync(client.wait_for_ready)(timeout=START_TIMEOUT_S)
                self.km.kept_client = client
            reply = run_sync(self.km.kept_client.execute_interactive)(
                RESTORE_CODE, silent=True, store_history=False, timeout=START_TIMEOUT_S, output_hook=lambda msg: None)
        except Exception:
            self.close()
            raise
        if reply["content"]["status"] != "ok":
            content = reply["content"]
            self.close()
            raise RuntimeError(f"the kept kernel could not be restored: {content.get('ename')}: "
                               f"{content.get('evalue')}")
        return self.km

    def done(self, ok: bool) -> None:
        """After a run: replace the kernel after a failure (its state is unknown)."""
        if not ok:
            self.close()

    def close(self) -> None:
        if self.km is None:
            return
        from jupyter_core.utils import run_sync

        km, self.km = self.km, None
        try:
            if km.kept_client is not None:
                try:
                    km.kept_client.stop_channels()
                except Exception:  # a channel of a dead kernel: nothing left to close
                    pass
            if run_sync(km.is_alive)():
                run_sync(km.shutdown_kernel)(now=True)
        finally:
            run_sync(km.cleanup_resources)()
