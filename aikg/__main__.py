"""`python -m aikg` is the `aikg` command."""

import sys

from aikg.cli import main

sys.exit(main())
