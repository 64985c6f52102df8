"""A 3-page PDF through the real engine: render -> read -> searchable PDF and hOCR -> read back."""

import xml.etree.ElementTree as ET

import pypdfium2 as pdfium
import pytest

from ocr_model.exporters import PdfPage, to_hocr, to_layout_text, to_searchable_pdf
from ocr_model.inputs.pdf_pages import render_pdf_pages
from pdf_samples import pdf_of_images, text_page

pytestmark = pytest.mark.slow  # the real model over three pages

PAGES = [
    ["Invoice 2024-118", "Cappuccino large 3.80"],
    ["Page two of the scan", "TOTAL AMOUNT RM 12.50"],
    ["Thank you, come again"],
]


@pytest.fixture(scope="module")
def document():
    from ocr_model import get_model

    # Lines 70 px apart (36 px font): clearly one block. At the default 90 px pitch the gap between
    # line boxes sits at layout.BLOCK_GAP (1.2 line heights) within a pixel, so the layout's blank
    # line depended on 1-2 px of box height (the adaptive detection size changed it).
    source = pdf_of_images([text_page(lines, size=(850, 600), pitch=70) for lines in PAGES], resolution=100.0)
    pages = render_pdf_pages(source, dpi=100)
    predictions = [get_model().predict(page.image) for page in pages]
    return pages, predictions


def test_every_page_is_read(document):
    pages, predictions = document
    assert [p.texts for p in predictions] == PAGES
    assert [(page.number, page.page_count) for page in pages] == [(1, 3), (2, 3), (3, 3)]
    assert to_layout_text(predictions) == "\n\f".join("\n".join(lines) for lines in PAGES) + "\n"


def test_searchable_pdf_of_the_document_gives_its_text_back_at_the_page_size(document):
    pages, predictions = document
    data = to_searchable_pdf([PdfPage(page.image, prediction, page.size_pt) for page, prediction in zip(pages, predictions)])
    back = pdfium.PdfDocument(data)
    assert len(back) == 3
    for index, lines in enumerate(PAGES):
        assert back[index].get_size() == pytest.approx(pages[index].size_pt)
        text = back[index].get_textpage().get_text_range()
        assert text.split() == " ".join(lines).split()


def test_hocr_of_the_document_parses_with_one_page_per_pdf_page(document):
    _, predictions = document
    root = ET.fromstring(to_hocr(predictions, titles=["doc.pdf"]).encode())
    ns = "{http://www.w3.org/1999/xhtml}"
    pages = root.findall(f".//{ns}div[@class='ocr_page']")
    assert len(pages) == 3
    words = [[w.text for w in page.iter(f"{ns}span") if w.get("class") == "ocrx_word"] for page in pages]
    assert words == [" ".join(lines).split() for lines in PAGES]
