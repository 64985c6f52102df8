"""PDF uploads and exports in the request logic (demo/documents.py, demo/handlers.py), fake engine."""

import io
import json
import xml.etree.ElementTree as ET
import zipfile

import pypdfium2 as pdfium
import pytest

from conftest import ASSETS_DIR
from demo import handlers
from demo.config import AppConfig
from ocr_model.inputs.image_decode import decode_image
from demo.documents import is_pdf_upload, safe_stem
from demo.render import decode_jpeg
from pdf_samples import blank_pdf, broken_pdf, encrypted_pdf, pdf_of_images, text_page, zero_page_pdf

CONFIG = AppConfig(max_display_size=512, max_results_in_memory=10, max_batch_files=4)
RECEIPT = ASSETS_DIR / "receipt.jpg"


@pytest.fixture
def three_page_pdf(tmp_path):
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf_of_images([text_page([f"Page {n}"], size=(425, 550)) for n in (1, 2, 3)], resolution=50.0))
    return path  # 8.5 x 11 inch pages


def test_pdfs_are_sniffed_from_their_bytes_not_their_name(tmp_path, three_page_pdf):
    renamed = tmp_path / "photo.jpg"
    renamed.write_bytes(three_page_pdf.read_bytes())
    assert is_pdf_upload(renamed) and is_pdf_upload(three_page_pdf.read_bytes())
    assert not is_pdf_upload(RECEIPT) and not is_pdf_upload(tmp_path / "missing.pdf")


def test_each_pdf_page_is_one_result_with_page_info_and_display_size_previews(fake_engine, three_page_pdf):
    started = []
    outcome = handlers.single_request(
        fake_engine, decode_image, str(three_page_pdf), {}, (), CONFIG, on_page=lambda n, m: started.append((n, m))
    )
    assert started == [(1, 3), (2, 3), (3, 3)]
    assert [r.name for r in outcome.results] == [f"doc.pdf · page {n} of 3" for n in (1, 2, 3)]
    assert outcome.result is outcome.results[0] and len(outcome.history) == 1  # the document is one entry
    assert outcome.history[0].pages == outcome.results
    # rendered at 200 dpi: 1700 x 2200 px pages; the engine saw them, the history keeps 512 px previews
    assert [call["shape"] for call in fake_engine.calls] == [(2200, 1700, 3)] * 3
    for result in outcome.history[0].pages:
        assert max(decode_jpeg(result.preview_jpeg).shape[:2]) <= 512
    record = outcome.view.record
    assert record["page"] == {"number": 1, "count": 3, "width_pt": 612.0, "height_pt": 792.0, "scale": pytest.approx(200 / 72), "dpi": 200.0}
    assert record["image_size"] == {"height": 2200, "width": 1700} and record["rotation"] == 0
    assert "Page 1 of 3" in outcome.view.summary
    document = handlers.document_record(outcome.results, outcome.name)
    assert document["page_count"] == 3 and [p["page"]["number"] for p in document["pages"]] == [1, 2, 3]


def test_pages_beyond_the_limit_are_not_read_and_the_note_says_so(fake_engine, monkeypatch, tmp_path):
    monkeypatch.setenv("OCR_MAX_PDF_PAGES", "2")
    path = tmp_path / "long.pdf"
    path.write_bytes(blank_pdf([(200, 200)] * 500))
    outcome = handlers.single_request(fake_engine, decode_image, str(path), {}, (), CONFIG)
    assert len(outcome.results) == 2 and len(fake_engine.calls) == 2
    assert "500 pages" in outcome.results[0].note and "first 2" in outcome.results[0].note
    assert not outcome.results[0].note.endswith("..") and ".." not in outcome.view.summary  # ended in ".."
    assert outcome.results[0].note.endswith("(the limit per document).")
    document = handlers.document_record(outcome.results, "long.pdf")
    assert document["page_count"] == 500 and document["pages_read"] == 2 and "first 2" in document["note"]


@pytest.mark.parametrize(
    "data,message",
    [(encrypted_pdf(), "password"), (zero_page_pdf(), "no pages"), (broken_pdf(), "not a readable PDF")],
)
def test_bad_pdfs_are_refused_with_a_clear_message(fake_engine, tmp_path, data, message):
    path = tmp_path / "bad.pdf"
    path.write_bytes(data)
    with pytest.raises(handlers.InputError, match=message):
        handlers.single_request(fake_engine, decode_image, str(path), {}, (), CONFIG)
    assert fake_engine.calls == []


def test_a_huge_page_is_rendered_under_the_pixel_cap(fake_engine, tmp_path):
    path = tmp_path / "huge.pdf"
    path.write_bytes(blank_pdf([(14400, 14400)]))
    outcome = handlers.single_request(fake_engine, decode_image, str(path), {}, (), CONFIG)
    height, width, _ = fake_engine.calls[0]["shape"]
    assert height * width <= 40_000_000 and "dpi" in outcome.results[0].note


