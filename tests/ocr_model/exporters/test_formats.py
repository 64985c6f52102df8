"""The one export registry: names, suffixes, media types, and names that stay unique however long the input's."""

from __future__ import annotations

import pytest

from conftest import FakeEngine
from ocr_model.exporters.formats import FORMATS, ExportDocument, export_name, fit_base, parse_formats, split_export_name, write_all

import numpy as np


def test_every_format_has_its_own_suffix_and_media_type():
    assert list(FORMATS) == ["json", "txt", "layout", "hocr", "pdf"]
    suffixes = [fmt.suffix for fmt in FORMATS.values()]
    assert suffixes == [".json", ".txt", ".layout.txt", ".hocr", ".searchable.pdf"]
    assert FORMATS["pdf"].media_type == "application/pdf" and FORMATS["json"].media_type == "application/json"
    assert [fmt.name for fmt in parse_formats("TXT, json,txt")] == ["txt", "json"]
    with pytest.raises(ValueError, match="available: json, txt, layout, hocr, pdf"):
        parse_formats("docx")


@pytest.mark.parametrize("length", [1, 59, 60, 61, 68, 200, 250, 1000])
def test_the_names_of_one_input_never_collide_and_fit(length):
    for base in ["A" * length, "é" * length, "scan-" + "x" * length + ".png"]:
        names = [export_name(base, fmt, 120) for fmt in FORMATS.values()]
        assert len(set(names)) == len(names)
        assert all(len(name.encode("utf-8")) <= 120 for name in names)
        assert all(name.endswith(fmt.suffix) for name, fmt in zip(names, FORMATS.values()))


def test_long_names_that_share_a_beginning_stay_apart():
    a, b = "A" * 300 + "1.png", "A" * 300 + "2.png"
    assert fit_base(a, 100) != fit_base(b, 100)
    assert fit_base("short.png", 100) == "short.png"
    assert len(fit_base("€" * 100, 50).encode("utf-8")) <= 50  # never half a character


def test_split_export_name_keeps_the_longest_suffix():
    assert split_export_name("scan.layout.txt") == ("scan", ".layout.txt")
    assert split_export_name("scan.png.searchable.pdf") == ("scan.png", ".searchable.pdf")
    assert split_export_name("scan.txt") == ("scan", ".txt")
    assert split_export_name("noext") == ("noext", "")


def test_write_all_gives_each_format_its_bytes():
    image = np.full((60, 200, 3), 255, np.uint8)
    predictions = FakeEngine().predict(image)
    from ocr_model.exporters import PdfPage

    document = ExportDocument("x.png", [predictions], {"file": "x.png"}, [PdfPage(image, predictions)])
    files = write_all(document, "B" * 250, list(FORMATS.values()), 100)
    assert len(files) == 5
    by_suffix = {split_export_name(name)[1]: data for name, data in files.items()}
    assert by_suffix[".txt"] == b"HELLO\nWORLD\n" and by_suffix[".searchable.pdf"][:5] == b"%PDF-"
    assert b'"file": "x.png"' in by_suffix[".json"] and b"ocr_page" in by_suffix[".hocr"]
