"""Every setting of the demo app in one place: a frozen dataclass, env vars and CLI flags.

Precedence (lowest to highest): built-in defaults < memory preset < environment variables
< command-line flags. `launch_kwargs(config)` and `queue_kwargs(config)` turn a config into
the exact keyword arguments of `Blocks.launch()` / `Blocks.queue()`, so serving policy
(queue, upload limit, error display, auth, temp files) is decided here and nowhere else.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from ocr_model.runtime import limit_malloc_arenas
from demo.security import server_app_kwargs
from demo.temp_files import create_instance_dir, sweeper_lifespan

# name -> (max_results_in_memory, max_display_size). Documented in the README.
MEMORY_PRESETS: dict[str, tuple[int, int]] = {
    "low": (5, 1024),
    "normal": (10, 2048),
    "high": (20, 4096),
}


@dataclass(frozen=True)
class AppConfig:
    # Results kept per browser session (history gallery). Why: bounds memory per user;
    # each entry holds only a display-size JPEG, a thumbnail and the predictions.
    max_results_in_memory: int = 10
    # Longest side (px) of any image sent to the browser. Why: a 35 MP scan must not be
    # shipped at full size; polygons are scaled by the same factor so they still line up.
    max_display_size: int = 2048
    # JPEG quality of the annotated image. Why: ~85 keeps text legible at a fraction of PNG size.
    display_jpeg_quality: int = 85
    # Longest side (px) of history thumbnails. Why: the gallery only needs a glance.
    thumbnail_size: int = 256
    # "auto", "cpu" or "cuda[:N]"; passed to the OCR engine. Why: same app on CPU and GPU Spaces.
    device: str = "auto"
    # Checkpoint read when a request names none: a built-in name (ocr_model.checkpoints), a file stem from
    # checkpoint_dir, or a path to a .safetensors file (then offered too, under its stem). Why: a faster
    # checkpoint, or your own fine-tuned one, without code changes. Same default as the engine's.
    checkpoint: str = "ppocrv6-small"
    # Folder whose *.safetensors checkpoints are offered beside the built-ins, by file stem (read at
    # startup; a broken file is reported and left out). Why: clients choose among names the operator
    # put there, and can never name a path themselves.
    checkpoint_dir: str | None = None
    # Interface to bind. Why: loopback by default; Spaces/Docker set 0.0.0.0 via env.
    host: str = "127.0.0.1"
    # TCP port. Why: 7860 is what Spaces and most Gradio docs expect.
    port: int = 7860
    # Create a public *.gradio.live link. Why: quick sharing from a laptop or notebook.
    share: bool = False
    # Requests allowed to run at once. Why: on CPU one OCR already uses all cores;
    # running two at once only makes both slower and doubles peak memory.
    concurrency_limit: int = 1
    # Requests allowed to wait in the queue; more are refused with "queue is full".
    # Why: a bounded queue keeps latency and memory bounded under load.
    queue_max_size: int = 16
    # Largest accepted upload (Gradio size string). Why: refuse huge files before decoding.
    max_file_size: str = "25mb"
    # Most files accepted in one batch run. Why: bounds the time one request can take.
    max_batch_files: int = 20
    # Most images read in one batch run, counting every PDF page. Why: 20 PDFs of 20 pages would
    # otherwise be 400 pages (~20 min on a CPU) in one request while every other user waits.
    max_batch_pages: int = 40
    # Seconds a session's state (history) lives after its last update. Why: frees the
    # memory of tabs left open for hours (Gradio itself keeps a closed tab's state for 1 h).
    session_ttl_s: int = 3600
    # Most browser sessions whose state is kept; the oldest are dropped beyond it (Gradio's
    # state_session_capacity). Why: a session's state costs a little even when it holds no results; what
    # all sessions' results hold together is bounded by max_total_history_mb, not by this count.
    max_sessions: int = 200
    # Bytes (MB) one session's history may hold. Why: a count alone does not bound memory (ten
    # noisy 2048 px photos made 33 MB); previews are re-encoded smaller to fit, the oldest dropped.
    max_history_mb: float = 5.0
    # Bytes (MB) all sessions' kept results may hold together (histories, batch sets, the shown results);
    # past it the least recently used other sessions' results are dropped, as if their time-to-live had
    # ended (demo/session_memory.py). Why: it bounds all sessions' kept results together, so the server's
    # memory stays flat however many sessions come and go (max_sessions x max_history_mb alone allowed
    # 1 GB, 2 GB with batch sets). 10 MB (one session's own worth at the default max_history_mb) holds two
    # full histories or the last results of dozens of sessions, and the app serves one request at a time:
    # at 32 MB the 300-request soak still climbed (+17 MB per 100 requests), at 10 MB it was nearly flat
    # (+3.9). The budget used is never below one session's own worth, 2 x max_history_mb (a history plus a
    # batch set; `total_history_bytes`), so raising max_history_mb alone never breaks start-up.
    max_total_history_mb: float = 10.0
    # (every, older_than) seconds for deleting Gradio's temp files (uploads, served images).
    # Why: the temp dir must not grow without bound on a long-running server.
    delete_cache: tuple[int, int] = (600, 3600)
    # Parent of this instance's private temp folder (a new ocr-demo-XXXX inside it per process, exported
    # as GRADIO_TEMP_DIR, deleted at shutdown). Why: instances never share, serve or delete each other's
    # uploads, and the whole folder can be swept and wiped without touching anything else.
    temp_dir: str | None = os.path.join(tempfile.gettempdir(), "ocr-demo")
    # Most megabytes the instance's temp folder may hold; uploads beyond it get "try again later".
    # Why: Gradio stores every upload whether or not an event reads it, so uploads alone could fill
    # the disk within the hour files are kept; 2 GB holds ~80 full-size uploads.
    max_temp_mb: int = 2048
    # Optional "user:password" required to open the app. Why: private share links.
    auth: str | None = None
    # Show unexpected exception text in the browser. Why False: users only ever see the
    # short messages the app raises itself (gr.Error); tracebacks stay in the server log.
    show_error: bool = False
    # Also serve the stateless /ocr endpoint as an MCP tool at /gradio_api/mcp/ (needs `gradio[mcp]`).
    # Why off by default: agents calling the app is opt-in; with it on, /run and /batch (page endpoints with
    # per-session history) are left out of the tool list and the API page (still callable by clients).
    mcp_server: bool = False

    @property
    def max_history_bytes(self) -> int:
        return int(self.max_history_mb * 2**20)

    @property
    def total_history_bytes(self) -> int:
        """The byte budget all sessions share: max_total_history_mb, but never less than one session may
        hold by itself (its history and a batch set: 2 x max_history_mb)."""
        return max(int(self.max_total_history_mb * 2**20), 2 * self.max_history_bytes)

    def __post_init__(self) -> None:
        if not self.checkpoint.strip():
            raise ValueError("checkpoint must be a checkpoint name or a .safetensors path")
        if self.max_results_in_memory < 1:
            raise ValueError(f"max_results_in_memory must be >= 1, got {self.max_results_in_memory}")
        if not 64 <= self.max_display_size <= 16384:
            raise ValueError(f"max_display_size must be in [64, 16384], got {self.max_display_size}")
        if not 1 <= self.display_jpeg_quality <= 95:
            raise ValueError(f"display_jpeg_quality must be in [1, 95], got {self.display_jpeg_quality}")
        if not 16 <= self.thumbnail_size <= self.max_display_size:
            raise ValueError("thumbnail_size must be in [16, max_display_size]")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be in [0, 65535], got {self.port}")
        if min(self.concurrency_limit, self.queue_max_size, self.max_batch_files, self.max_batch_pages) < 1:
            raise ValueError("concurrency_limit, queue_max_size, max_batch_files and max_batch_pages must be >= 1")
        if self.session_ttl_s < 1 or self.max_sessions < 1:
            raise ValueError("session_ttl_s and max_sessions must be >= 1")
        if not 0.1 <= self.max_history_mb <= 1024:
            raise ValueError(f"max_history_mb must be in [0.1, 1024], got {self.max_history_mb}")
        if not 0.1 <= self.max_total_history_mb <= 1048576:
            raise ValueError(f"max_total_history_mb must be in [0.1, 1048576], got {self.max_total_history_mb}")
        parse_size(self.max_file_size)
        if self.max_temp_mb < 1:
            raise ValueError(f"max_temp_mb must be >= 1, got {self.max_temp_mb}")
        if len(self.delete_cache) != 2 or min(self.delete_cache) < 1:
            raise ValueError(f"delete_cache must be two positive numbers of seconds, got {self.delete_cache}")
        if self.auth is not None and (":" not in self.auth or self.auth.startswith(":")):
            raise ValueError("auth must look like 'user:password'")


# field name -> environment variable. The two memory knobs keep their bare names (issue spec).
ENV_VARS: dict[str, str] = {
    "max_results_in_memory": "MAX_RESULTS_IN_MEMORY",
    "max_display_size": "MAX_DISPLAY_SIZE",
    "device": "OCR_DEVICE",
    "checkpoint": "OCR_CHECKPOINT",
    "checkpoint_dir": "OCR_CHECKPOINT_DIR",
    "host": "OCR_HOST",
    "port": "OCR_PORT",
    "share": "OCR_SHARE",
    "concurrency_limit": "OCR_CONCURRENCY_LIMIT",
    "queue_max_size": "OCR_QUEUE_MAX_SIZE",
    "max_file_size": "OCR_MAX_FILE_SIZE",
    "max_batch_files": "OCR_MAX_BATCH_FILES",
    "max_batch_pages": "OCR_MAX_BATCH_PAGES",
    "session_ttl_s": "OCR_SESSION_TTL_S",
    "max_sessions": "OCR_MAX_SESSIONS",
    "max_history_mb": "OCR_MAX_HISTORY_MB",
    "max_total_history_mb": "OCR_MAX_TOTAL_HISTORY_MB",
    "temp_dir": "OCR_TEMP_DIR",
    "delete_cache": "OCR_DELETE_CACHE",
    "max_temp_mb": "OCR_MAX_TEMP_MB",
    "auth": "OCR_AUTH",
    "mcp_server": "OCR_MCP",
}
PRESET_ENV_VAR = "OCR_MEMORY_PRESET"
# Gradio's own variables, honoured as fallbacks so Spaces/Docker settings keep working.
GRADIO_FALLBACK_ENV: dict[str, str] = {
    "host": "GRADIO_SERVER_NAME",
    "port": "GRADIO_SERVER_PORT",
    "temp_dir": "GRADIO_TEMP_DIR",
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected a boolean (1/0, true/false), got {text!r}")


def _convert(field_name: str, text: str) -> Any:
    kind = {f.name: f.type for f in fields(AppConfig)}[field_name]
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        return _parse_bool(text)
    if kind == "tuple[int, int]":
        return _parse_int_pair(text)
    return text


def _parse_int_pair(text: str) -> tuple[int, int]:
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2:
        raise ValueError(f"expected two integers like '600,3600', got {text!r}")
    return int(parts[0]), int(parts[1])


def config_from_env(env: Mapping[str, str] | None = None, base: AppConfig | None = None) -> AppConfig:
    """Apply the memory preset and environment variables on top of `base` (defaults)."""
    env = os.environ if env is None else env
    config = base or AppConfig()
    preset = env.get(PRESET_ENV_VAR)
    if preset:
        config = apply_preset(config, preset)
    changes: dict[str, Any] = {}
    for field_name, variable in ENV_VARS.items():
        raw = env.get(variable)
        if raw is None and field_name in GRADIO_FALLBACK_ENV:
            raw = env.get(GRADIO_FALLBACK_ENV[field_name])
        if raw is None or (raw == "" and field_name not in ("share",)):
            continue
        try:
            changes[field_name] = _convert(field_name, raw)
        except ValueError as error:
            raise ValueError(f"environment variable {variable}={raw!r}: {error}") from error
    return replace(config, **changes)


def apply_preset(config: AppConfig, preset: str) -> AppConfig:
    if preset not in MEMORY_PRESETS:
        raise ValueError(f"unknown memory preset {preset!r}; choose one of {', '.join(MEMORY_PRESETS)}")
    results, display = MEMORY_PRESETS[preset]
    return replace(config, max_results_in_memory=results, max_display_size=display)


def build_arg_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="OCR demo (Gradio). Every flag also has an environment variable; see README.",
    )
    parser.add_argument("--preset", choices=sorted(MEMORY_PRESETS), help="memory preset (low/normal/high)")
    parser.add_argument("--max-results", type=int, dest="max_results_in_memory", help="history size per session")
    parser.add_argument("--max-display-size", type=int, dest="max_display_size", help="longest side sent to the browser")
    parser.add_argument("--device", help="auto, cpu or cuda[:N]")
    parser.add_argument(
        "--checkpoint", help="default checkpoint: a built-in name (ppocrv6-small, ppocrv6-tiny, ppocrv6-small-receipts), a name from "
        "--checkpoint-dir, or a .safetensors path"
    )
    parser.add_argument(
        "--checkpoint-dir", dest="checkpoint_dir", help="folder whose *.safetensors checkpoints are offered too"
    )
    parser.add_argument("--host", help="interface to bind (0.0.0.0 for all)")
    parser.add_argument("--port", type=int, help="TCP port (0 = first free port from 7860)")
    parser.add_argument("--share", action="store_true", default=None, help="create a public gradio.live link")
    parser.add_argument("--concurrency", type=int, dest="concurrency_limit", help="requests run at once")
    parser.add_argument("--queue-size", type=int, dest="queue_max_size", help="requests allowed to wait")
    parser.add_argument("--max-file-size", dest="max_file_size", help="upload limit, e.g. 25mb")
    parser.add_argument("--max-batch-files", type=int, dest="max_batch_files", help="files per batch run")
    parser.add_argument("--max-history-mb", type=float, dest="max_history_mb", help="history memory per session (MB)")
    parser.add_argument(
        "--max-total-history-mb", type=float, dest="max_total_history_mb",
        help="history memory of all sessions together (MB; at least 2 x --max-history-mb is used)",
    )
    parser.add_argument("--max-temp-mb", type=int, dest="max_temp_mb", help="most MB the temp folder may hold")
    parser.add_argument("--temp-dir", dest="temp_dir", help="parent of this instance's private temp folder")
    parser.add_argument(
        "--delete-cache", dest="delete_cache", type=_parse_int_pair, metavar="EVERY,OLDER_THAN",
        help="seconds: every EVERY s delete temp files older than OLDER_THAN s (default 600,3600)",
    )
    parser.add_argument("--auth", help="user:password required to open the app")
    parser.add_argument(
        "--mcp", dest="mcp_server", action="store_true", default=None, help="also serve /ocr as an MCP tool"
    )
    return parser


def load_config(argv: Sequence[str] | None = (), env: Mapping[str, str] | None = None) -> AppConfig:
    """Defaults < preset < env < flags. `argv=None` reads sys.argv; `()` means no flags."""
    args = build_arg_parser().parse_args(argv)
    env = os.environ if env is None else env
    config = AppConfig()
    if args.preset:
        config = apply_preset(config, args.preset)
        env = {key: value for key, value in env.items() if key != PRESET_ENV_VAR}
    config = config_from_env(env, base=config)
    flags = {
        name: value
        for name, value in vars(args).items()
        if name != "preset" and value is not None
    }
    return replace(config, **flags)


def queue_kwargs(config: AppConfig) -> dict[str, Any]:
    """Keyword arguments for `Blocks.queue()`."""
    return {"max_size": config.queue_max_size, "default_concurrency_limit": config.concurrency_limit}


_SIZE_UNITS = {"b": 1, "kb": 2**10, "mb": 2**20, "gb": 2**30}


def parse_size(size: str | int) -> int:
    """Bytes in a size like Gradio's max_file_size ("25mb", "1.5gb", "800kb", 1000)."""
    if isinstance(size, int):
        return size
    text = str(size).strip().lower()
    for unit in ("kb", "mb", "gb", "b"):
        if text.endswith(unit):
            number = text[: -len(unit)].strip()
            try:
                return int(float(number) * _SIZE_UNITS[unit])
            except ValueError:
                break
    raise ValueError(f"expected a size like '25mb', got {size!r}")


