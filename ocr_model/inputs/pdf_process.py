"""PDF pages rendered in a child process that can be capped, timed and killed (issue 14).

A hostile PDF can make PDFium use gigabytes (a content stream that inflates to 1 GiB, a JPEG 2000 image
whose header claims 60000 x 60000) or minutes (millions of strokes). A thread cannot be stopped and
shares the server's memory, so every page is rendered by `pdf_render_worker.py` in its own process:

- its address space is capped (`RLIMIT_AS`) at its idle size plus `OCR_PDF_PAGE_MB`;
- each operation (opening the document, rendering one page) must finish within `OCR_PDF_PAGE_SECONDS`,
  measured here by waiting on the pipe; past it, or when the child dies, it is killed and the next page
  gets a fresh one;
- pixels come back as raw RGB rows into an array allocated here only after their size was checked
  against the pixel cap, never as a pickled object.

One renderer (`shared_renderer()`) serves the whole process, one operation at a time under its lock, and
is reused across pages and documents; a process forked from its owner starts its own.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from ..config import DEFAULT_PDF_PAGE_MB, DEFAULT_PDF_PAGE_SECONDS, PDF_PAGE_MB_ENV, PDF_PAGE_SECONDS_ENV, positive_int_from_env
from .pdf_render_worker import HEADER, MAX_HEADER_BYTES, MAX_SIDE

LOG = logging.getLogger(__name__)
WORKER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pdf_render_worker.py")
# Starting the child (python + numpy + pypdfium2) is not the document's doing: it gets its own, generous
# allowance (~0.3 s idle, several seconds on a loaded machine).
STARTUP_SECONDS = 60.0

Source = Union[str, "os.PathLike[str]", bytes]


def page_seconds() -> int:
    """`OCR_PDF_PAGE_SECONDS` (a positive integer), else `DEFAULT_PDF_PAGE_SECONDS`."""
    value = positive_int_from_env(PDF_PAGE_SECONDS_ENV)
    return DEFAULT_PDF_PAGE_SECONDS if value is None else value


def page_megabytes() -> int:
    """`OCR_PDF_PAGE_MB` (a positive integer), else `DEFAULT_PDF_PAGE_MB`."""
    value = positive_int_from_env(PDF_PAGE_MB_ENV)
    return DEFAULT_PDF_PAGE_MB if value is None else value


@dataclass(frozen=True)
class Limits:
    """What one operation of the renderer may cost: `seconds` of wall time, `megabytes` of address space
    above the idle child's."""

    seconds: float
    megabytes: int

    @classmethod
    def from_env(cls) -> "Limits":
        return cls(float(page_seconds()), page_megabytes())

    def describe(self) -> str:
        return f"{self.seconds:g} s / {self.megabytes} MB"


class RenderFailed(Exception):
    """The page overran a limit: the child overran its time or died (and was killed), or it saw before
    rendering that the page would not fit in its memory. `reason` is for the log, not the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RenderRefused(Exception):
    """PDFium could not open or render: `message` is for the user (the child is still usable)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RenderedPage:
    """Page `index` (0-based) as displayed: `image` HxWx3 uint8 RGB, `size_pt` in points, `scale` px/pt."""

    index: int
    image: np.ndarray
    size_pt: tuple[float, float]
    scale: float


