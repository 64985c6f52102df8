"""`python -m ocr_model`: the command line (see `ocr_model/batch/cli.py`)."""

import sys

from .batch.cli import main

if __name__ == "__main__":
    sys.exit(main())
