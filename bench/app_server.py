"""The one launcher of the real app in a subprocess on a free loopback port (`start_app`), used by the load
scripts (soak, concurrency, worst case), by the tests (tests/conftest.py AppServer) and by
scripts/measure_payload.py; plus watching its process and temp directory, and checking what it read.
The synthetic images are in bench/sample_images.py.

Nothing here imports the app: callers drive it from outside, like a user, through HTTP or `gradio_client`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent
SROIE_IMAGES = REPO_ROOT.parent / "shared" / "eval" / "sroie-dev" / "img"
if not SROIE_IMAGES.is_dir():  # a worktree under /work/wt/<branch> sits one level deeper than /work/main
    SROIE_IMAGES = Path("/work/shared/eval/sroie-dev/img")

def stop_servers_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so `finally` blocks stop the app server we started."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class AppServer:
    """One `python app.py` process on 127.0.0.1, with its own temp directory and log file."""

    process: subprocess.Popen[bytes]
    url: str
    temp_dir: Path
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_bytes(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)

    def file_rss_bytes(self) -> int:
        """The part of the RSS that maps files (shared libraries' code and data) or shared memory: pages the
        kernel can drop and reread, shared with other processes mapping the same files. RSS minus this is the
        process's own memory (heap, arenas, tensors)."""
        return int(psutil.Process(self.pid).memory_info().shared)

    def thread_count(self) -> int:
        return int(psutil.Process(self.pid).num_threads())

    def temp_usage(self) -> tuple[int, int]:
        """(bytes, files) under the server's temp directory."""
        return dir_usage(self.temp_dir)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def log_tail(self, characters: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-characters:]
        except OSError:
            return ""

    def __enter__(self) -> AppServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_app(
    work_dir: Path,
    extra_args: Sequence[str] = (),
    startup_timeout_s: float = 300.0,
    env: dict[str, str] | None = None,
    temp_dir: Path | None = None,
) -> AppServer:
    """Start `python app.py --host 127.0.0.1 --port N --temp-dir TEMP ...` and wait until it serves.

    TEMP is `temp_dir`, by default work_dir/gradio-tmp; the log is work_dir/server.log. `env` replaces
    this process's environment (default: a copy of it).
    """
    port = free_port()
    temp_dir = temp_dir or work_dir / "gradio-tmp"
    temp_dir.mkdir(parents=True, exist_ok=True)
    log_path = work_dir / "server.log"
    command = [
        sys.executable,
        str(REPO_ROOT / "app.py"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--temp-dir",
        str(temp_dir),
        *extra_args,
    ]
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    child_env["PYTHONUNBUFFERED"] = "1"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log_file, stderr=subprocess.STDOUT, env=child_env)
    server = AppServer(process=process, url=f"http://127.0.0.1:{port}/", temp_dir=temp_dir, log_path=log_path)
    deadline = time.monotonic() + startup_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode} during startup:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url + "config", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    server.stop()
    raise TimeoutError(f"app.py did not serve within {startup_timeout_s:.0f} s:\n{server.log_tail()}")


def dir_usage(path: Path) -> tuple[int, int]:
    total_bytes = 0
    file_count = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total_bytes += os.stat(os.path.join(root, name)).st_size
            except FileNotFoundError:  # deleted by the server's cache cleaner while we walk
                continue
            file_count += 1
    return total_bytes, file_count


def found_words(result: dict[str, object]) -> set[str]:
    lines = result.get("lines", [])
    words: set[str] = set()
    if isinstance(lines, list):
        for line in lines:
            if isinstance(line, dict):
                words.update(str(line.get("text", "")).split())
    return words


def word_recall(expected_lines: Sequence[str], result: dict[str, object]) -> float:
    expected = [word for line in expected_lines for word in line.split()]
    if not expected:
        return 1.0
    seen = found_words(result)
    return sum(word in seen for word in expected) / len(expected)
