"""Ships the notebooks inside the wheel (everything else is in pyproject.toml).

The notebooks live in ``notebooks/`` at the top of the checkout, where analysts open them;
a built wheel carries a copy as ``ccinsight/notebooks/`` so an installed package can run
them from any folder (``ccinsight.config.notebooks_dir``).
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithNotebooks(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install runs the checkout's own notebooks/
            return
        target = Path(self.build_lib, "ccinsight", "notebooks")
        target.mkdir(parents=True, exist_ok=True)
        for notebook in sorted(Path(__file__).parent.joinpath("notebooks").glob("*.ipynb")):
            shutil.copy2(notebook, target / notebook.name)


setup(cmdclass={"build_py": BuildWithNotebooks})
