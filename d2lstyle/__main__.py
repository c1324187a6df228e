"""``python -m d2lstyle CONTENT STYLE -o OUT``: see :mod:`d2lstyle.cli`."""

import sys

from .cli import main

sys.exit(main())
