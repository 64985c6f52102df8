"""Small PDFs and text pages made in the tests (no files in the repository): Pillow for pages with text,
pypdfium2 for sizes and page counts, a hand-written file for encryption."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def text_page(lines, size=(850, 1100), font_size=36, top=80, pitch=90, left=60, fill=(0, 0, 0)):
    """An RGB page (Pillow image) with `lines` of text at known rows."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=font_size)
    for row, text in enumerate(lines):
        draw.text((left, top + row * pitch), text, fill=fill, font=font)
    return image


# Four lines the real engine reads exactly on `receipt_page` (the page-rotation tests turn that page).
RECEIPT_LINES = ["Invoice 2024-118", "Cappuccino large 3.80", "TOTAL AMOUNT RM 12.50", "Thank you, come again"]


def receipt_page() -> np.ndarray:
    """`RECEIPT_LINES` upright on a small landscape page (640x420), as an RGB array."""
    return np.asarray(text_page(RECEIPT_LINES, size=(640, 420), font_size=30, top=30, left=30, fill=(10, 10, 10)))


def pdf_of_images(images, resolution=100.0) -> bytes:
    """A PDF with one page per Pillow image, each image filling its page at `resolution` dpi."""
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", save_all=True, append_images=list(images[1:]), resolution=resolution)
    return buffer.getvalue()


def blank_pdf(sizes_pt, rotations=None) -> bytes:
    """A PDF of empty pages of the given (width, height) sizes in points."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    for index, (width, height) in enumerate(sizes_pt):
        page = document.new_page(width, height)
        if rotations and rotations[index]:
            page.set_rotation(rotations[index])
    buffer = io.BytesIO()
    document.save(buffer)
    document.close()
    return buffer.getvalue()


def assemble_pdf(objects, trailer_extra=b"") -> bytes:
    """A PDF of these object bodies (numbered from 1, the first the catalog), with its xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer_extra + b">>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def encrypted_pdf() -> bytes:
    """A one-page PDF protected by a (unknown) user password (standard security handler, RC4 40-bit)."""
    return assemble_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
            b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -4 >>",
        ],
        b"/Encrypt 4 0 R /ID [<" + b"33" * 16 + b"> <" + b"33" * 16 + b">] ",
    )


def zero_page_pdf() -> bytes:
    return assemble_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def broken_pdf() -> bytes:
    """Starts like a PDF, then nothing a reader can use."""
    return b"%PDF-1.7\n" + b"\x00garbage" * 50


def huge_image_pdf(side: int = 30000) -> bytes:
    """A one-page PDF (200 x 200 pt) showing a side x side gray Flate image: ~0.9 MB that
    decodes to side^2 bytes (900 MB at 30000) if a reader decoded it at full size."""
    import zlib

    compressor = zlib.compressobj(9)
    row = b"\x00" * side
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    content = b"q 200 0 0 200 0 0 cm /Im0 Do Q"
    return assemble_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] "
            b"/Resources << /XObject << /Im0 5 0 R >> >> /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % (side, side, len(data))
            + data
            + b"\nendstream",
        ]
    )