def test_exports_of_a_pdf_hold_every_page(fake_engine, three_page_pdf):
    outcome = handlers.single_request(fake_engine, decode_image, str(three_page_pdf), {}, (), CONFIG)
    files = handlers.document_exports(outcome.results, outcome.name)
    assert sorted(files) == ["doc.hocr", "doc.json", "doc.layout.txt", "doc.searchable.pdf", "doc.txt"]
    assert files["doc.txt"].decode().count("HELLO") == 3 and files["doc.txt"].decode().count("\f") == 2
    assert json.loads(files["doc.json"])["page_count"] == 3
    root = ET.fromstring(files["doc.hocr"])
    assert len([e for e in root.iter() if e.get("class") == "ocr_page"]) == 3
    searchable = pdfium.PdfDocument(files["doc.searchable.pdf"])
    assert len(searchable) == 3 and searchable[0].get_size() == pytest.approx((612.0, 792.0))
    assert searchable[2].get_textpage().get_text_range().split() == ["HELLO", "WORLD"]


def test_exports_of_a_pdf_show_its_previews_never_its_own_pages(fake_engine, three_page_pdf):
    outcome = handlers.single_request(fake_engine, decode_image, str(three_page_pdf), {}, (), CONFIG)
    searchable = pdfium.PdfDocument(handlers.document_exports(outcome.results, outcome.name)["doc.searchable.pdf"])
    assert len(searchable) == 3
    for page in searchable:
        kinds = [obj.type for obj in page.get_objects(max_depth=0)]
        assert kinds[0] == pdfium.raw.FPDF_PAGEOBJ_IMAGE and pdfium.raw.FPDF_PAGEOBJ_FORM not in kinds
    assert searchable[1].get_textpage().get_text_range().split() == ["HELLO", "WORLD"]


def test_exports_of_an_image_use_its_pixels_at_200_dpi(fake_engine):
    outcome = handlers.single_request(fake_engine, decode_image, str(RECEIPT), {}, (), CONFIG)
    files = handlers.document_exports(outcome.results, outcome.name)
    record = json.loads(files["receipt.json"])
    assert "pages" not in record and record["lines"][0]["text"] == "HELLO"
    height, width = outcome.result.predictions.image_size
    (page,) = pdfium.PdfDocument(files["receipt.searchable.pdf"])
    assert page.get_size() == pytest.approx((width * 72 / 200, height * 72 / 200))


