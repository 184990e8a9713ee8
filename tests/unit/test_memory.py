"""How the command's processes hold memory (ccinsight.memory): Arrow allocates through the C
library, the C library maps large arrays on their own, and a heap's free pages go back.
The C library's behaviour is observed in a fresh interpreter each time, with a control run
that shows what happens without the setting."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import textwrap

import pytest

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the heap settings are the GNU C library's")


def _fresh(code: str, **env) -> dict:
    """Run ``code`` in a new interpreter (helpers ``mmapped()`` and ``rss()`` in scope); the
    JSON it prints last."""
    prelude = textwrap.dedent("""
        import ctypes, json
        class _Info(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in
                        "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
        _libc = ctypes.CDLL("libc.so.6")
        _libc.mallinfo2.restype = _Info
        def mmapped():
            return _libc.mallinfo2().hblkhd
        def rss():
            return int(open("/proc/self/statm").read().split()[1]) * 4096
    """)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "ARROW_DEFAULT_MEMORY_POOL"))}
    done = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True,
                          env=clean | env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


_MAPPED_AFTER_A_LARGE_FREE = """
    from ccinsight import memory
    big = bytearray(24 * 2**20)
    del big  # the C library's own threshold rises to 24 MiB here
    if TUNE:
        memory.tune()
    before = mmapped()
    block = bytearray(6 * 2**20)
    print(json.dumps({"mapped": mmapped() - before}))
"""


@glibc
def test_arrays_from_the_threshold_up_get_their_own_mapping_even_after_a_large_free():
    from ccinsight.memory import MMAP_THRESHOLD

    assert MMAP_THRESHOLD <= 6 * 2**20
    tuned = _fresh(_MAPPED_AFTER_A_LARGE_FREE.replace("TUNE", "True"))
    untuned = _fresh(_MAPPED_AFTER_A_LARGE_FREE.replace("TUNE", "False"))
    assert tuned["mapped"] >= 6 * 2**20  # handed back to the system when freed
    assert untuned["mapped"] == 0  # the control: on the heap, where it may stay resident


@glibc
def test_a_user_s_own_threshold_is_kept():
    found = _fresh(_MAPPED_AFTER_A_LARGE_FREE.replace("TUNE", "True"), MALLOC_MMAP_THRESHOLD_=str(32 * 2**20))
    assert found["mapped"] == 0


@glibc
def test_give_back_returns_a_heap_s_free_pages_below_a_live_block():
    code = """
        from ccinsight import memory
        memory.tune()
        blocks = [bytes(1000) + bytes([i % 256]) for i in range(200_000)]  # about 200 MB of small blocks
        pin = bytes(1000) + b"last"  # one live block above them: the heap's top cannot shrink
        start = rss()
        del blocks
        freed = rss()
        if GIVE:
            memory.give_back()
        print(json.dumps({"start": start, "freed": freed, "after": rss()}))
    """
    given = _fresh(code.replace("GIVE", "True"))
    kept = _fresh(code.replace("GIVE", "False"))
    assert kept["after"] > kept["start"] - 50 * 2**20  # the control: freed, yet still resident
    assert given["after"] < given["start"] - 150 * 2**20


@pytest.fixture
def _arrow_pool(monkeypatch):
    """Arrow's allocator and its environment variable as they were, after the test."""
    import pyarrow as pa

    before = pa.default_memory_pool()
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "recorded")  # so that the test's own setting is undone
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL")
    yield pa
    pa.set_memory_pool(before)


def test_the_command_has_arrow_allocate_through_the_c_library_and_tells_its_kernels(_arrow_pool, tmp_path):
    from ccinsight import cli

    pa = _arrow_pool
    pa.set_memory_pool(pa.mimalloc_memory_pool() if "mimalloc" in pa.supported_memory_backends()
                       else pa.jemalloc_memory_pool())
    assert cli.main(["validate", "--data", str(tmp_path / "none")]) == 2  # even a refused run
    assert pa.default_memory_pool().backend_name == "system"
    assert os.environ["ARROW_DEFAULT_MEMORY_POOL"] == "system"  # kernels and workers started later


def test_a_user_s_choice_of_arrow_allocator_is_kept(_arrow_pool, monkeypatch):
    from ccinsight import memory

    pa = _arrow_pool
    other = next(b for b in pa.supported_memory_backends() if b != "system")
    pa.set_memory_pool(getattr(pa, f"{other}_memory_pool")())
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", other)
    memory.tune()
    assert pa.default_memory_pool().backend_name == other
