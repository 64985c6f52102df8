"""Many files at once: the command line (`cli`, run as `python -m ocr_model`), its inputs (`discover`),
outputs (`outputs`) and run loop (`run`), and the Ray Data pipeline (`distributed`)."""
