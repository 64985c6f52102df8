"""Searchable PDF: each page's image with an invisible text layer at the word boxes.

The file is written here directly, with no PDF library: a page is its JPEG (DCTDecode, stretched
over the page) and one content stream; all pages share one font. The visible layer is always an
image the caller already has, never a page loaded from a source PDF: loading a PDF page makes
PDFium parse its content here, outside the renderer process's time and memory limits (issue 14:
a page inflating to 300 MiB, rendered in 6 s within the limits there, then took 19 s and +600 MB
in the server when its export imported it), and would copy the sender's content streams into the
file users download.

The text is invisible (render mode 3) in a glyphless font embedded as a composite font (Type0,
CIDFontType2, Identity-H): each distinct character of the document gets its own two-byte code
(1, 2, ... in order of first use), the CIDToGIDMap sends every code to the font's one glyph, which
draws nothing, and the ToUnicode CMap maps every code back to its character (UTF-16BE, so those
beyond U+FFFF too). Every character, Latin, accented, CJK or symbol, is extracted as itself by
poppler, PDFium and pypdf-style extractors, and no viewer has to find a font for it. Every glyph
advances `GLYPH_ADVANCE` (see `glyph_advance`), the width the per-word scaling divides by.

The text layer is laid out the way OCRmyPDF lays out its own, so that it copies cleanly in
poppler (pdftotext, Evince), PDFium and content-order extractors: each line has one baseline
along its polygon and one font size, chosen so the font's ascent-to-descent height is the
line's height (no taller, so lines never reach into each other); each word's glyph run is
scaled horizontally to its box width exactly (no overlap with the next word), followed by a
real space character; lines in reading order, each its
own text line. Extractors that join characters by geometry (poppler) then see a gap between
words and none inside them; those that read the content stream (PDFium, pypdf) see the spaces.
"""

from __future__ import annotations

import functools
import io
import math
import struct
import zlib
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..config import PAGE_DPI
from ..types import Predictions

JPEG_QUALITY = 85
# The glyphless font's metrics (em = 1): every glyph advances half an em; its ascent and descent
# (in the font descriptor, hhea and OS/2, which poppler and PDFium box text by) span one em, so the
# font size is the line's text height.
GLYPH_ADVANCE = 0.5
ASCENT = 0.8
DESCENT = -0.2
FONT_NAME = "OcrGlyphless"
# Smallest gap kept between two words' runs, in em: poppler's raw (content-order) mode writes a
# space only above 0.15 em, and runs that touched or overlapped were what made every poppler mode
# merge "led" and "by".
MIN_WORD_GAP_EM = 0.25
# Lines within this many degrees of an axis are written along the axis: poppler cuts tilted text
# into fragments wherever the baseline has moved half a point ("durin" / "g the"). A line whose
# ends drift apart by at most half its height across that axis keeps one baseline (poppler reads
# it as one line); a longer or steeper one puts each word on its own baseline through the word's
# centre, so the words stay whole and their boxes on them (poppler may then cut the line).
SNAP_DEGREES = 12.0
MAX_DRIFT_OF_HEIGHT = 0.5


@dataclass(frozen=True)
class GlyphRun:
    """One run of invisible text: `text` starts at `origin` (PDF points) on a baseline along
    `direction` (unit vector), at `font_size`, stretched horizontally by `scale` (PDF `Tz` / 100)."""

    text: str
    origin: tuple[float, float]
    direction: tuple[float, float]
    font_size: float
    scale: float


@dataclass(frozen=True)
class PdfPage:
    """One page of a searchable PDF.

    `image`: the page as an RGB uint8 array or as JPEG bytes; any resolution (e.g. a
    display-size preview): it is stretched over the page. `predictions`: the OCR result
    whose polygons are in `predictions.image_size` pixels. `size_pt`: page (width, height)
    in PDF points; default: `image_size` at `dpi`.
    """

    image: np.ndarray | bytes
    predictions: Predictions
    size_pt: tuple[float, float] | None = None


