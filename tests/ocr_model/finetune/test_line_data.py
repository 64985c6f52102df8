"""Labelled lines from the three folder layouts; every bad-label case named by file and line; split by image."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ocr_model.finetune.line_data import (
    DataError,
    check_characters,
    cut_patch,
    labels_ignore_case,
    load_folder,
    parse_line_csv,
    split_by_document,
)
from ocr_model.finetune.synthetic import write_rendered_documents
from ocr_model.pipeline.crops import crop_quad

PAGES = [["TOTAL 12.50", "Cash 20.00"], ["Tel: 07-8263254", "THANK YOU"], ["GST 6%", "Change 7.50"]]


def test_images_with_same_named_csv(tmp_path):
    write_rendered_documents(tmp_path, PAGES)
    data = load_folder(tmp_path)
    assert [line.text for line in data.lines] == [text for page in PAGES for text in page]
    assert sorted(set(data.documents)) == ["page000", "page001", "page002"]
    assert all(line.crop.shape[0] == 48 and line.crop.dtype == np.uint8 for line in data.lines)
    # the context patch holds the line with margin; the inner quad lies inside it
    for line in data.lines:
        assert line.patch is not None and line.inner is not None
        height, width = line.patch.shape[:2]
        assert (line.inner >= 0).all() and (line.inner[:, 0] <= width).all() and (line.inner[:, 1] <= height).all()
        assert line.patch.shape[0] > line.inner[2, 1] - line.inner[0, 1]


def test_sroie_layout_img_and_box(tmp_path):
    source = tmp_path / "rendered"
    write_rendered_documents(source, PAGES[:2])
    (tmp_path / "set" / "img").mkdir(parents=True)
    (tmp_path / "set" / "box").mkdir()
    for image in source.glob("*.png"):
        Image.open(image).convert("RGB").save(tmp_path / "set" / "img" / f"{image.stem}.jpg", quality=95)
        (tmp_path / "set" / "box" / f"{image.stem}.csv").write_text(image.with_suffix(".csv").read_text())
    data = load_folder(tmp_path / "set")
    assert [line.text for line in data.lines] == PAGES[0] + PAGES[1]


def test_labels_tsv_crops(tmp_path):
    write_rendered_documents(tmp_path / "pages", PAGES[:1])
    page = np.asarray(Image.open(tmp_path / "pages" / "page000.png").convert("RGB"))
    rows = []
    for index, quad in enumerate(parse_line_csv(tmp_path / "pages" / "page000.csv")):
        Image.fromarray(crop_quad(page, quad.quad)).save(tmp_path / f"crop{index}.png")
        rows.append(f"crop{index}.png\t{quad.text}")
    (tmp_path / "labels.tsv").write_text("\n".join(rows) + "\n")
    data = load_folder(tmp_path)
    assert [line.text for line in data.lines] == PAGES[0]
    assert all(line.patch is None and line.crop.shape[0] == 48 for line in data.lines)


@pytest.mark.parametrize(
    "row, expected",
    [
        ("10,10,90,10,90,30,10", "expected 9 columns"),
        ("10,10,90,ten,90,30,10,30,TOTAL", "coordinate 'ten' is not a number"),
        ("10,10,90,10,90,30,10,30,   ", "empty text"),
        ("10,10,90,10,90,30,10,nan,TOTAL", "finite"),
    ],
)
def test_bad_csv_row_is_named_by_file_and_line(tmp_path, row, expected):
    write_rendered_documents(tmp_path, PAGES[:1])
    label = tmp_path / "page000.csv"
    label.write_text(label.read_text() + row + "\n")
    with pytest.raises(DataError) as caught:
        load_folder(tmp_path)
    message = str(caught.value)
    assert f"{label}:3:" in message and expected in message


def test_text_may_hold_commas(tmp_path):
    label = tmp_path / "a.csv"
    label.write_text("1,2,30,2,30,12,1,12,1,234.50, CASH\n")
    (quad,) = parse_line_csv(label)
    assert quad.text == "1,234.50, CASH"
    assert quad.quad.tolist() == [[1, 2], [30, 2], [30, 12], [1, 12]]


def test_bad_labels_tsv_rows(tmp_path):
    (tmp_path / "labels.tsv").write_text("missing.png\tTOTAL\n")
    with pytest.raises(DataError, match=r"labels.tsv:1: image 'missing.png' not found"):
        load_folder(tmp_path)
    (tmp_path / "labels.tsv").write_text("no tab here\n")
    with pytest.raises(DataError, match=r"labels.tsv:1: expected 'path<TAB>text'"):
        load_folder(tmp_path)
    (tmp_path / "labels.tsv").write_text("../outside.png\tTOTAL\n")
    with pytest.raises(DataError, match="outside the folder"):
        load_folder(tmp_path)


def test_folder_without_labels_is_refused(tmp_path):
    Image.new("RGB", (50, 20), "white").save(tmp_path / "lonely.png")
    with pytest.raises(DataError, match="no labelled lines"):
        load_folder(tmp_path)


def test_unknown_characters_are_reported_with_file_and_line(tmp_path):
    write_rendered_documents(tmp_path, [["TOTAL 12.50", "PRICE €5", "CASH"]])
    data = load_folder(tmp_path)
    report = check_characters(data.lines, set("TOTAL 12.50PRICECASH"))
    assert [line.text for line in report.kept] == ["TOTAL 12.50", "CASH"]
    assert report.unknown == {"€": 1}
    message = report.message()
    assert "'€' (U+20AC, 1 lines)" in message and f"{tmp_path / 'page000.csv'}:2" in message


def test_split_keeps_each_image_on_one_side(tmp_path):
    write_rendered_documents(tmp_path, PAGES * 2)
    data = load_folder(tmp_path)
    train, val, held_out = split_by_document(data, 0.34, seed=3)
    assert len(held_out) == 2
    assert {line.document for line in val} == set(held_out)
    assert not {line.document for line in train} & set(held_out)
    assert len(train) + len(val) == len(data.lines)
    assert split_by_document(data, 0.34, seed=3)[2] == held_out  # the seed fixes the split


def test_split_needs_two_images(tmp_path):
    write_rendered_documents(tmp_path, PAGES[:1])
    with pytest.raises(DataError, match="at least 2"):
        split_by_document(load_folder(tmp_path), 0.2, seed=0)


def test_upper_case_transcriptions_are_detected(tmp_path):
    write_rendered_documents(tmp_path, [["TOTAL 12.50", "CASH CHANGE DUE", "THANK YOU COME AGAIN"]])
    upper = load_folder(tmp_path).lines
    assert labels_ignore_case(upper)
    write_rendered_documents(tmp_path, [["Total 12.50", "CASH CHANGE DUE", "THANK YOU COME AGAIN"]])
    assert not labels_ignore_case(load_folder(tmp_path).lines)


def test_vertical_line_patch_is_turned_like_the_engine_crop():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, size=(200, 100, 3), dtype=np.uint8)
    quad = np.array([[40, 20], [60, 20], [60, 150], [40, 150]], dtype=np.float32)  # tall: vertical text
    engine = crop_quad(image, quad)
    patch, inner = cut_patch(image, quad)
    again = crop_quad(patch, inner)
    assert engine.shape[1] > engine.shape[0] and again.shape[1] > again.shape[0]
    assert abs(engine.shape[1] - again.shape[1]) <= 2 and abs(engine.shape[0] - again.shape[0]) <= 2
