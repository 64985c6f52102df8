"""Hostile PDFs built in the tests (no binary files in the repository): each is small on disk and was
costly to render before pages were rendered in a worker process (issue 14, measured in the server), and
the legitimate worst case they are held to.

Every bomb document has a normal page after its hostile page(s), which must still be read:
- `inflating_content_pdf`: ~1 MB, a page content stream that inflates to ~1 GiB (+3 GB of server memory);
- `jpx_claiming_pdf`: < 1 KB of JPEG 2000 image whose header claims 60000 x 60000 RGB (+1 GB);
- `repeated_image_pdf`: ~1 MB, one large Flate image drawn 60 times on a page (34 s);
- `stroke_storm_pdf`: two pages of a few million stroked lines each, from compressed content (46 s);
- `worst_case_pdf`: a real 14,400 pt page (200 inches square, rendered at ~6,319 px under the 40 MP cap)
  with a full-page scan and text: what the limits must still let through.
"""

from __future__ import annotations

import io
import zlib

from PIL import Image, ImageDraw, ImageFont

from pdf_samples import assemble_pdf

NORMAL_SIZE = 144.0  # pt: a 2-inch page, 400 px square at 200 dpi, cheap to render and send back
NORMAL_CONTENT = b"0 0 0 rg 36 36 72 72 re f"  # a black square in its middle


