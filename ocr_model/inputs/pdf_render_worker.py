"""The PDF page renderer's child process, and the message format both sides speak.

Run as a script (`python .../pdf_render_worker.py READ_FD WRITE_FD MEGABYTES`) by `pdf_process.py`,
never imported into it as part of the `ocr_model` package: the package imports torch, and this process
must stay small (numpy and pypdfium2 only) because its address space is capped. Run as a script, not
through multiprocessing's spawn or forkserver, because those re-import the parent's main script
in the child (`app.py` loads the whole app and the OCR engine at import).

The cap (`RLIMIT_AS`) is set after the imports, at the address space of the idle process plus
MEGABYTES, so the limit bounds what one document and one page may add whatever the libraries map.
PDFium stops the process (SIGTRAP) when an allocation fails; the parent then sees the pipe close.

Messages, both ways: a 4-byte big-endian length, a JSON header, then `header["payload"]` raw bytes.
Parent -> child:
    {"op": "open", "path": str} or {"op": "open", "payload": n} + the file's bytes
        -> {"pages": count} or {"error": message for the user}
    {"op": "render", "index": i, "dpi": d, "max_pixels": m}
        -> {"size_pt": [w, h], "scale": s} as soon as the page is loaded, then
           {"width": w, "height": h, "pixels": w * h * 3} + RGB rows, {"error": message}, or
           {"over_limit": what} when the page was seen not to fit in the cap before rendering
    {"op": "close"} -> nothing (the document is closed)
The child announces itself with {"ready": true} once the cap is set.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import sys
import threading
import time
from typing import Any

HEADER = struct.Struct(">I")
MAX_HEADER_BYTES = 1 << 16
MAX_SIDE = 16_384  # px, either side of a rendered page
PDF_MAGIC = b"%PDF-"
ROWS_PER_WRITE = 256  # pixel rows converted to RGB and written at a time (no second full-page copy)


class ProtocolError(RuntimeError):
    """The other side sent something that is not a message, or closed the pipe."""


def write_message(fd: int, header: dict[str, Any], payload: bytes | memoryview = b"") -> None:
    """Blocking write of one message (the child's side; the parent writes with a deadline)."""
    if payload:
        header = dict(header, payload=len(payload))
    encoded = json.dumps(header).encode()
    write_all(fd, HEADER.pack(len(encoded)) + encoded)
    if payload:
        write_all(fd, payload)


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data).cast("B")
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exact(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise ProtocolError("pipe closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_message(fd: int) -> tuple[dict[str, Any], bytes]:
    (length,) = HEADER.unpack(read_exact(fd, HEADER.size))
    if length > MAX_HEADER_BYTES:
        raise ProtocolError(f"message header of {length} bytes")
    header = json.loads(read_exact(fd, length))
    payload = read_exact(fd, int(header["payload"])) if header.get("payload") else b""
    return header, payload


def render_scale(size_pt: tuple[float, float], dpi: float, max_pixels: int) -> float:
    """Pixels per point for a page of `size_pt`: dpi / 72, lowered to keep the page under
    `max_pixels` and each side under `MAX_SIDE`. ValueError for a degenerate size."""
    width, height = size_pt
    if not (math.isfinite(width) and math.isfinite(height)) or width <= 0 or height <= 0:
        raise ValueError(f"a page has an invalid size ({width} x {height} points)")
    scale = dpi / 72.0
    scale = min(scale, math.sqrt(max_pixels / (width * height)), MAX_SIDE / max(width, height))
    # the renderer rounds each side up: stay under the caps after rounding too
    while scale > 0 and (
        math.ceil(width * scale) * math.ceil(height * scale) > max_pixels or math.ceil(max(width, height) * scale) > MAX_SIDE
    ):
        scale *= 0.999
    return scale


# ---------------------------------------------------------------------------------------------------------
# The child


def _address_space_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _exit_when_orphaned(parent: int) -> None:
    """A child whose parent died (killed, crashed) stops instead of finishing a costly page for nobody."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def _head(data: bytes | str, limit: int = 64 << 20) -> bytes:
    if isinstance(data, str):
        try:
            with open(data, "rb") as handle:
                return handle.read(limit)
        except OSError:
            return b""
    return bytes(data[:limit])


def _open_error(data: bytes | str, error: Exception) -> str:
    import pypdfium2.raw as raw

    head = _head(data)
    # PDFium's last-error code is process-global and can be stale, so "password" is only
    # believed when the file has an /Encrypt entry.
    if getattr(error, "err_code", None) == raw.FPDF_ERR_PASSWORD and b"/Encrypt" in head:
        return "This PDF is password-protected. Remove the password and upload it again."
    # PDFium refuses documents whose page tree is empty: a /Count 0 without any /Type /Page object (a damaged
    # or cut-off file that lost its pages still says how many it had)
    if (
        PDF_MAGIC in head[:1024]
        and re.search(rb"/Count\s+0(?![0-9])", head) is not None
        and re.search(rb"/Type\s*/Page(?![A-Za-z])", head) is None
    ):
        return "This PDF has no pages."
    return "This file is not a readable PDF (it may be damaged or incomplete)."


def jpx_size(data: bytes) -> tuple[int, int, int] | None:
    """(width, height, components) from the SIZ marker of a JPEG 2000 codestream (bare, or in a JP2
    file's codestream box), or None when there is none in its first 64 KiB."""
    at = data.find(b"\xff\x4f\xff\x51", 0, 1 << 16)  # SOC, then SIZ: the codestream's first two markers
    if at < 0 or len(data) < at + 42:
        return None
    width, height, left, top = struct.unpack(">IIII", data[at + 8 : at + 24])
    (components,) = struct.unpack(">H", data[at + 40 : at + 42])
    return max(0, width - left), max(0, height - top), components


def _oversized_image(page: Any, budget: int) -> str | None:
    """A JPEG 2000 image on `page` that would take more than `budget` bytes to decode, described; else None.

    PDFium decodes a JPEG 2000 image at the size its codestream states (4 bytes per sample), whatever
    the image dictionary says, and when that allocation fails it silently draws nothing: asked here
    first, the page gets a message instead of a blank."""
    import pypdfium2.raw as raw

    for image in page.get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,), max_depth=8):
        if "JPXDecode" not in image.get_filters():
            continue
        size = jpx_size(bytes(image.get_data(decode_simple=False)))
        if size is not None and size[0] * size[1] * max(1, size[2]) * 4 > budget:
            return f"a {size[0]} x {size[1]} JPEG 2000 image"
    return None


class _Child:
    def __init__(self, read_fd: int, write_fd: int, megabytes: int) -> None:
        self.read_fd, self.write_fd = read_fd, write_fd
        self.budget = megabytes << 20
        self.document: Any = None

    def serve(self) -> None:
        while True:
            try:
                header, payload = read_message(self.read_fd)
            except ProtocolError:
                return  # the parent closed the pipe
            operation = header.get("op")
            if operation == "open":
                self._open(header, payload)
            elif operation == "render":
                self._render(int(header["index"]), float(header["dpi"]), int(header["max_pixels"]))
            elif operation == "close":
                self._close()
            else:
                write_message(self.write_fd, {"error": f"unknown operation {operation!r}"})

    def _close(self) -> None:
        if self.document is not None:
            self.document.close()
            self.document = None

    def _open(self, header: dict[str, Any], payload: bytes) -> None:
        import pypdfium2 as pdfium

        self._close()
        data: bytes | str = payload if "path" not in header else str(header["path"])
        try:
            self.document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as error:
            write_message(self.write_fd, {"error": _open_error(data, error)})
            return
        except OSError:
            write_message(self.write_fd, {"error": "This file could not be read."})
            return
        count = len(self.document)
        write_message(self.write_fd, {"pages": count} if count >= 1 else {"error": "This PDF has no pages."})

    def _render(self, index: int, dpi: float, max_pixels: int) -> None:
        import numpy as np
        import pypdfium2 as pdfium

        unreadable = {"error": f"Page {index + 1} of this PDF could not be read (the file may be damaged)."}
        if self.document is None:
            write_message(self.write_fd, {"error": "no document is open"})
            return
        try:
            page = self.document[index]
        except (pdfium.PdfiumError, IndexError):
            write_message(self.write_fd, unreadable)
            return
        try:
            width, height = page.get_size()  # as displayed: PDFium applies the page's /Rotate
            try:
                scale = render_scale((width, height), dpi, max_pixels)
            except ValueError as error:
                write_message(self.write_fd, {"error": str(error)})
                return
            write_message(self.write_fd, {"size_pt": [float(width), float(height)], "scale": scale})
            oversized = _oversized_image(page, self.budget)
            if oversized:
                write_message(self.write_fd, {"over_limit": oversized})
                return
            try:
                bitmap = page.render(scale=scale, rev_byteorder=True)  # RGBx / RGBA
            except pdfium.PdfiumError:
                write_message(self.write_fd, {"error": f"Page {index + 1} of this PDF could not be rendered."})
                return
            try:
                pixels = bitmap.to_numpy()
                rows, columns = pixels.shape[:2]
                write_message(self.write_fd, {"width": columns, "height": rows, "pixels": rows * columns * 3})
                for top in range(0, rows, ROWS_PER_WRITE):
                    band = pixels[top : top + ROWS_PER_WRITE]
                    band = band[:, :, :3] if band.ndim == 3 else np.repeat(band[:, :, None], 3, 2)
                    write_all(self.write_fd, np.ascontiguousarray(band).data)
            finally:
                bitmap.close()
        finally:
            page.close()


def main(argv: list[str]) -> None:
    read_fd, write_fd, megabytes = int(argv[0]), int(argv[1]), int(argv[2])
    import resource

    import numpy  # noqa: F401  (mapped before the cap is measured)
    import pypdfium2  # noqa: F401

    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    try:
        idle = _address_space_bytes()
    except OSError:  # no /proc (not Linux): RLIMIT_AS is not enforced there either; the deadline still is
        idle = None
    if idle is not None:
        limit = idle + (megabytes << 20)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    write_message(write_fd, {"ready": True})
    _Child(read_fd, write_fd, megabytes).serve()


if __name__ == "__main__":
    main(sys.argv[1:])
