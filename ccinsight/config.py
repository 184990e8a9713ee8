"""One place for paths and defaults.

Relative paths given by a user (``data/synthetic``, ``params/x.yaml``) are resolved
against the project root, so a notebook behaves the same whether JupyterLab runs it
from ``notebooks/`` or papermill runs it from the root.
"""
from __future__ import annotations

import os
from pathlib import Path

#: The checkout this package was installed from (editable install), or the
#: folder named by ``CCINSIGHT_HOME``.
PROJECT_ROOT = Path(os.environ.get("CCINSIGHT_HOME", Path(__file__).resolve().parents[1]))

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
PARAMS_DIR = PROJECT_ROOT / "params"
DATA_DIR = PROJECT_ROOT / "data"
SYNTHETIC_DIR = DATA_DIR / "synthetic"
OUTPUTS_DIR = PROJECT_ROOT / "outputs"

#: Name of the Jupyter kernel ``make`` registers for the project's virtualenv.
KERNEL_NAME = "ccinsight"

#: Default seed of the synthetic contact center; every random draw derives from it.
DEFAULT_SEED = 2024

#: Groups smaller than this are pooled or suppressed in reviewer-facing outputs.
MIN_CELL_SIZE = 5


def resolve_path(path: str | os.PathLike) -> Path:
    """Return ``path`` as an absolute path, relative ones taken from the project root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else PROJECT_ROOT / p


def display_path(path: str | os.PathLike) -> str:
    """Return ``path`` relative to the project root when inside it, for messages."""
    p = Path(path).resolve()
    root = PROJECT_ROOT.resolve()
    try:
        return str(p.relative_to(root))
    except ValueError:
        pass
    try:  # a neighbour of the checkout (../shared/data/x.csv) reads better relative
        rel = os.path.relpath(p, root)
    except ValueError:  # another drive on Windows
        return str(p)
    return rel if rel.count("..") <= 1 else str(p)
