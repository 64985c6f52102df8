"""Exports: text, layout text, JSON, hOCR (parsed as XML) and searchable PDF (read back with
pypdfium2: text and character boxes at the word boxes)."""

import io
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pypdfium2 as pdfium
import pytest

from ocr_model.exporters import PdfPage, to_hocr, to_json, to_layout_text, to_searchable_pdf, to_text
from ocr_model.types import Predictions, Word

XHTML = "{http://www.w3.org/1999/xhtml}"


def quad(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def page_with_words(rows, size=(600, 800), rotation=0):
    """Predictions whose lines are rows of (word, x0, x1) at known places; 30 px tall lines."""
    polygons, texts, words = [], [], []
    for row, items in enumerate(rows):
        y0 = 50 + row * 60
        line_words = tuple(Word(text, quad(x0, y0, x1, y0 + 30), 0.9) for text, x0, x1 in items)
        polygons.append(quad(items[0][1], y0, items[-1][2], y0 + 30))
        texts.append(" ".join(text for text, _, _ in items))
        words.append(line_words)
    return Predictions(polygons, texts, [0.93] * len(texts), size, words=words, rotation=rotation)


PAGE = page_with_words([[("Cappuccino", 40, 240), ("3.80", 420, 500)], [("TOTAL", 40, 140), ("12.50", 400, 500)]])


def test_text_layout_text_and_json():
    assert to_text(PAGE) == "Cappuccino 3.80\nTOTAL 12.50\n"
    # two lines on one row, far apart: one row of text with the gap kept
    split = Predictions([quad(40, 50, 240, 80), quad(420, 52, 500, 82)], ["Cappuccino", "3.80"], [0.9, 0.9], (600, 800))
    assert re.fullmatch(r"Cappuccino {5,}3\.80\n", to_layout_text(split))
    assert to_layout_text([split, split]).count("\f") == 1
    assert to_text([PAGE, PAGE]).count("\f") == 1
    record = json.loads(to_json(PAGE, file="a.png"))
    assert record["file"] == "a.png" and record["lines"][0]["words"][1]["text"] == "3.80"
    assert [page["lines"][1]["text"] for page in json.loads(to_json([PAGE, PAGE]))["pages"]] == ["TOTAL 12.50"] * 2


def bbox_of(element):
    match = re.search(r"bbox (\d+) (\d+) (\d+) (\d+)", element.get("title"))
    assert match, element.get("title")
    return tuple(int(value) for value in match.groups())


def test_hocr_is_xhtml_with_pages_lines_words_bbox_and_confidence():
    hostile = page_with_words([[("<b>&amp;\"'\x0c\x01", 40, 240)]])
    document = to_hocr([PAGE, hostile], titles=['scan "1"\x00.png'])
    root = ET.fromstring(document.encode("utf-8"))  # well-formed XML, or this raises
    assert root.tag == XHTML + "html"
    pages = root.findall(f".//{XHTML}div[@class='ocr_page']")
    assert len(pages) == 2
    assert bbox_of(pages[0]) == (0, 0, 800, 600) and "ppageno 0" in pages[0].get("title")
    assert 'image "scan \\"1\\".png"' in pages[0].get("title")
    lines = pages[0].findall(f"{XHTML}span[@class='ocr_line']")
    assert len(lines) == 2 and bbox_of(lines[0]) == (40, 50, 500, 80)
    words = lines[0].findall(f"{XHTML}span[@class='ocrx_word']")
    assert [w.text for w in words] == ["Cappuccino", "3.80"]
    assert bbox_of(words[1]) == (420, 50, 500, 80)
    assert all(re.search(r"x_wconf 90\b", w.get("title")) for w in words)
    ids = [element.get("id") for element in root.iter() if element.get("id")]
    assert len(ids) == len(set(ids))  # ids are unique across pages
    (hostile_word,) = pages[1].findall(f".//{XHTML}span[@class='ocrx_word']")
    assert hostile_word.text == "<b>&amp;\"'"  # escaped on the way out, intact on the way back


def test_hocr_of_a_line_without_words_has_one_word_for_the_line():
    page = Predictions([quad(10, 10, 100, 40)], ["abc def"], [0.5], (100, 200))
    root = ET.fromstring(to_hocr(page).encode())
    (word,) = root.findall(f".//{XHTML}span[@class='ocrx_word']")
    assert word.text == "abc def" and bbox_of(word) == (10, 10, 100, 40)


def test_hocr_word_boxes_lie_within_their_line_box():
    """A word polygon reaching past its line (as the recognizer's columns can) is clipped to
    the line in hOCR; the JSON keeps the polygons as read."""
    line = quad(40, 50, 300, 80)
    words = (Word("wide", quad(36, 47, 150, 84), 0.9), Word("word", quad(160, 52, 305, 79), 0.9))
    page = Predictions([line], ["wide word"], [0.9], (600, 800), words=[words])
    root = ET.fromstring(to_hocr(page).encode())
    (line_element,) = root.findall(f".//{XHTML}span[@class='ocr_line']")
    x0, y0, x1, y1 = bbox_of(line_element)
    boxes = [bbox_of(word) for word in line_element.findall(f"{XHTML}span[@class='ocrx_word']")]
    assert boxes == [(40, 50, 150, 80), (160, 52, 300, 79)]
    assert all(x0 <= a <= c <= x1 and y0 <= b <= d <= y1 for a, b, c, d in boxes)
    assert json.loads(to_json(page))["lines"][0]["words"][0]["polygon"][0] == [36.0, 47.0]


def read_back(data):
    """[(page size, [(text, (left, bottom, right, top)) per character])] of a PDF."""
    document = pdfium.PdfDocument(data)
    pages = []
    for page in document:
        text_page = page.get_textpage()
        chars = [(text_page.get_text_range(i, 1), text_page.get_charbox(i)) for i in range(text_page.count_chars())]
        pages.append((page.get_size(), page.get_rotation(), chars))
    return pages


def words_with_boxes(chars):
    """Group characters into words (split at spaces / line breaks) with their union box."""
    words, current, boxes = [], "", []
    for char, box in chars + [(" ", None)]:
        if char.isspace() or not char:
            if current:
                boxes_arr = np.array(boxes)
                words.append((current, (boxes_arr[:, 0].min(), boxes_arr[:, 1].min(), boxes_arr[:, 2].max(), boxes_arr[:, 3].max())))
            current, boxes = "", []
        else:
            current += char
            boxes.append(box)
    return words


def test_searchable_pdf_has_the_image_and_invisible_words_at_their_boxes():
    image = np.full((600, 800, 3), 255, dtype=np.uint8)
    data = to_searchable_pdf([PdfPage(image, PAGE), PdfPage(image, PAGE, size_pt=(400.0, 300.0))], dpi=100)
    assert data.startswith(b"%PDF-")
    (size1, rotation1, chars1), (size2, _, chars2) = read_back(data)
    assert size1 == pytest.approx((576.0, 432.0)) and size2 == pytest.approx((400.0, 300.0))
    assert rotation1 == 0
    for size, chars in ((size1, chars1), (size2, chars2)):
        words = words_with_boxes(chars)
        assert [w for w, _ in words] == ["Cappuccino", "3.80", "TOTAL", "12.50"]
        scale = size[0] / 800
        expected = [word for line in PAGE.words for word in line]
        for (text, box), word in zip(words, expected):
            x0, y0 = word.polygon.min(axis=0) * scale
            x1, y1 = word.polygon.max(axis=0) * scale
            left, bottom, right, top = box
            # the glyphs span the word's box across (within a digit's side bearing) and lie inside it up and
            # down (PDF y grows upwards); tests/ocr_model/exporters/test_pdf_text_layer.py checks
            # the text boxes viewers select, with poppler
            assert left == pytest.approx(x0, abs=3.5) and right == pytest.approx(x1, abs=3.5), text
            assert size[1] - y1 - 0.5 <= bottom < top <= size[1] - y0 + 0.5, text
    # the image fills the page
    document = pdfium.PdfDocument(data)
    images = [obj for obj in document[0].get_objects() if isinstance(obj, pdfium.PdfImage)]
    assert len(images) == 1 and images[0].get_bounds() == pytest.approx((0, 0, 576, 432), abs=0.01)
    # invisible: rendering the page gives the white image back, no glyphs drawn
    rendered = document[0].render(scale=1).to_numpy()
    assert int(rendered.min()) >= 250


def test_searchable_pdf_of_a_turned_page_shows_it_upright_and_keeps_jpeg_bytes():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), "white").save(buffer, format="JPEG")
    turned = page_with_words([[("Hello", 40, 240)]], rotation=270)
    data = to_searchable_pdf(PdfPage(buffer.getvalue(), turned), dpi=100)
    ((size, rotation, chars),) = read_back(data)
    assert rotation == 270 and "".join(c for c, _ in chars).strip() == "Hello"
    with pytest.raises(ValueError, match="JPEG"):
        to_searchable_pdf(PdfPage(b"\x89PNG....", turned))
    with pytest.raises(ValueError, match="at least one page"):
        to_searchable_pdf([])


def test_searchable_pdf_pages_are_the_given_image_and_the_text_layer_only():
    page = page_with_words([[("Hello", 100, 300)]], size=(1200, 1700))
    image = np.full((1200, 1700, 3), 255, dtype=np.uint8)
    data = to_searchable_pdf(PdfPage(image, page, (612.0, 432.0)))
    kinds = [obj.type for obj in pdfium.PdfDocument(data)[0].get_objects(max_depth=0)]
    assert kinds == [pdfium.raw.FPDF_PAGEOBJ_IMAGE, pdfium.raw.FPDF_PAGEOBJ_TEXT]
    # no source PDF page is ever drawn (it would be parsed outside the renderer's limits): an image is required
    with pytest.raises(ValueError, match="needs an image"):
        to_searchable_pdf(PdfPage(None, page, (612.0, 432.0)))
