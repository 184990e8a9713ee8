"""How a run's processes hold memory: Arrow's allocator and the C library's heap.

A deck's kept kernel (:mod:`ccinsight.kernels`) runs notebook after notebook, and the command
checks tables a batch at a time: what one step frees should be there for the next step, or
for the machine, not kept by an allocator. Measured on 20M calls, the seven deck notebooks
in one process (largest resident set per notebook, bench/scale_bench.py for whole decks):

- Arrow's own allocator (mimalloc in pyarrow 26, jemalloc before) kept what it freed: a
  notebook peaked 110-200 MiB higher than with the C library's allocator, as fast.
- The C library puts arrays of up to 32 MB on its heap once a large one has been freed, and
  a heap with one live block above freed ones keeps them all: 200-330 MiB free but resident
  after the first notebook. Arrays from :data:`MMAP_THRESHOLD` up get their own mapping,
  handed back when freed; and a kept kernel hands back its heap's free pages before each
  notebook (:func:`give_back`). With both, the notebooks after the first peaked at 537-674 MiB,
  not 850-935, in the same time.

Elsewhere than on the GNU C library, only Arrow's allocator is chosen. A user's own
``ARROW_DEFAULT_MEMORY_POOL`` or ``MALLOC_MMAP_THRESHOLD_`` is kept.
"""
from __future__ import annotations

import ctypes
import os
import platform

#: Arrow's allocator for the command and the kernels and workers it starts.
ARROW_MEMORY_POOL = "system"

#: Bytes from which the C library gives an allocation its own mapping (its default starts at
#: 128 KiB and rises to 32 MiB as large arrays are freed).
MMAP_THRESHOLD = 4 * 2**20

_M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from glibc's malloc.h


def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def tune() -> None:
    """Set this process's allocators as the module's text says; the processes it starts
    inherit the choice of Arrow's allocator (a kept kernel tunes itself too)."""
    import pyarrow as pa

    pool = os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", ARROW_MEMORY_POOL)
    if pool == "system":  # this process chose its allocator when pyarrow was imported
        pa.set_memory_pool(pa.system_memory_pool())
    libc = _glibc()
    if libc is not None and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def give_back() -> None:
    """Hand the free pages of the C library's heap back to the system (a no-op elsewhere)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
