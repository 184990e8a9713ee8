"""ccinsight: notebook suite for contact-center operations analytics.

The package holds all logic; notebooks in ``notebooks/`` hold narrative, a
``parameters`` cell and calls into these modules.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ccinsight")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

from ccinsight.errors import CCInsightError, DataError, ParameterError  # noqa: E402
from ccinsight.findings import record  # noqa: E402

__all__ = ["__version__", "CCInsightError", "DataError", "ParameterError", "record"]
