"""`python -m ocr_model.finetune`: the fine-tuning command (see `ocr_model/finetune/cli.py`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