class PdfBuilder:
    """Objects numbered in the order they are added; `page` adds a page (its content stream first)."""

    def __init__(self) -> None:
        self.objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
        self.pages: list[int] = []

    def add(self, body: bytes) -> int:
        self.objects.append(body)
        return len(self.objects)

    def page(self, content: bytes, size: float = 612.0, resources: bytes = b"", deflated: bool = False) -> None:
        contents = self.add(stream(content, b"/Filter /FlateDecode " if deflated else b""))
        self.pages.append(
            self.add(
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] " % (size, size)
                + (b"/Resources " + resources + b" " if resources else b"")
                + b"/Contents %d 0 R >>" % contents
            )
        )

    def normal_page(self) -> None:
        self.page(NORMAL_CONTENT, size=NORMAL_SIZE)

    def build(self) -> bytes:
        kids = b" ".join(b"%d 0 R" % number for number in self.pages)
        self.objects[1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(self.pages)
        return assemble_pdf(self.objects)


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d " % len(data) + extra + b">>\nstream\n" + data + b"\nendstream"


def deflate_repeated(chunk: bytes, times: int, prefix: bytes = b"") -> bytes:
    """zlib data that inflates to `prefix`, then `chunk` repeated `times` times, at ~1/1000 of that size.

    Built in about a second for a GiB: the repeats are cut into ~1 MiB blocks each compressed after a
    full flush (which resets the compressor's window), so every block compresses to the same bytes and
    is compressed once; the checksum is computed over the whole inflated data."""
    per_block = max(1, (1 << 20) // len(chunk))
    blocks, rest = divmod(times, per_block)
    block_data = chunk * per_block
    compressor = zlib.compressobj(9)
    out = [compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)]
    checksum = zlib.adler32(prefix)
    if blocks:
        block = compressor.compress(block_data) + compressor.flush(zlib.Z_FULL_FLUSH)
        out.append(block * blocks)
        for _ in range(blocks):
            checksum = zlib.adler32(block_data, checksum)
    out.append(compressor.compress(chunk * rest) + compressor.flush(zlib.Z_FULL_FLUSH))
    checksum = zlib.adler32(chunk * rest, checksum)
    # an empty final block (fixed Huffman codes), then the Adler-32 of everything inflated
    return b"".join(out) + b"\x03\x00" + checksum.to_bytes(4, "big")


def normal_pdf(pages: int = 2) -> bytes:
    """`pages` normal pages (a black square on white)."""
    builder = PdfBuilder()
    for _ in range(pages):
        builder.normal_page()
    return builder.build()


def inflating_content_pdf(inflated_mib: int = 1024, chunk: bytes = b" " * (1 << 20)) -> bytes:
    """Page 1: a content stream of `inflated_mib` MiB of `chunk` (~1 MB deflated); page 2: normal."""
    builder = PdfBuilder()
    builder.page(deflate_repeated(chunk, inflated_mib * (1 << 20) // len(chunk)), deflated=True)
    builder.normal_page()
    return builder.build()


def jpx_codestream(side: int = 60000) -> bytes:
    """A JPEG 2000 codestream (J2K) of a 16 x 16 RGB image whose SIZ header was rewritten to say side x side."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(buffer, "JPEG2000", no_jp2=True)
    data = bytearray(buffer.getvalue())
    siz = data.index(b"\xff\x51")  # SIZ: marker, Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz, ...
    for offset in (6, 10, 22, 26):  # image and tile width and height
        data[siz + offset : siz + offset + 4] = side.to_bytes(4, "big")
    return bytes(data)


def jpx_claiming_pdf(side: int = 60000) -> bytes:
    """Page 1 shows a /JPXDecode image: its dictionary says 16 x 16, its codestream side x side RGB (PDFium
    then allocates for the codestream's size: +1 GB before it gives up, 6.6 s, at 60000); page 2: normal."""
    builder = PdfBuilder()
    image = builder.add(
        stream(
            jpx_codestream(side),
            b"/Type /XObject /Subtype /Image /Width 16 /Height 16 /ColorSpace /DeviceRGB /BitsPerComponent 8 "
            b"/Filter /JPXDecode ",
        )
    )
    builder.page(b"q 612 0 0 612 0 0 cm /Im0 Do Q", resources=b"<< /XObject << /Im0 %d 0 R >> >>" % image)
    builder.normal_page()
    return builder.build()


def repeated_image_pdf(side: int = 30000, draws: int = 60) -> bytes:
    """Page 1 draws one side x side gray Flate image (~0.9 MB, side^2 bytes decoded) `draws` times;
    page 2: normal."""
    builder = PdfBuilder()
    image = builder.add(
        stream(
            deflate_repeated(b"\x80" * side, side),
            b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 "
            b"/Filter /FlateDecode " % (side, side),
        )
    )
    content = b"".join(b"q %d 0 0 %d %d %d cm /Im0 Do Q\n" % (600 - i, 600 - i, i, i) for i in range(draws))
    builder.page(content, resources=b"<< /XObject << /Im0 %d 0 R >> >>" % image)
    builder.normal_page()
    return builder.build()


def stroke_storm_pdf(strokes_per_page: int = 2_000_000, pages: int = 2) -> bytes:
    """`pages` pages each stroking `strokes_per_page` wide diagonal lines (a compressed content stream
    of a few KB per page), then a normal page."""
    builder = PdfBuilder()
    for _ in range(pages):
        builder.page(deflate_repeated(b"0 0 m 612 612 l S\n", strokes_per_page, prefix=b"20 w\n"), deflated=True)
    builder.normal_page()
    return builder.build()


def worst_case_pdf(scan_side: int = 4000) -> bytes:
    """One 14,400 pt page (200 inches square, rendered at ~6,319 px: the 40 MP cap) covered by a
    `scan_side` px RGB JPEG scan of text lines, with a line of real text on top: the costliest page a
    legitimate user sends, which the default limits must let through."""
    scan = Image.new("RGB", (scan_side, scan_side), (250, 248, 240))
    draw = ImageDraw.Draw(scan)
    font = ImageFont.load_default(size=max(12, scan_side // 60))
    for row in range(40, scan_side - 80, scan_side // 45):
        draw.text((60, row), f"Line {row}: the quick brown fox jumps over the lazy dog 0123456789", fill=(20, 20, 20), font=font)
    buffer = io.BytesIO()
    scan.save(buffer, "JPEG", quality=85)
    builder = PdfBuilder()
    image = builder.add(
        stream(
            buffer.getvalue(),
            b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 "
            b"/Filter /DCTDecode " % (scan_side, scan_side),
        )
    )
    font_object = builder.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    content = b"q 14400 0 0 14400 0 0 cm /Im0 Do Q BT /F1 400 Tf 400 13600 Td (Worst case page) Tj ET"
    builder.page(
        content,
        size=14400.0,
        resources=b"<< /XObject << /Im0 %d 0 R >> /Font << /F1 %d 0 R >> >>" % (image, font_object),
    )
    return builder.build()