def max_upload_request_bytes(config: AppConfig) -> int:
    """The largest upload request accepted: one full batch plus multipart overhead."""
    return config.max_batch_files * parse_size(config.max_file_size) + 2**20


def launch_kwargs(config: AppConfig, upload_dir: str | None = None) -> dict[str, Any]:
    """Keyword arguments for `Blocks.launch()`.

    `upload_dir` is the instance's temp folder (default: the one `apply_process_settings` created):
    the upload guard cleans it after failed uploads and the sweeper ages files out of it. With
    `temp_dir=None` (Gradio's shared folder) there is no sweeper: that folder is not the app's to sweep.
    """
    if upload_dir is None and config.temp_dir:
        upload_dir = create_instance_dir(config.temp_dir)  # the one apply_process_settings made
    app_kwargs = server_app_kwargs(upload_dir, max_upload_request_bytes(config), config.max_temp_mb * 2**20)
    if upload_dir:
        every, older_than = config.delete_cache
        app_kwargs["lifespan"] = sweeper_lifespan(upload_dir, every, older_than, lambda app: app.get_blocks())
    if config.mcp_server:
        # MCP tools take images as base64 data: URLs, which Gradio would decode and write past every limit.
        from demo.mcp_inputs import install_inline_limits

        install_inline_limits(upload_dir, parse_size(config.max_file_size), config.max_temp_mb * 2**20 if upload_dir else None)
    kwargs: dict[str, Any] = {
        "server_name": config.host,
        "server_port": config.port or None,
        "share": config.share,
        "max_file_size": config.max_file_size,
        "show_error": config.show_error,
        "state_session_capacity": config.max_sessions,
        "footer_links": ["api", "gradio"],
        # Gradio serves /monitoring unless told not to; a public demo has no use for it.
        "enable_monitoring": False,
        # 403 for /gradio_api/file=http(s)://... (Gradio would fetch the URL for the caller); upload
        # size bound and cleanup; the temp-folder sweeper (demo/security.py, demo/temp_files.py).
        "app_kwargs": app_kwargs,
        # Gradio 6.31 records every run in the browser (inputs and outputs, listed under /gradio_api/runs)
        # unless told not to. Off: the app keeps uploads and results out of long-lived storage (history lives
        # in server memory for one session), and a shared computer must not show the last user's documents.
        "run_history": False,
        "mcp_server": config.mcp_server,
    }
    if config.auth:
        user, password = config.auth.split(":", 1)
        kwargs["auth"] = (user, password)
    return kwargs


def apply_process_settings(config: AppConfig) -> None:
    """Settings Gradio reads from the environment when components are created.

    Must run before `build_demo()` creates components (they capture the temp dir).
    """
    limit_malloc_arenas()  # before Gradio starts its worker threads; see ocr_model/runtime.py
    # The device is not set here: build_demo passes config.device to demo.engine.load_models.
    if config.temp_dir:
        os.environ["GRADIO_TEMP_DIR"] = create_instance_dir(config.temp_dir)
