"""Shared pieces of the load scripts (soak, concurrency, worst case): start the real app in a subprocess on a
loopback port, watch its process and temp directory, and draw synthetic text images whose words are known.

Nothing here imports the app: the scripts drive it from outside, like a user, through `gradio_client`.
"""

from __future__ import annotations

import io
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

import numpy as np
import psutil
from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = Path(__file__).resolve().parent.parent
SROIE_IMAGES = REPO_ROOT.parent / "shared" / "eval" / "sroie-dev" / "img"

# Words the OCR model reads reliably in DejaVu Sans; lines are drawn from these so results can be checked.
VOCABULARY = (
    "ALPHA BRAVO CHARLIE DELTA ECHO FOXTROT GOLF HOTEL INDIA JULIET KILO LIMA MIKE NOVEMBER OSCAR PAPA "
    "QUEBEC ROMEO SIERRA TANGO UNIFORM VICTOR WHISKEY XRAY YANKEE ZULU invoice total amount receipt cash "
    "change table coffee bread butter cheese market street order number"
).split()


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
) -> AppServer:
    """Start `python app.py --host 127.0.0.1 --port N --temp-dir work_dir/gradio-tmp ...` and wait until it serves."""
    port = free_port()
    temp_dir = work_dir / "gradio-tmp"
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


def text_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"):
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class TextImage:
    """A synthetic page: its encoded bytes and the lines of text drawn on it."""

    name: str
    data: bytes
    lines: tuple[str, ...]
    size: tuple[int, int]  # (width, height)


def make_text_page(
    name: str,
    width: int,
    height: int,
    line_count: int,
    font_px: int,
    seed: int,
    words_per_line: int = 5,
    first_line: str | None = None,
    jpeg_quality: int = 85,
) -> TextImage:
    """Black text lines on light paper, spread over the page in `line_count` rows (2 columns when wide)."""
    rng = np.random.default_rng(seed)
    page = Image.new("L", (width, height), 250)
    draw = ImageDraw.Draw(page)
    font = text_font(font_px)
    columns = 2 if width >= 3 * height // 2 and width > 3000 else 1
    rows = max(1, -(-line_count // columns))
    pitch = (height - 2 * font_px) / rows
    lines: list[str] = []
    for index in range(line_count):
        if index == 0 and first_line is not None:
            line = first_line
        else:
            line = " ".join(rng.choice(VOCABULARY, size=words_per_line)) + f" {int(rng.integers(10, 9999))}"
        column, row = divmod(index, rows)
        x = font_px + column * (width // columns)
        y = font_px + row * pitch
        draw.text((x, y), line, font=font, fill=20)
        lines.append(line)
    buffer = io.BytesIO()
    page.convert("RGB").save(buffer, "JPEG", quality=jpeg_quality)
    return TextImage(name=name, data=buffer.getvalue(), lines=tuple(lines), size=(width, height))


def tiny_text_page(name: str, width: int, height: int, font_px: int, seed: int) -> TextImage:
    """A page packed edge to edge with small text: the most text regions per pixel a request can bring."""
    line_count = max(1, int((height - 2 * font_px) / (font_px * 1.4)))
    words = max(3, int(width / (font_px * 3.2)))
    return make_text_page(name, width, height, line_count, font_px, seed, words_per_line=words)


def unique_jpeg(data: bytes, tag: str) -> bytes:
    """The same JPEG with a COM segment holding `tag`, so every upload has its own content hash.

    Gradio stores uploads under their hash: re-sending identical bytes would hide temp-dir growth.
    """
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    comment = tag.encode("ascii")
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return data[:2] + segment + data[2:]


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
