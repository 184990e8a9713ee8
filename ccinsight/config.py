"""One place for paths and defaults.

Two kinds of relative path, as in every command-line tool:

- **given on the command line** (``--data``, ``--params``, ``--out``): relative to the
  current folder (:func:`cli_path`);
- **inside a params file or a notebook's parameters** (``data: data/synthetic``, a
  source's ``file``): relative to the *project folder* (:func:`resolve_path`), so a
  notebook behaves the same whether JupyterLab runs it from ``notebooks/`` or papermill
  from the project root.

The project folder is ``$CCINSIGHT_HOME`` (``ccinsight --project DIR`` sets it), else the
nearest folder at or above the current one holding ``params/`` and ``notebooks/``, else
the current folder. Defaults (``data/synthetic``, ``outputs``, ``params/monthly.yaml``)
live there, never inside the installed package.
"""
from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the project folder (set by ``ccinsight --project``).
HOME_ENV = "CCINSIGHT_HOME"

#: The source checkout this package runs from (an editable install); its notebooks are
#: used when the project folder has none of its own.
PACKAGE_CHECKOUT = Path(__file__).resolve().parents[1]

#: Name of the Jupyter kernel ``make`` registers for the project's virtualenv.
KERNEL_NAME = "ccinsight"

#: Default seed of the synthetic contact center; every random draw derives from it.
DEFAULT_SEED = 2024

#: Groups smaller than this are pooled or suppressed in reviewer-facing outputs.
MIN_CELL_SIZE = 5

#: Default locations, relative to the project folder.
SYNTHETIC = "data/synthetic"
OUTPUTS = "outputs"
MONTHLY_PARAMS = "params/monthly.yaml"


def _is_project(folder: Path) -> bool:
    return (folder / "params").is_dir() and (folder / "notebooks").is_dir()


def project_root() -> Path:
    """The project folder: ``$CCINSIGHT_HOME``, the nearest enclosing project, or the current folder."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser().resolve()
    here = Path.cwd().resolve()
    return next((f for f in (here, *here.parents) if _is_project(f)), here)


#: The notebooks a built wheel carries (``setup.py`` copies them in).
PACKAGED_NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


def notebooks_dir() -> Path:
    """The project's ``notebooks/``; else those of the checkout the package runs from (an
    editable install); else the copies an installed wheel carries."""
    for folder in (project_root() / "notebooks", PACKAGE_CHECKOUT / "notebooks"):
        if folder.is_dir():
            return folder
    return PACKAGED_NOTEBOOKS


def synthetic_dir() -> Path:
    return project_root() / SYNTHETIC


def outputs_dir() -> Path:
    return project_root() / OUTPUTS


def monthly_params() -> Path:
    return project_root() / MONTHLY_PARAMS


def cli_path(path: str | os.PathLike) -> Path:
    """A path given on the command line: relative ones start at the current folder."""
    return Path(path).expanduser().absolute()


def resolve_path(path: str | os.PathLike) -> Path:
    """A path from a params file or notebook parameter: relative ones start at the project folder."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else project_root() / p


def display_path(path: str | os.PathLike) -> str:
    """``path`` relative to the project folder when inside it (or a neighbour), for messages."""
    try:
        p = Path(path).resolve()
    except (OSError, RuntimeError):  # a symbolic-link loop: show the path as given
        p = Path(os.path.abspath(path))
    root = project_root()
    try:
        return str(p.relative_to(root))
    except ValueError:
        pass
    try:  # a neighbour of the checkout (../shared/data/x.csv) reads better relative
        rel = os.path.relpath(p, root)
    except ValueError:  # another drive on Windows
        return str(p)
    return rel if rel.count("..") <= 1 else str(p)