def glyph_advance(text: str) -> float:
    """Width of `text` at font size 1 in the glyphless font: the same for every character."""
    return GLYPH_ADVANCE * len(text)


def _jpeg(image: np.ndarray | bytes) -> tuple[bytes, int, int, str]:
    """(JPEG bytes, width, height, PDF colour space) of a page image."""
    from PIL import Image

    if isinstance(image, (bytes, bytearray)):
        if not bytes(image[:3]) == b"\xff\xd8\xff":
            raise ValueError("PdfPage.image bytes must be a JPEG file")
        opened = Image.open(io.BytesIO(bytes(image)))
        if opened.mode in ("L", "RGB"):  # as it is; other modes (CMYK) are re-encoded as RGB
            return bytes(image), opened.width, opened.height, "DeviceGray" if opened.mode == "L" else "DeviceRGB"
        picture = opened.convert("RGB")
    else:
        array = np.asarray(image)
        if array.dtype != np.uint8 or array.ndim not in (2, 3):
            raise ValueError(f"PdfPage.image must be an RGB uint8 array or JPEG bytes, got {array.dtype} {array.shape}")
        picture = Image.fromarray(array).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue(), picture.width, picture.height, "DeviceRGB"


def to_searchable_pdf(pages: PdfPage | Sequence[PdfPage], dpi: float = PAGE_DPI, upright: bool = True) -> bytes:
    """The bytes of a PDF with one page per `PdfPage`: its image, and the recognized words as
    invisible text at their boxes. With `upright`, a page the engine read turned
    (`Predictions.rotation`) is shown turned the same way (the page's /Rotate), so it displays
    upright; the image and text stay as they are in the page's own coordinates."""
    pages = [pages] if isinstance(pages, PdfPage) else list(pages)
    if not pages:
        raise ValueError("to_searchable_pdf needs at least one page")
    codes: dict[str, int] = {}  # character -> its code (CID) in the font, 1, 2, ... in order of use
    objects: list[bytes] = [b""] * 8  # 1 catalog, 2 page tree, 3-8 font: written once every page is known
    kids = []
    for spec in pages:
        if spec.image is None:
            raise ValueError("PdfPage needs an image")
        size_pt, runs = _page_runs(spec, dpi)
        jpeg, width, height, colour_space = _jpeg(spec.image)
        objects.append(_stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /%s /BitsPerComponent 8 /Filter /DCTDecode" % (width, height, colour_space.encode()), jpeg))
        image_number = len(objects)
        objects.append(_stream(b"/Filter /FlateDecode", zlib.compress(_content(size_pt, runs, codes))))
        content_number = len(objects)
        rotate = b" /Rotate %d" % spec.predictions.rotation if upright and spec.predictions.rotation else b""
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s]%s /Contents %d 0 R /Resources << /XObject << /Im0 %d 0 R >> /Font << /F0 3 0 R >> >> >>"
            % (_num(size_pt[0]), _num(size_pt[1]), rotate, content_number, image_number)
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % kid for kid in kids), len(kids))
    objects[2:8] = _font_objects(codes)
    return _pdf_file(objects)