class PageRenderer:
    """One child process rendering pages of one open document at a time; see the module docstring.

    `open(source, key)` sends the document (a path is opened by the child, bytes are written to it) unless
    the child already holds the document named `key`; `render(index, dpi, max_pixels)` returns a
    `RenderedPage`. Both raise `RenderFailed` (the child was killed) or `RenderRefused` (PDFium said no).
    Callers hold `lock` across an `open` and the `render`s that depend on it.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._process: subprocess.Popen | None = None
        self._to_child = self._from_child = -1
        self._megabytes = 0
        self._owner = os.getpid()
        self._document_key: object = None
        self._page_count = 0
        self.last_size_pt: tuple[float, float] | None = None  # of the page last asked for, even if it failed

    # -- the child's life ---------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def _ensure_started(self, megabytes: int) -> None:
        if self._owner != os.getpid():  # forked: the pipes belong to the parent's child, leave it alone
            self._process, self._to_child, self._from_child = None, -1, -1
            self._owner, self._document_key = os.getpid(), None
        if self._process is not None and (self._process.poll() is not None or self._megabytes != megabytes):
            self.stop()
        if self._process is not None:
            return
        child_read, to_child = os.pipe()
        from_child, child_write = os.pipe()
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        try:
            process = subprocess.Popen(
                [sys.executable, WORKER_SCRIPT, str(child_read), str(child_write), str(megabytes)],
                pass_fds=(child_read, child_write),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
                close_fds=True,
            )
        except BaseException:
            for fd in (child_read, to_child, from_child, child_write):
                os.close(fd)
            raise
        os.close(child_read)
        os.close(child_write)
        os.set_blocking(to_child, False)
        try:  # a 1 MiB pipe (the unprivileged maximum) moves a 120 MB page in fewer, larger reads
            fcntl.fcntl(from_child, fcntl.F_SETPIPE_SZ, 1 << 20)
        except (AttributeError, OSError):
            pass
        self._process, self._to_child, self._from_child, self._megabytes = process, to_child, from_child, megabytes
        self._document_key = None
        try:
            header = self._read_header(time.monotonic() + STARTUP_SECONDS)
        except RenderFailed:
            self.stop()
            raise
        if not header.get("ready"):
            self.stop()
            raise RenderFailed(f"the renderer started with {header!r}")

    def stop(self) -> None:
        """Kill the child (if any) and forget its document."""
        process, self._process = self._process, None
        self._document_key = None
        for fd in (self._to_child, self._from_child):
            if fd >= 0:
                os.close(fd)
        self._to_child = self._from_child = -1
        if process is not None and process.poll() is None:
            process.kill()
        if process is not None:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                LOG.warning("PDF renderer %s did not exit after SIGKILL", process.pid)

    def _fail(self, reason: str) -> RenderFailed:
        code = self._process.poll() if self._process is not None else None
        self.stop()
        return RenderFailed(reason if code is None else f"{reason} (exit status {code})")

    # -- operations ---------------------------------------------------------------------------------------

    def open(self, source: Source, key: object, limits: Limits) -> int:
        """Make the child hold this document; returns its page count."""
        with self.lock:
            self._ensure_started(limits.megabytes)
            if self._document_key is not None and self._document_key is key:
                return self._page_count
            self._document_key = None
            deadline = time.monotonic() + limits.seconds
            if isinstance(source, (bytes, bytearray, memoryview)):
                self._send({"op": "open"}, bytes(source), deadline)
            else:
                self._send({"op": "open", "path": os.path.abspath(os.fspath(source))}, b"", deadline)
            header = self._read_header(deadline)
            if "error" in header:
                raise RenderRefused(str(header["error"]))
            count = int(header["pages"])
            self._document_key, self._page_count = key, count
            return count

    def close_document(self, key: object) -> None:
        """Let the child free the document `key` if it still holds it (its process stays for the next one)."""
        with self.lock:
            if self._process is None or self._document_key is None or self._document_key is not key:
                return
            self._document_key = None
            try:
                self._send({"op": "close"}, b"", time.monotonic() + 5.0)
            except RenderFailed:
                pass  # the child was killed, which frees the document too

    def render(self, index: int, dpi: float, max_pixels: int, limits: Limits) -> RenderedPage:
        """Render page `index` of the open document under `limits`."""
        with self.lock:
            if self._process is None or self._document_key is None:
                raise RuntimeError("render() without an open document")
            self.last_size_pt = None
            deadline = time.monotonic() + limits.seconds
            self._send({"op": "render", "index": index, "dpi": dpi, "max_pixels": max_pixels}, b"", deadline)
            header = self._read_header(deadline)
            if "error" in header:
                raise RenderRefused(str(header["error"]))
            size_pt = (float(header["size_pt"][0]), float(header["size_pt"][1]))
            scale = float(header["scale"])
            self.last_size_pt = size_pt
            header = self._read_header(deadline)
            if "error" in header:
                raise RenderRefused(str(header["error"]))
            if "over_limit" in header:
                raise RenderFailed(f"{header['over_limit']} would not fit in {limits.megabytes} MB")
            width, height = int(header["width"]), int(header["height"])
            if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and width * height <= max_pixels):
                raise self._fail(f"the renderer announced a {width} x {height} page")
            if int(header["pixels"]) != width * height * 3:
                raise self._fail("the renderer announced a wrong pixel count")
            image = np.empty((height, width, 3), dtype=np.uint8)
            self._read_into(memoryview(image.reshape(-1)), deadline)
            return RenderedPage(index, image, size_pt, scale)

    # -- pipes with a deadline --------------------------------------------------------------------------

    def _send(self, header: dict[str, Any], payload: bytes, deadline: float) -> None:
        if payload:
            header = dict(header, payload=len(payload))
        encoded = json.dumps(header).encode()
        view = memoryview(HEADER.pack(len(encoded)) + encoded + payload)
        while view:
            self._wait(self._to_child, select.POLLOUT, deadline)
            try:
                written = os.write(self._to_child, view)
            except BlockingIOError:
                continue
            except OSError as error:  # the child is gone (EPIPE)
                raise self._fail(f"writing to the renderer failed: {error}") from None
            view = view[written:]

    def _read_header(self, deadline: float) -> dict[str, Any]:
        (length,) = HEADER.unpack(self._read_bytes(HEADER.size, deadline))
        if length > MAX_HEADER_BYTES:
            raise self._fail(f"a {length}-byte message header from the renderer")
        try:
            header = json.loads(self._read_bytes(length, deadline))
        except ValueError:
            raise self._fail("an unreadable message from the renderer") from None
        if not isinstance(header, dict):
            raise self._fail("an unreadable message from the renderer")
        return header

    def _read_bytes(self, size: int, deadline: float) -> bytes:
        buffer = bytearray(size)
        self._read_into(memoryview(buffer), deadline)
        return bytes(buffer)

    def _read_into(self, view: memoryview, deadline: float) -> None:
        while view:
            self._wait(self._from_child, select.POLLIN, deadline)
            count = os.readv(self._from_child, [view])
            if count == 0:
                raise self._fail("the renderer exited")
            view = view[count:]

    def _wait(self, fd: int, event: int, deadline: float) -> None:
        poller = select.poll()
        poller.register(fd, event)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._fail("the renderer overran its time")
            if poller.poll(max(1, int(left * 1000))):
                return


_SHARED: PageRenderer | None = None
_SHARED_LOCK = threading.Lock()


def shared_renderer() -> PageRenderer:
    """The process's renderer (its child starts on first use and is killed at exit)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = PageRenderer()
            atexit.register(_SHARED.stop)
        return _SHARED
