"""Count the scans of a JPEG from its markers, without decoding: the cost bound for progressive JPEGs.

libjpeg decodes every scan of a progressive JPEG over the whole image, so decoding costs about
(scans x pixels): a 6300x6300 white page whose ~60-byte scan is repeated 16,000 times (1 MB) takes about
a minute. Encoders write 6 to 20 scans (libjpeg's default progressive script has 10 for colour, 6 for grey;
mozjpeg's optimised ones fewer than 20). The project's decoder (ocr_model/image_decode.py, for the app's uploads
and the command line's files) refuses files above `MAX_JPEG_SCANS` before decoding.
"""

from __future__ import annotations

import re

MAX_JPEG_SCANS = 100  # bounds the extra decode work to ~0.3 s at 40 MP

# A marker in entropy-coded data: 0xFF followed by anything but a stuffed zero, a restart marker or fill.
_NEXT_MARKER = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")
_SOS, _EOI = 0xDA, 0xD9


def is_jpeg(head: bytes) -> bool:
    return head.startswith(b"\xff\xd8")


def jpeg_scan_count(data: bytes, stop_after: int | None = None) -> int:
    """Number of scans (SOS segments) in the first image of a JPEG stream, read from its markers only.

    Segments are skipped by their length, so markers inside EXIF thumbnails or ICC profiles are not
    counted; entropy-coded data is skipped with one regular-expression search per scan. Stops counting
    once `stop_after` is exceeded. Costs microseconds per scan; never decodes anything.
    """
    position, size, scans = 2, len(data), 0
    while position + 4 <= size:
        if data[position] != 0xFF:
            found = _NEXT_MARKER.search(data, position)
            if found is None:
                break
            position = found.start()
            continue
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0x00 or 0xD0 <= marker <= 0xD8 or marker == 0x01:  # no length field
            position += 2
            continue
        if marker == _EOI:
            break
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        position += 2 + max(length, 2)
        if marker == _SOS:
            scans += 1
            if stop_after is not None and scans > stop_after:
                break
            found = _NEXT_MARKER.search(data, position)
            if found is None:
                break
            position = found.start()
    return scans