def _font_objects(codes: dict[str, int]) -> list[bytes]:
    """Objects 3-8: the Type0 font, its CIDFontType2, font descriptor, font file, CIDToGIDMap and ToUnicode CMap."""
    name = FONT_NAME.encode()
    entries = [b"<%04X> <%s>" % (code, char.encode("utf-16-be", "surrogatepass").hex().upper().encode()) for char, code in codes.items()]
    blocks = b"".join(b"%d beginbfchar\n%s\nendbfchar\n" % (len(entries[i : i + 100]), b"\n".join(entries[i : i + 100])) for i in range(0, len(entries), 100))
    to_unicode = (
        b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        b"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n%s"
        b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n" % blocks
    )
    glyph_map = b"\x00\x00" + b"\x00\x01" * len(codes)  # code 0: .notdef; every other code: glyph 1
    font_file = glyphless_font()
    milli = lambda value: round(value * 1000)  # noqa: E731
    return [
        b"<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [4 0 R] /ToUnicode 8 0 R >>" % name,
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
        b" /FontDescriptor 5 0 R /DW %d /CIDToGIDMap 7 0 R >>" % (name, milli(GLYPH_ADVANCE)),
        b"<< /Type /FontDescriptor /FontName /%s /Flags 5 /FontBBox [0 %d %d %d] /ItalicAngle 0 /Ascent %d /Descent %d"
        b" /CapHeight %d /StemV 80 /FontFile2 6 0 R >>" % (name, milli(DESCENT), milli(GLYPH_ADVANCE), milli(ASCENT), milli(ASCENT), milli(DESCENT), milli(ASCENT)),
        _stream(b"/Filter /FlateDecode /Length1 %d" % len(font_file), zlib.compress(font_file)),
        _stream(b"/Filter /FlateDecode", zlib.compress(glyph_map)),
        _stream(b"/Filter /FlateDecode", zlib.compress(to_unicode)),
    ]


def _content(size_pt: tuple[float, float], runs: list[GlyphRun], codes: dict[str, int]) -> bytes:
    """A page's content stream: the image over the page, then each run as invisible text."""
    parts = [b"q %s 0 0 %s 0 0 cm /Im0 Do Q" % (_num(size_pt[0]), _num(size_pt[1]))]
    if runs:
        parts.append(b"BT 3 Tr")
        for run in runs:
            (unit_x, unit_y), (x, y) = run.direction, run.origin
            hex_codes = "".join("%04X" % _code(codes, char) for char in run.text)
            parts.append(
                b"/F0 %s Tf %s %s %s %s %s %s Tm %s Tz <%s> Tj"
                % (_num(run.font_size), *(_num(value) for value in (unit_x, unit_y, -unit_y, unit_x, x, y)), _num(run.scale * 100), hex_codes.encode())
            )
        parts.append(b"ET")
    return b"\n".join(parts) + b"\n"


def _code(codes: dict[str, int], char: str) -> int:
    """`char`'s code in the font, a new one at its first use (after 65,534 distinct characters, U+FFFD's)."""
    if char not in codes and len(codes) >= 0xFFFE:
        char = "\ufffd"
    return codes.setdefault(char, len(codes) + 1)


def _num(value: float) -> bytes:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return b"0" if text in ("", "-0") else text.encode()


