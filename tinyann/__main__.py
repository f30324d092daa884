"""``python -m tinyann``: the same as the ``tinyann`` command."""

import sys

from tinyann.cli import main

sys.exit(main())
