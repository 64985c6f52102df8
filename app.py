"""OCR demo entry point (also the Hugging Face Spaces `app_file`).

    python app.py                 # local: http://127.0.0.1:7860
    python app.py --share         # plus a public *.gradio.live link
    python app.py --checkpoint ppocrv6-tiny --checkpoint-dir ./checkpoints
    python app.py --help          # every flag; each one also has an environment variable

The OCR engine is loaded when this module is imported, before the first request.
"""

from __future__ import annotations

import logging
import os
import signal
import sys

# Before anything imports torch: see ocr_model/__init__.py for why.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from demo.config import AppConfig, apply_process_settings, load_config

if __name__ == "__main__":  # before the models load: their startup report (choices, files left out) is logged
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
# Flags only when run as a script; imported (Spaces, `gradio app.py`, tests) it reads the environment.
CONFIG: AppConfig = load_config(sys.argv[1:] if __name__ == "__main__" else ())
# Before Gradio is imported: some of its modules read GRADIO_TEMP_DIR once, at import (the MCP
# server writes base64 inputs there), and every temp file must land in the instance's own folder.
apply_process_settings(CONFIG)

from demo import build_demo  # noqa: E402  (imports Gradio)

# Reads the checkpoint choices (built-ins + CONFIG.checkpoint_dir; bad files reported and left out) and
# loads the default's model before the first request; a default that cannot be found stops the app here.
demo = build_demo(config=CONFIG)


def _stop_like_ctrl_c(signum: int, _frame: object) -> None:
    """SIGTERM (docker, systemd, Spaces) and SIGHUP take Ctrl-C's orderly path: Gradio closes the
    server, then the temp folder is removed (demo/temp_files.py, atexit). Without this a SIGTERM
    ends the process on the spot and leaves every upload on disk."""
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_like_ctrl_c)
    demo.launch()  # host, port, share, upload limit, error policy, auth: launch_kwargs(CONFIG)


if __name__ == "__main__":
    main()