def test_a_batch_mixes_images_and_pdfs_and_zips_every_files_exports(fake_engine, three_page_pdf, tmp_path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(broken_pdf())
    progress = []
    outcome = handlers.batch_request(
        fake_engine, decode_image, [str(RECEIPT), str(three_page_pdf), str(broken)], {}, (), CONFIG,
        on_progress=lambda fraction, text: progress.append((round(fraction, 3), text)),
    )
    assert [row[0] for row in outcome.summary_rows] == [
        "receipt.jpg", "doc.pdf · page 1 of 3", "doc.pdf · page 2 of 3", "doc.pdf · page 3 of 3", "broken.pdf"
    ]
    assert outcome.summary_rows[-1][3].startswith("skipped: This file is not a readable PDF")
    assert [fraction for fraction, _ in progress] == [0.0, 0.333, 0.333, 0.444, 0.556, 0.667]  # per file and page
    assert progress[1][1] == "Reading doc.pdf" and progress[3][1] == "Reading doc.pdf, page 2 of 3"
    names = zipfile.ZipFile(io.BytesIO(outcome.archive)).namelist()
    assert "01_receipt/receipt.hocr" in names and "02_doc/doc.searchable.pdf" in names
    assert not any(name.startswith("03_") for name in names)  # the refused file has no exports


def test_the_api_returns_pages_for_a_pdf_and_the_image_record_otherwise(fake_engine, three_page_pdf):
    document = handlers.api_result(fake_engine, decode_image, str(three_page_pdf), CONFIG)
    assert document["file"] == "doc.pdf" and document["page_count"] == 3 and len(document["pages"]) == 3
    assert document["pages"][1]["page"]["number"] == 2 and document["pages"][1]["lines"][0]["text"] == "HELLO"
    image = handlers.api_result(fake_engine, decode_image, str(RECEIPT), CONFIG)
    assert image["file"] == "receipt.jpg" and "pages" not in image and image["rotation"] == 0


def test_safe_stem_keeps_names_inside_their_folder():
    assert safe_stem("../../etc/passwd") == "passwd"
    assert safe_stem("C:\\\\Users\\\\x\\\\scan 1.pdf") == "scan_1"
    assert safe_stem("...") == "ocr" and len(safe_stem("a" * 500)) == 60


def test_the_orientation_option_becomes_the_engines_page_rotation(fake_engine):
    from demo.engine import PAGE_ROTATION_CHOICES, model_options

    assert "page_rotation" not in model_options("auto", 1600, "auto")  # the engine's own default: auto
    assert model_options("auto", 1600, "90")["page_rotation"] == 90
    assert [value for _, value in PAGE_ROTATION_CHOICES] == ["auto", "0", "90", "180", "270"]
    with pytest.raises(ValueError, match="page rotation"):
        model_options("auto", 1600, "45")
    handlers.single_request(fake_engine, decode_image, str(RECEIPT), model_options("off", 960, "270"), (), CONFIG)
    assert fake_engine.calls[-1]["options"]["page_rotation"] == 270


def extracted_files(archive_bytes: bytes, folder) -> tuple[list[str], int]:
    """The zip's entry names, and how many files extracting it gives."""
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        names = archive.namelist()
        archive.extractall(folder)
    return names, sum(1 for path in folder.rglob("*") if path.is_file())


@pytest.mark.parametrize("length", [60, 68, 250])
def test_long_file_names_give_one_zip_entry_per_export(fake_engine, tmp_path, length):
    """A stem of 60+ characters made `X.txt` and `X_layout.txt` both `X.txt`: 5 entries, 4 files."""
    long_png = tmp_path / ("R" * (length - 4) + ".png")
    long_jpg = tmp_path / ("R" * (length - 4) + ".jpg")  # the same stem
    long_png.write_bytes(RECEIPT.read_bytes())
    long_jpg.write_bytes(RECEIPT.read_bytes())
    single = handlers.single_request(fake_engine, decode_image, str(long_png), {}, (), CONFIG)
    files = handlers.document_exports(single.results, single.name)
    names, extracted = extracted_files(handlers.zip_exports([(single.name, files)]), tmp_path / "run")
    assert len(names) == len(set(names)) == extracted == 5
    assert sorted(name.split("/")[1][len(safe_stem(long_png.name)):] for name in names) == sorted(
        [".hocr", ".json", ".layout.txt", ".searchable.pdf", ".txt"]
    )
    outcome = handlers.batch_request(fake_engine, decode_image, [str(long_png), str(long_jpg)], {}, (), CONFIG)
    names, extracted = extracted_files(outcome.archive, tmp_path / "batch")
    assert len(names) == len(set(names)) == extracted == 10


def test_a_zip_never_holds_the_same_name_twice():
    from demo.documents import ExportArchive

    archive = ExportArchive()
    archive.add("a.png", {"a.txt": b"1", "A.TXT": b"2", "a.txt ": b"3", "../a.txt": b"4"})
    names = zipfile.ZipFile(io.BytesIO(archive.getvalue())).namelist()
    assert len({name.casefold() for name in names}) == 4 and all(name.startswith("01_a/") for name in names)



def test_exporting_a_pdf_bomb_parses_none_of_it_in_this_process(fake_engine, monkeypatch, tmp_path):
    """A batch (read, then export while the upload is there) of a PDF whose first page's content inflates
    to 300 MiB: the worker renders it within its limits, and the export must not load it here. Before,
    the export alone took ~19 s and +600 MB in this process."""
    import threading
    import time

    import psutil

    from pdf_bombs import inflating_content_pdf

    monkeypatch.setenv("OCR_PDF_PAGE_SECONDS", "20")
    path = tmp_path / "bomb.pdf"
    path.write_bytes(inflating_content_pdf(inflated_mib=300))
    process, peak, done = psutil.Process(), [0], threading.Event()
    baseline = process.memory_info().rss

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.monotonic()
    try:
        outcome = handlers.batch_request(fake_engine, decode_image, [str(path)], {}, (), CONFIG)
    finally:
        done.set()
        watcher.join()
    elapsed = time.monotonic() - started
    assert [row[3] for row in outcome.summary_rows] == ["ok", "ok"]  # both pages read, the bomb within limits
    assert (peak[0] - baseline) / 1e6 < 100, f"this process grew by {(peak[0] - baseline) / 1e6:.0f} MB"
    assert elapsed < 20.0, f"the batch took {elapsed:.1f} s"
    archive = zipfile.ZipFile(io.BytesIO(outcome.archive))
    searchable = pdfium.PdfDocument(archive.read("01_bomb/bomb.searchable.pdf"))
    assert len(searchable) == 2 and searchable[0].get_size() == pytest.approx((612.0, 612.0))
    assert searchable[1].get_textpage().get_text_range().split() == ["HELLO", "WORLD"]