def _stream(entries: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (entries, len(data), data)


def _pdf_file(objects: list[bytes]) -> bytes:
    """A PDF file of `objects` (object n is objects[n - 1]; 1 is the catalog), with its cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _sfnt_checksum(data: bytes) -> int:
    data += b"\0" * (-len(data) % 4)
    return sum(struct.unpack(">%dI" % (len(data) // 4), data)) & 0xFFFFFFFF


@functools.lru_cache(maxsize=1)
def glyphless_font() -> bytes:
    """A TrueType font of two glyphs that draw nothing: .notdef, and the glyph every character
    uses. That one is two single-point contours at the corners of its cell (x 0 to the advance,
    descent to ascent): they fill nothing, but make the cell the glyph's box, so extractors that
    box a character by its glyph (PDFium) box it at its cell."""
    up, down, advance = round(ASCENT * 1000), round(DESCENT * 1000), round(GLYPH_ADVANCE * 1000)
    glyph = struct.pack(">hhhhhHHHBBhhhh", 2, 0, down, advance, up, 0, 1, 0, 1, 1, 0, advance, down, up - down) + b"\0\0"
    name_strings = [(1, FONT_NAME), (2, "Regular"), (4, FONT_NAME), (6, FONT_NAME)]
    records, strings = b"", b""
    for name_id, text in name_strings:
        encoded = text.encode("utf-16-be")
        records += struct.pack(">6H", 3, 1, 0x409, name_id, len(encoded), len(strings))
        strings += encoded
    tables = {
        b"OS/2": struct.pack(
            ">HhHHH11h10s4I4sHHHhhhHH2IhhHHH",
            4, advance, 400, 5, 0, *[0] * 11, b"\0" * 10, 0, 0, 0, 0, b"    ", 0x40, 0xFFFF, 0xFFFF,
            up, down, 0, up, -down, 0, 0, advance, up, 0, 32, 0,
        ),
        b"cmap": struct.pack(">4HI12H", 0, 1, 3, 1, 12, 4, 24, 0, 2, 2, 0, 0, 0xFFFF, 0, 0xFFFF, 1, 0),  # maps nothing
        b"glyf": glyph,
        b"head": struct.pack(">4I2H2q4h2H3h", 0x10000, 0x10000, 0, 0x5F0F3CF5, 3, 1000, 0, 0, 0, down, advance, up, 0, 8, 2, 1, 0),
        b"hhea": struct.pack(">I3hH3h3h4hhH", 0x10000, up, down, 0, advance, 0, 0, advance, 1, 0, 0, 0, 0, 0, 0, 0, 2),
        b"hmtx": struct.pack(">HhHh", advance, 0, advance, 0),
        b"loca": struct.pack(">3I", 0, 0, len(glyph)),
        b"maxp": struct.pack(">I14H", 0x10000, 2, 2, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0),
        b"name": struct.pack(">3H", 0, len(name_strings), 6 + 12 * len(name_strings)) + records + strings,
        b"post": struct.pack(">IihhIIIII", 0x30000, 0, -100, 50, 1, 0, 0, 0, 0),
    }
    selector = len(tables).bit_length() - 1
    font = bytearray(struct.pack(">I4H", 0x10000, len(tables), 16 << selector, selector, 16 * len(tables) - (16 << selector)))
    offset, body, head_at = 12 + 16 * len(tables), b"", 0
    for tag in sorted(tables):
        data = tables[tag]
        if tag == b"head":
            head_at = offset + len(body)
        font += struct.pack(">4s3I", tag, _sfnt_checksum(data), offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    font += body
    font[head_at + 8 : head_at + 12] = struct.pack(">I", (0xB1B0AFBA - _sfnt_checksum(bytes(font))) & 0xFFFFFFFF)
    return bytes(font)


def line_runs(
    line_polygon: np.ndarray,
    words: Sequence[tuple[np.ndarray, str]],
    advance: Callable[[str], float],
) -> list[GlyphRun]:
    """The glyph runs of one line: each word scaled to its box, followed by a space (but the last).

    `line_polygon` and each word's polygon are in PDF points (y up), clockwise from the
    top-left as the text reads (K >= 4 points); `advance(text)` is the text's width at font
    size 1. The line's direction and text height come from its polygon (snapped to the nearest
    axis when within `SNAP_DEGREES`); a word's start and end are its polygon's extent along
    that direction. Pass the whole line as one "word" when the engine gave no word boxes: it is
    split at its spaces in proportion to the words' widths."""
    points = np.asarray(line_polygon, dtype=np.float64).reshape(-1, 2)
    if len(points) < 4 or not np.all(np.isfinite(points)):
        return []
    half = len(points) // 2
    along = (points[half - 1] - points[0]) + (points[half] - points[-1])  # top edge + bottom edge
    length = float(np.hypot(*along))
    if length < 1e-6:
        return []
    unit = along / length
    heights = points @ np.array([-unit[1], unit[0]])  # PDF y points up: the text's top is on this side
    text_height = float(heights.max() - heights.min())
    font_size = text_height / (ASCENT - DESCENT)
    if font_size < 1e-3:
        return []
    angle = math.degrees(math.atan2(unit[1], unit[0]))
    axis = round(angle / 90.0) * 90.0
    snapped = abs(angle - axis) <= SNAP_DEGREES
    per_word = snapped and length / 2 * abs(math.sin(math.radians(angle - axis))) > MAX_DRIFT_OF_HEIGHT * text_height
    if snapped:
        unit = np.array([round(math.cos(math.radians(axis))), round(math.sin(math.radians(axis)))], dtype=np.float64)
    up = np.array([-unit[1], unit[0]])
    line_middle = float((points @ up).min() + (points @ up).max()) / 2

    spans = []  # [start, end, middle across, text] per word
    for polygon, text in _split_unboxed(points, words, advance):
        word_points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        if not text.strip() or len(word_points) == 0 or not np.all(np.isfinite(word_points)):
            continue
        along_word, across = word_points @ unit, word_points @ up
        middle = float(across.min() + across.max()) / 2 if per_word else line_middle
        spans.append([float(along_word.min()), float(along_word.max()), middle, text.strip()])
    gap = MIN_WORD_GAP_EM * font_size
    for left, right in zip(spans, spans[1:]):
        if right[0] >= left[0] and right[0] < left[1] + gap:  # touching or overlapping: split the overlap
            middle = (left[1] + right[0]) / 2
            left[1] = max(left[0] + gap, middle - gap / 2)
            right[0] = max(right[0], left[1] + gap)
            right[1] = max(right[1], right[0] + gap)

    runs = []
    for index, (start, end, middle, text) in enumerate(spans):
        width = advance(text) * font_size
        if width <= 0 or end - start <= 0:
            continue
        baseline = middle - text_height / 2 - DESCENT * font_size
        origin = start * unit + baseline * up
        # The space after a word (not after the line's last) goes in the word's own run: PDFium's
        # extractor ignores a run that is only a space, and poppler places words by their glyphs,
        # not by spaces, so the space's advance past the box does not join the words there.
        spaced = text + " " if index + 1 < len(spans) else text
        runs.append(GlyphRun(spaced, (float(origin[0]), float(origin[1])), (float(unit[0]), float(unit[1])), font_size, (end - start) / width))
    return runs


