"""`python -m plugboard`: the plugboard command line."""

import sys

from .cli import main

sys.exit(main())
