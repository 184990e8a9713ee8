"""``python -m ccinsight`` is the ``ccinsight`` command."""
import sys

from ccinsight.cli import main

sys.exit(main())