def _split_unboxed(
    line_points: np.ndarray, words: Sequence[tuple[np.ndarray, str]], advance: Callable[[str], float]
) -> list[tuple[np.ndarray, str]]:
    """`words` as given; a single item holding several words (a line without word boxes) is
    cut along its polygon in proportion to each word's width and the spaces between them."""
    if len(words) != 1 or len(words[0][1].split()) < 2:
        return list(words)
    polygon, text = words[0]
    quad = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if len(quad) != 4:
        return list(words)
    pieces = text.split()
    widths = [advance(piece) for piece in pieces]
    space = advance(" ")
    total = sum(widths) + space * (len(pieces) - 1)
    if total <= 0:
        return list(words)
    top_left, top_right, bottom_right, bottom_left = quad
    out, position = [], 0.0
    for piece, width in zip(pieces, widths):
        a, b = position / total, (position + width) / total
        top_a, top_b = top_left + (top_right - top_left) * a, top_left + (top_right - top_left) * b
        bottom_a, bottom_b = bottom_left + (bottom_right - bottom_left) * a, bottom_left + (bottom_right - bottom_left) * b
        out.append((np.array([top_a, top_b, bottom_b, bottom_a]), piece))
        position += width + space
    return out


def _page_runs(spec: PdfPage, dpi: float) -> tuple[tuple[float, float], list[GlyphRun]]:
    """The page's size in points and its glyph runs, line by line in reading order."""
    predictions = spec.predictions
    height_px, width_px = (max(1, int(value)) for value in predictions.image_size)
    if spec.size_pt is not None:
        width_pt, height_pt = (float(value) for value in spec.size_pt)
    else:
        width_pt, height_pt = width_px * 72.0 / dpi, height_px * 72.0 / dpi
    scale_x, scale_y = width_pt / width_px, height_pt / height_px

    def to_pt(points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return np.stack([points[:, 0] * scale_x, height_pt - points[:, 1] * scale_y], axis=1)

    runs: list[GlyphRun] = []
    for index, (polygon, text) in enumerate(zip(predictions.polygons, predictions.texts)):
        items = [(to_pt(word.polygon), word.text) for word in predictions.line_words(index)] or [(to_pt(polygon), text)]
        runs.extend(line_runs(to_pt(polygon), items, glyph_advance))
    return (width_pt, height_pt), runs
