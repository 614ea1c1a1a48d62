"""`python -m jackfield`: the jackfield command line."""

import sys

from jackfield._cli.main import main

sys.exit(main())
