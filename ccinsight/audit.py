"""What a run stood on: input fingerprints, package versions, the code's commit.

The deck's ``manifest.json`` and the run record at the end of every rendered notebook
both come from here, so an executed notebook is its own audit log: which parameters,
which data (file, size, SHA-256) and which versions produced its numbers.
"""
from __future__ import annotations

import functools
import platform
import subprocess

from ccinsight.config import PACKAGE_CHECKOUT, display_path, resolve_path
from ccinsight.readers import count_rows, sha256, source_files, table_file

#: Packages whose versions are recorded with every run.
RECORDED_PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "lifelines", "duckdb", "pandera", "scikit-learn",
                     "papermill", "nbconvert", "seaborn")


def input_files(data: str, sources: dict | None = None, tables: list[str] | None = None) -> list[dict]:
    """Every input of the given tables (default all): file, size, rows and SHA-256.

    With ``sources``, the files (globs expanded) of each source; a database source is
    listed by its password-free location, without a fingerprint.
    """
    from ccinsight import contract
    from ccinsight.sources import parse

    root = resolve_path(data)
    parsed = parse(sources)
    out = []
    for name in tables or list(contract.TABLES):
        if parsed:
            src = parsed.get(name)
            if src is None:
                continue
            if src.get("url"):
                out.append({"table": name, "source": src.label})
                continue
            try:
                paths = source_files(src)
            except Exception:  # a missing file was reported when the data were read
                paths = []
        else:
            path = table_file(root, name)
            paths = [path] if path is not None else []
        for path in paths:
            entry = {"table": name, "file": display_path(path), "bytes": path.stat().st_size}
            rows = count_rows(path)
            if rows is not None:
                entry["rows"] = rows
            out.append({**entry, "sha256": sha256(path)})
    return out


def changed_inputs(inputs: list[dict]) -> list[str]:
    """Files of an :func:`input_files` record whose content is no longer what it was
    (a changed SHA-256, or gone), as 'agents: data/x.parquet'."""
    changed = []
    for entry in inputs:
        if "sha256" not in entry:
            continue
        path = resolve_path(entry["file"])
        if not path.is_file() or sha256(path) != entry["sha256"]:
            changed.append(f"{entry['table']}: {entry['file']}")
    return changed


def versions() -> dict[str, str]:
    """Python and the recorded packages' versions (read once per process: a deck worker
    records them for every notebook it runs)."""
    return dict(_versions())


@functools.cache
def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in RECORDED_PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


@functools.cache
def git_commit() -> str | None:
    """The checkout's commit, or None outside a git checkout (an installed wheel: its
    version says what code ran, and a git folder around the venv is not its source)."""
    if not (PACKAGE_CHECKOUT / "pyproject.toml").is_file():
        return None
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PACKAGE_CHECKOUT, capture_output=True, text=True,
                             timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None
