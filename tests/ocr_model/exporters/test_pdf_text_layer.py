"""The searchable PDF's text layer copies cleanly: read back with poppler (`pdftotext`, the
extractor of Evince and most Linux viewers) and with PDFium, the words are the OCR result's own
words, spaced, in order, one text line per OCR line, with boxes at the text's height.

Real OCR results (the engine reads generated pages and the repository's samples), so the word
boxes are the ones the engine writes. poppler-utils is a Debian package; .ci/run installs it and
sets OCR_REQUIRE_POPPLER=1, which turns a missing `pdftotext` into a failure instead of a skip.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr_model.exporters import PdfPage, to_searchable_pdf
from ocr_model.exporters.pdf import ASCENT, DESCENT, glyphless_font, line_runs
from ocr_model.types import Predictions, Word

ASSETS = Path(__file__).resolve().parents[3] / "assets"


def pdftotext(data: bytes, *options: str, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        if os.environ.get("OCR_REQUIRE_POPPLER") == "1":
            pytest.fail("OCR_REQUIRE_POPPLER=1 but pdftotext (poppler-utils) is not installed", pytrace=False)
        pytest.skip("pdftotext not installed (apt-get install -y poppler-utils)")
    path = tmp_path / "page.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", *options, str(path), "-"], capture_output=True, encoding="utf-8", check=True).stdout


def pdfium_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def word_f1(found: list[str], expected: list[str]) -> float:
    common = sum((Counter(found) & Counter(expected)).values())
    if not found or not expected:
        return float(found == expected)
    precision, recall = common / len(found), common / len(expected)
    return 0.0 if common == 0 else 2 * precision * recall / (precision + recall)


def line_breaks(lines: list[list[str]]) -> set[int]:
    """Word counts at which each non-empty line ends."""
    ends, count = set(), 0
    for words in lines:
        if words:
            count += len(words)
            ends.add(count)
    return ends


def ocr_words(predictions: Predictions) -> list[str]:
    return " ".join(predictions.texts).split()


def two_column_page() -> Image.Image:
    """A page with two columns of prose."""
    image = Image.new("RGB", (1400, 900), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=30)
    left = ["Rivers carry water", "from the hills down", "to the wide sea and", "feed the old farms."]
    right = ["Winter brings snow", "to the north while", "the south stays dry", "and warm all year."]
    for row, (a, b) in enumerate(zip(left, right)):
        draw.text((60, 80 + row * 70), a, fill="black", font=font)
        draw.text((760, 80 + row * 70), b, fill="black", font=font)
    return image


@pytest.fixture(scope="module")
def read_pages():
    from ocr_model import get_model

    model = get_model()
    receipt = np.asarray(Image.open(ASSETS / "receipt.jpg").convert("RGB"))
    columns = np.asarray(two_column_page())
    turned = np.asarray(Image.open(ASSETS / "document_page.png").convert("RGB").rotate(90, expand=True))
    pages = {
        "receipt": (receipt, model.predict(receipt)),
        "two columns": (columns, model.predict(columns)),
        "turned 90": (turned, model.predict(turned, page_rotation="auto")),
    }
    assert pages["turned 90"][1].rotation in (90, 270)  # the engine turned it to read it
    return pages


@pytest.mark.slow  # the real model over three pages
@pytest.mark.parametrize("name", ["receipt", "two columns", "turned 90"])
def test_extracted_words_are_the_ocr_words_in_order(read_pages, name, tmp_path):
    image, predictions = read_pages[name]
    expected = ocr_words(predictions)
    assert len(expected) >= 16
    data = to_searchable_pdf(PdfPage(image, predictions))
    # PDFium and poppler's content-order mode: the words, spaced, in the result's reading order
    assert pdfium_text(data).split() == expected
    assert pdftotext(data, "-raw", tmp_path=tmp_path).split() == expected
    # line ends: PDFium breaks the text between OCR lines, never inside one; it joins two OCR
    # lines only when they share a row (a receipt's item and its price)
    breaks = line_breaks([line.split() for line in pdfium_text(data).splitlines()])
    assert breaks <= line_breaks([text.split() for text in predictions.texts])
    if name == "turned 90":  # one OCR line per row
        assert len(breaks) == len(predictions.texts)
    # poppler's reading-order mode (pdftotext's default): every word, whole (word F1 = 1.0); it
    # finds columns itself (a receipt's prices, a page's second column) and reads them after the
    # first, while the engine reads row by row, so the order is checked where there is one column
    default = pdftotext(data, tmp_path=tmp_path).split()
    assert word_f1(default, expected) == 1.0
    if name == "turned 90":
        assert default == expected
    else:  # rows as on the page: the engine's order
        assert pdftotext(data, "-layout", tmp_path=tmp_path).split() == expected


def rows_of(predictions: Predictions) -> list[str]:
    """The OCR lines grouped into rows (centres within half a line height), left to right."""
    rows: list[list[tuple[float, float, str]]] = []
    for polygon, text in zip(predictions.polygons, predictions.texts):
        points = np.asarray(polygon)
        centre, height, left = points[:, 1].mean(), np.ptp(points[:, 1]), points[:, 0].min()
        for row in rows:
            if abs(row[0][0] - centre) < height / 2:
                row.append((centre, left, text))
                break
        else:
            rows.append([(centre, left, text)])
    return [" ".join(text for _, _, text in sorted(row, key=lambda item: item[1])) for row in rows]


@pytest.mark.slow  # the real model over three pages
def test_layout_mode_keeps_each_receipt_row_on_its_own_line(read_pages, tmp_path):
    image, predictions = read_pages["receipt"]
    layout = pdftotext(to_searchable_pdf(PdfPage(image, predictions)), "-layout", tmp_path=tmp_path)
    found = [" ".join(line.split()) for line in layout.splitlines() if line.strip()]
    rows = rows_of(predictions)
    assert any(re.fullmatch(r"Cappuccino 3\.80", row) for row in rows)  # item and price: one row
    assert found == rows  # was "B.Bean Bitterground1Fish35.00": two rows mixed into one


def test_poppler_word_boxes_are_the_word_boxes(tmp_path):
    """pdftotext -bbox gives each word's box as viewers select it: the OCR word box (within
    half a point), not 40 % taller, and never overlapping the next word."""
    height = 30
    rows = [[("Quarterly", 40, 210), ("Report", 222, 330)], [("led", 40, 90), ("by", 88, 130), ("strong", 140, 260)]]
    polygons, texts, words = [], [], []
    for row, items in enumerate(rows):
        y0 = 50 + row * 36  # lines 6 px apart
        quads = [np.array([[a, y0], [b, y0], [b, y0 + height], [a, y0 + height]], dtype=np.float32) for _, a, b in items]
        words.append(tuple(Word(text, quad, 0.9) for (text, _, _), quad in zip(items, quads)))
        polygons.append(np.array([[40, y0], [items[-1][2], y0], [items[-1][2], y0 + height], [40, y0 + height]], dtype=np.float32))
        texts.append(" ".join(text for text, _, _ in items))
    predictions = Predictions(polygons, texts, [0.9, 0.9], (400, 600), words=words)
    image = np.full((400, 600, 3), 255, dtype=np.uint8)
    xhtml = pdftotext(to_searchable_pdf(PdfPage(image, predictions), dpi=72), "-bbox", tmp_path=tmp_path)
    boxes = [
        (match.group(5), *(float(match.group(index)) for index in range(1, 5)))
        for match in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', xhtml)
    ]
    assert [box[0] for box in boxes] == ["Quarterly", "Report", "led", "by", "strong"]
    for (text, x0, y0, x1, y1), word in zip(boxes, [word for line in words for word in line]):
        points = word.polygon  # 72 dpi: pixels are points
        assert y0 == pytest.approx(points[:, 1].min(), abs=0.5) and y1 == pytest.approx(points[:, 1].max(), abs=0.5), text
        if text != "by":  # moved off "led" (below)
            assert x0 == pytest.approx(points[:, 0].min(), abs=0.5), text
    # "led" and "by" overlapped by 2 px: their runs are cut apart with a gap poppler reads as a space
    led, by = boxes[2], boxes[3]
    assert by[1] - led[3] >= 0.25 * 30 / (ASCENT - DESCENT) - 0.01


# Latin, accented, CJK (one character, a word, a word ending in an ideographic comma), symbols, and
# a character beyond U+FFFF (U+20BB7, common in Japanese names): the standard font wrote "?" for all
# but the Latin-1 ones ("月" came out as "?" on a receipt)
MIXED_ROWS = [
    [("Invoice", 40, 200), ("月", 220, 250), ("日本語", 270, 360), ("2024年", 380, 500)],
    [("Café", 40, 130), ("€3,50", 150, 260), ("½", 280, 300), ("Łódź", 320, 420)],
    [("東京都、", 40, 160), ("\U00020BB7野家", 180, 290), ("→", 310, 330), ("naïve", 350, 460)],
]


def page_of_rows(rows, height=30, pitch=50, size=(400, 600)):
    """A result built by hand: one line per row of (word, x0, x1), words `height` px tall."""
    polygons, texts, words = [], [], []
    for row, items in enumerate(rows):
        y0 = 40 + row * pitch
        quads = [np.array([[a, y0], [b, y0], [b, y0 + height], [a, y0 + height]], dtype=np.float32) for _, a, b in items]
        words.append(tuple(Word(text, quad, 0.9) for (text, _, _), quad in zip(items, quads)))
        polygons.append(np.array([[items[0][1], y0], [items[-1][2], y0], [items[-1][2], y0 + height], [items[0][1], y0 + height]], dtype=np.float32))
        texts.append(" ".join(text for text, _, _ in items))
    return Predictions(polygons, texts, [0.9] * len(rows), size, words=words)


def test_every_character_is_extracted_as_itself_by_poppler_and_pdfium(tmp_path):
    predictions = page_of_rows(MIXED_ROWS)
    expected = ocr_words(predictions)
    data = to_searchable_pdf(PdfPage(np.full((400, 600, 3), 255, dtype=np.uint8), predictions), dpi=72)
    for found in (pdfium_text(data).split(), pdftotext(data, "-raw", tmp_path=tmp_path).split(), pdftotext(data, tmp_path=tmp_path).split()):
        assert word_f1(found, expected) == 1.0
        assert found == expected
    # one line per row, each word's poppler box on its OCR box (the font's cell: CJK is no wider)
    assert [line.split() for line in pdftotext(data, "-raw", tmp_path=tmp_path).splitlines() if line.strip()] == [
        [word for word, _, _ in row] for row in MIXED_ROWS
    ]
    xhtml = pdftotext(data, "-bbox", tmp_path=tmp_path)
    boxes = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', xhtml)
    assert [box[4] for box in boxes] == expected
    for (x0, y0, x1, y1, text), word in zip(boxes, [word for line in predictions.words for word in line]):
        (left, top), (right, bottom) = word.polygon.min(axis=0), word.polygon.max(axis=0)  # 72 dpi: pixels are points
        assert [float(x0), float(y0), float(x1), float(y1)] == pytest.approx([left, top, right, bottom], abs=0.5), text
    # still invisible: the page renders as its blank image in PDFium and in poppler, with no font errors
    document = pdfium.PdfDocument(data)
    assert int(document[0].render(scale=1).to_numpy().min()) >= 250
    document.close()
    if shutil.which("pdftoppm"):
        (tmp_path / "mixed.pdf").write_bytes(data)
        rendered = subprocess.run(["pdftoppm", "-r", "72", "-gray", str(tmp_path / "mixed.pdf")], capture_output=True, check=True)
        assert rendered.stderr == b"" and min(rendered.stdout[-600 * 400 :]) >= 250
        listed = subprocess.run(["pdftotext", str(tmp_path / "mixed.pdf"), "-"], capture_output=True, check=True)
        assert listed.stderr == b""


def test_the_text_layer_font_is_a_glyphless_composite_font_with_a_to_unicode_map():
    """Type0 font, Identity-H, CIDFontType2 with a CIDToGIDMap, a ToUnicode CMap and the
    glyphless TrueType font embedded: what lets any character be written and extracted. The font
    is well formed (FreeType loads it; fontTools checks its checksums) and its one glyph fills
    nothing, with the character's cell as its box."""
    predictions = page_of_rows(MIXED_ROWS[:1])
    data = to_searchable_pdf(PdfPage(np.full((400, 600, 3), 255, dtype=np.uint8), predictions), dpi=72)
    for entry in (b"/Subtype /Type0", b"/Encoding /Identity-H", b"/Subtype /CIDFontType2", b"/CIDToGIDMap 7 0 R", b"/ToUnicode 8 0 R", b"/FontFile2"):
        assert entry in data, entry
    ImageFont.truetype(io.BytesIO(glyphless_font()), 40)  # raises if FreeType cannot load it
    ttLib = pytest.importorskip("fontTools.ttLib")
    from fontTools.pens.areaPen import AreaPen

    font = ttLib.TTFont(io.BytesIO(glyphless_font()), checkChecksums=2)
    assert font["maxp"].numGlyphs == 2 and font["head"].unitsPerEm == 1000
    name = font.getGlyphOrder()[1]
    glyph = font["glyf"][name]
    assert (glyph.xMin, glyph.yMin, glyph.xMax, glyph.yMax) == (0, round(DESCENT * 1000), font["hmtx"][name][0], round(ASCENT * 1000))
    pen = AreaPen(font.getGlyphSet())
    font.getGlyphSet()[name].draw(pen)
    assert pen.value == 0


def test_a_line_without_word_boxes_is_split_into_words_in_proportion():
    line = np.array([[0, 30], [300, 30], [300, 0], [0, 0]], dtype=np.float64)  # PDF points, y up
    runs = line_runs(line, [(line, "ab  cd")], lambda text: 0.5 * len(text))
    assert [run.text for run in runs] == ["ab ", "cd"]
    assert runs[0].origin[0] == pytest.approx(0) and runs[1].origin[0] > runs[0].origin[0] + 100
    assert all(run.direction == (1.0, 0.0) for run in runs)
    # a line tilted 3 degrees is written along the x axis (poppler cuts tilted runs into pieces)
    angle = np.radians(3)
    turn = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    tilted = line @ turn.T
    (run,) = line_runs(tilted, [(tilted, "word")], lambda text: 0.5 * len(text))
    assert run.direction == (1.0, 0.0)
