"""Bulk command line (`python -m ocr_model ... --out DIR`) and the pure functions of the ocr_model/batch/ package.

The pure functions and the run loop are tested with a fake engine; the real model runs in a few
subprocess runs on tiny rendered images (interrupt, kill, resume, bad file, worker processes).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr_model.batch import outputs, run as bulk
from ocr_model.batch.discover import InputSpecError, InputFile, check_unique_outputs, discover_inputs
from ocr_model.batch.outputs import atomic_write, output_paths, temp_path
from ocr_model.exporters.formats import parse_formats
from ocr_model.batch.run import RunSettings
from ocr_model.inputs.image_decode import ImageRejected, read_image

from conftest import REPO_ROOT, FakeEngine
from pdf_samples import pdf_of_images, text_page

JSON = parse_formats("json")


def render_text(path: Path, lines: list[str], size: tuple[int, int] = (360, 70)) -> None:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=30)
    for row, text in enumerate(lines):
        draw.text((12, 14 + row * 60), text, fill=(20, 20, 20), font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- discovery and output paths ----------------------------------------------------------------------


def test_folders_are_scanned_recursively_by_extension_and_mirror_their_tree(tmp_path):
    root = tmp_path / "scans"
    for name in ["b.png", "a.JPG", "sub/c.tif", "sub/deeper/d.webp", "sub/doc.PDF", "notes.txt", ".hidden.png", ".cache/e.png"]:
        touch(root / name)
    found = discover_inputs([root])
    assert [item.relative for item in found] == [
        PurePosixPath(p) for p in ["a.JPG", "b.png", "sub/c.tif", "sub/doc.PDF", "sub/deeper/d.webp"]  # files, then subfolders
    ]
    assert all(item.path == root / item.relative for item in found)


def test_files_globs_and_duplicates(tmp_path):
    for name in ["x/1.png", "x/y/2.png", "x/y/3.jpg", "single.dat"]:
        touch(tmp_path / name)
    found = discover_inputs([tmp_path / "single.dat", f"{tmp_path}/x/**/*.png", tmp_path / "x"])
    # a file named explicitly is taken whatever its extension; the folder adds only 3.jpg (the rest are duplicates)
    assert [(item.path.relative_to(tmp_path).as_posix(), item.relative.as_posix()) for item in found] == [
        ("single.dat", "single.dat"),
        ("x/1.png", "1.png"),
        ("x/y/2.png", "y/2.png"),
        ("x/y/3.jpg", "y/3.jpg"),
    ]


def test_inputs_that_match_nothing_are_named(tmp_path):
    touch(tmp_path / "empty" / "readme.txt")
    with pytest.raises(InputSpecError) as raised:
        discover_inputs([tmp_path / "missing.png", tmp_path / "empty", f"{tmp_path}/*.nope"])
    message = str(raised.value)
    assert "missing.png: no such file or folder" in message and "empty: no files" in message and "*.nope" in message


def test_the_output_folder_is_never_scanned_as_input(tmp_path):
    touch(tmp_path / "a.png")
    touch(tmp_path / "out" / "old.png")
    assert [item.relative.as_posix() for item in discover_inputs([tmp_path], exclude=tmp_path / "out")] == ["a.png"]


def test_two_inputs_writing_the_same_output_are_refused(tmp_path):
    inputs = [InputFile(tmp_path / "a" / "x.png", PurePosixPath("x.png")), InputFile(tmp_path / "b" / "x.png", PurePosixPath("x.png"))]
    with pytest.raises(InputSpecError, match="both map to"):
        check_unique_outputs(inputs)
    check_unique_outputs(inputs[:1])


def test_output_paths_keep_the_input_extension_and_stay_inside_the_output_folder(tmp_path):
    formats = parse_formats("txt,json,txt")
    assert [fmt.name for fmt in formats] == ["txt", "json"]
    assert output_paths(tmp_path, PurePosixPath("a/b.jpg"), formats) == [tmp_path / "a" / "b.jpg.txt", tmp_path / "a" / "b.jpg.json"]
    for bad in ["../x.png", "/etc/x.png", "a/../../x.png"]:
        with pytest.raises(ValueError):
            output_paths(tmp_path, PurePosixPath(bad), formats)
    with pytest.raises(ValueError, match="available: json, txt, layout, hocr, pdf"):
        parse_formats("json,docx")


# --- atomic writes and completeness --------------------------------------------------------------------


def test_atomic_write_replaces_whole_files_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "deep" / "r.json"
    atomic_write(target, b'{"old": 1}')
    atomic_write(target, b'{"new": 2}')
    assert target.read_bytes() == b'{"new": 2}'
    assert sorted(p.name for p in target.parent.iterdir()) == ["r.json"]


def test_a_failed_atomic_write_keeps_the_old_file_and_removes_its_temp(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    target.write_bytes(b"old")

    def fail(*args):
        raise KeyboardInterrupt  # e.g. Ctrl-C between writing and renaming

    monkeypatch.setattr(outputs.os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old" and not temp_path(target).exists()


# --- decoding -----------------------------------------------------------------------------------------


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_read_image_refuses_too_many_pixels_from_the_header(tmp_path):
    data = png_bytes(Image.new("L", (3000, 2000), 255))  # a few KB that decode to 6 MP
    with pytest.raises(ImageRejected, match="too large: 3000x2000"):
        read_image(data, max_pixels=5_000_000)
    assert read_image(data, max_pixels=6_000_000).shape == (2000, 3000, 3)


def test_read_image_refuses_truncated_and_non_image_files(tmp_path):
    data = png_bytes(Image.new("RGB", (200, 100), (10, 200, 30)))
    with pytest.raises(ImageRejected):
        read_image(data[: len(data) // 2])
    with pytest.raises(ImageRejected):
        read_image(b"%PDF-1.7 not an image")
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path / "missing.png")


def test_read_image_composites_alpha_on_white_and_applies_exif_orientation():
    rgba = Image.new("RGBA", (4, 2), (0, 0, 0, 0))
    rgba.putpixel((0, 0), (255, 0, 0, 255))
    assert read_image(png_bytes(rgba))[:, :, :].tolist()[1][1] == [255, 255, 255]
    assert read_image(png_bytes(rgba))[0, 0].tolist() == [255, 0, 0]
    portrait = Image.new("RGB", (40, 20), "white")
    exif = portrait.getexif()
    exif[0x0112] = 6  # stored sideways: rotate 90° clockwise to view
    buffer = io.BytesIO()
    portrait.save(buffer, format="JPEG", exif=exif)
    assert read_image(buffer.getvalue()).shape == (40, 20, 3)


# --- the run loop with a fake engine -------------------------------------------------------------------


class BatchingFakeEngine(FakeEngine):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def predict_batch(self, images, **options):
        self.batches.append(len(images))
        return [self.predict(image, **options) for image in images]


def fake_folder(root: Path, count: int) -> None:
    for index in range(count):
        Image.new("RGB", (50 + index, 40), "white").save(touch(root / f"d{index % 2}" / f"{index}.png", b""))
    touch(root / "d0" / "broken.png", b"\x89PNG\r\n\x1a\n broken")


def test_run_writes_one_result_per_input_and_reports_the_bad_file(tmp_path):
    fake_folder(tmp_path / "in", 5)
    engine = BatchingFakeEngine()
    settings = RunSettings(out_dir=tmp_path / "out", formats=tuple(parse_formats("json,txt")), options={"orientation": "off"}, batch_size=2)
    logged: list[str] = []
    summary = bulk.run(discover_inputs([tmp_path / "in"]), settings, progress=False, model=engine, log=logged.append)
    assert (summary.total, summary.done, summary.images, summary.skipped) == (6, 5, 5, 0)
    assert [file for file, _ in summary.failed] == ["d0/broken.png"] and summary.exit_code == 1
    assert logged and logged[0].startswith("failed: d0/broken.png")
    assert len(engine.calls) == 5 and max(engine.batches) == 2  # batched through predict_batch
    assert all(call["options"] == {"orientation": "off"} for call in engine.calls)
    result = json.loads((tmp_path / "out" / "d1" / "3.png.json").read_text())
    assert result["file"] == "d1/3.png" and result["image_size"] == {"height": 40, "width": 53}
    assert [line["text"] for line in result["lines"]] == ["HELLO", "WORLD"]
    assert (tmp_path / "out" / "d1" / "3.png.txt").read_text() == "HELLO\nWORLD\n"
    assert not (tmp_path / "out" / "d0" / "broken.png.json").exists()
    assert "6 inputs: 5 done, 0 skipped (already complete), 1 failed" in summary.line()

    again = bulk.run(discover_inputs([tmp_path / "in"]), settings, resume=True, progress=False, model=engine, log=logged.append)
    assert (again.done, again.skipped, len(again.failed)) == (0, 5, 1)  # only the bad file is tried again


def test_an_engine_error_on_one_image_fails_only_that_input(tmp_path):
    fake_folder(tmp_path / "in", 4)

    class Picky(BatchingFakeEngine):
        def predict(self, image, **options):
            if image.shape[1] == 52:
                raise ValueError("cannot read this one")
            return super().predict(image, **options)

    settings = RunSettings(out_dir=tmp_path / "out", formats=tuple(JSON), batch_size=4)
    summary = bulk.run(discover_inputs([tmp_path / "in"]), settings, progress=False, model=Picky(), log=lambda _: None)
    assert summary.done == 3 and sorted(file for file, _ in summary.failed) == ["d0/2.png", "d0/broken.png"]
    assert dict(summary.failed)["d0/2.png"] == "cannot read this one"


def test_ctrl_c_during_a_run_is_a_summary_not_a_traceback(tmp_path):
    fake_folder(tmp_path / "in", 4)

    class Interrupted(BatchingFakeEngine):
        def predict(self, image, **options):
            if len(self.calls) == 2:
                raise KeyboardInterrupt
            return super().predict(image, **options)

    settings = RunSettings(out_dir=tmp_path / "out", formats=tuple(JSON))
    summary = bulk.run(discover_inputs([tmp_path / "in"]), settings, progress=False, model=Interrupted(), log=lambda _: None)
    assert summary.interrupted and summary.exit_code == 130 and summary.done == 2
    assert len(list((tmp_path / "out").rglob("*.json"))) == 2
    assert "interrupted" in summary.line()


def test_pdf_inputs_give_one_result_per_document_in_every_format(tmp_path):
    import pypdfium2 as pdfium

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "two-pages.pdf").write_bytes(pdf_of_images([text_page(["one"], size=(300, 200)), text_page(["two"], size=(400, 200))]))
    Image.new("RGB", (120, 60), "white").save(tmp_path / "in" / "photo.png")
    engine = BatchingFakeEngine()
    settings = RunSettings(out_dir=tmp_path / "out", formats=tuple(parse_formats("json,txt,layout,hocr,pdf")))
    summary = bulk.run(discover_inputs([tmp_path / "in"]), settings, progress=False, model=engine, log=print)
    assert (summary.done, summary.images, summary.failed) == (2, 3, [])  # 2 inputs, 3 images (2 pages + 1 photo)

    document = json.loads((tmp_path / "out" / "two-pages.pdf.json").read_text())
    assert (document["file"], document["page_count"], document["pages_read"], document["note"]) == ("two-pages.pdf", 2, 2, None)
    assert [page["page"]["number"] for page in document["pages"]] == [1, 2]
    # rendered at 200 dpi from pages of 300x200 / 400x200 px at 100 dpi: (216 x 144) and (288 x 144) points
    assert [(page["page"]["width_pt"], page["page"]["height_pt"]) for page in document["pages"]] == [(216.0, 144.0), (288.0, 144.0)]
    assert [page["image_size"]["width"] for page in document["pages"]] == [600, 800]
    # each page's record is named as the app names it (ocr_model/exporters/records.py `page_name`)
    assert [page["file"] for page in document["pages"]] == ["two-pages.pdf · page 1 of 2", "two-pages.pdf · page 2 of 2"]
    assert all([line["text"] for line in page["lines"]] == ["HELLO", "WORLD"] for page in document["pages"])
    assert "page_count" not in json.loads((tmp_path / "out" / "photo.png.json").read_text())

    assert (tmp_path / "out" / "two-pages.pdf.txt").read_text() == "HELLO\nWORLD\n\fHELLO\nWORLD\n"
    assert (tmp_path / "out" / "two-pages.pdf.layout.txt").read_text().count("\f") == 1
    hocr = (tmp_path / "out" / "two-pages.pdf.hocr").read_text()
    assert hocr.count('class="ocr_page"') == 2 and hocr.count('class="ocr_line"') == 4
    for name, pages in (("two-pages.pdf.searchable.pdf", 2), ("photo.png.searchable.pdf", 1)):
        searchable = pdfium.PdfDocument(tmp_path / "out" / name)
        try:
            assert len(searchable) == pages
            text = searchable[0].get_textpage().get_text_range()
            assert "HELLO" in text and "WORLD" in text
        finally:
            searchable.close()


def test_a_broken_pdf_fails_only_itself(tmp_path):
    touch(tmp_path / "in" / "torn.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> trailer")
    Image.new("RGB", (120, 60), "white").save(tmp_path / "in" / "ok.png")
    settings = RunSettings(out_dir=tmp_path / "out", formats=tuple(JSON))
    summary = bulk.run(discover_inputs([tmp_path / "in"]), settings, progress=False, model=BatchingFakeEngine(), log=lambda _: None)
    assert summary.done == 1 and [file for file, _ in summary.failed] == ["torn.pdf"]
    assert "PDF" in summary.failed[0][1]


def test_default_workers_use_every_core():
    assert bulk.default_workers("cuda", 16) == (1, 16)
    for cores in (1, 2, 3, 8, 16):
        processes, threads = bulk.default_workers("cpu", cores)
        assert processes >= 1 and processes * threads <= max(cores, 1) and processes * threads >= cores - processes + 1


# --- the real command line -----------------------------------------------------------------------------

LINES = ["Invoice 1042", "TOTAL 12.50", "Thank you"]


def cli(*args: str, **popen: object) -> subprocess.Popen:
    env = dict(os.environ, OCR_DEVICE="cpu", PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "ocr_model", *args], cwd=REPO_ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, **popen,
    )


def wait_for_outputs(process: subprocess.Popen, out: Path, more_than: int, timeout: float = 180) -> list[Path]:
    """Wait until more than `more_than` inputs are complete (their manifest, written last, exists)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outputs = sorted(out.rglob(".*.manifest"))
        if len(outputs) > more_than:
            return outputs
        if process.poll() is not None:
            pytest.fail(f"the run ended before writing {more_than + 1} outputs:\n{process.communicate()}")
        time.sleep(0.02)
    process.kill()
    pytest.fail("no new output in time")


def complete_results(out: Path) -> dict[Path, int]:
    """The JSON results whose manifest (written last, what --resume trusts) exists, with their mtimes."""
    results = [manifest.with_name(manifest.name[1 : -len(".manifest")] + ".json") for manifest in out.rglob(".*.manifest")]
    return {path: path.stat().st_mtime_ns for path in results}


@pytest.fixture(scope="module")
def receipts(tmp_path_factory) -> Path:
    """8 small rendered pages of 3 lines each, in two folders, plus one broken file."""
    root = tmp_path_factory.mktemp("receipts")
    for index in range(8):
        lines = [f"{LINES[0]}-{index}", LINES[1], LINES[2]]
        render_text(root / f"shop{index % 2}" / f"r{index}.png", lines, size=(420, 200))
    touch(root / "shop1" / "torn.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00 cut here")
    return root


@pytest.mark.slow  # runs `python -m ocr_model` or its worker processes (each imports torch and the model)
def test_interrupted_killed_and_resumed_runs_end_with_every_output_complete(receipts, tmp_path):
    out = tmp_path / "out"
    total_good = 8

    # 1. Ctrl-C (SIGINT to the process group, as a terminal sends it) after the first output.
    run1 = cli(str(receipts), "--out", str(out), "--workers", "1")
    wait_for_outputs(run1, out, 0)
    os.killpg(run1.pid, signal.SIGINT)
    stdout, stderr = run1.communicate(timeout=120)
    assert run1.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stdout
    after_interrupt = complete_results(out)
    assert 1 <= len(after_interrupt) < total_good, "the interrupt came too late to test anything"

    # 2. Resume, then SIGKILL (no chance to clean up) as soon as one more output appears.
    run2 = cli(str(receipts), "--out", str(out), "--resume", "--no-progress")
    wait_for_outputs(run2, out, len(after_interrupt))
    os.killpg(run2.pid, signal.SIGKILL)
    run2.communicate(timeout=60)
    after_kill = complete_results(out)
    assert len(after_kill) < total_good, "the kill came too late to test anything"
    assert all(json.loads(path.read_text())["lines"] for path in out.rglob("*.json"))  # no half file under a final name
    assert all(after_kill[path] == mtime for path, mtime in after_interrupt.items())  # finished ones not redone

    # 3. Resume to the end: only the missing ones are read; the broken file fails; exit code 1.
    run3 = cli(str(receipts), "--out", str(out), "--resume", "--no-progress")
    stdout, stderr = run3.communicate(timeout=300)
    assert run3.returncode == 1, stderr
    assert f"9 inputs: {total_good - len(after_kill)} done, {len(after_kill)} skipped (already complete), 1 failed" in stdout
    assert "shop1/torn.jpg" in stderr and "Traceback" not in stderr
    finals = sorted(out.rglob("*.json"))
    assert len(finals) == total_good
    assert all(path.stat().st_mtime_ns == mtime for path, mtime in after_kill.items())
    for index in range(total_good):
        result = json.loads((out / f"shop{index % 2}" / f"r{index}.png.json").read_text())
        assert result["file"] == f"shop{index % 2}/r{index}.png"
        assert [line["text"] for line in result["lines"]] == [f"{LINES[0]}-{index}", LINES[1], LINES[2]]
    leftovers = [path.name for path in out.rglob("*") if path.is_file() and not path.name.endswith((".json", ".manifest"))]
    assert all(name.startswith(".") and name.endswith(".tmp") for name in leftovers)  # at most the killed run's temp file


@pytest.mark.slow  # runs `python -m ocr_model` or its worker processes (each imports torch and the model)
def test_worker_processes_give_the_same_results_as_one_process(receipts, tmp_path):
    pdf = tmp_path / "pages.pdf"
    pdf.write_bytes(pdf_of_images([text_page(["Page one 31"], size=(420, 160)), text_page(["Page two 42"], size=(420, 160))]))
    files = [str(receipts / "shop0" / "r0.png"), str(receipts / "shop1" / "r1.png"), str(pdf)]
    for run, workers in (("one", "1"), ("two", "2")):  # one after the other: the CI machine has 2 cores
        process = cli(*files, "--out", str(tmp_path / run), "--no-progress", "--format", "json,txt,hocr,pdf", "--workers", workers)
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        assert "3 inputs: 3 done, 0 skipped (already complete), 0 failed; 4 images" in stdout
    assert "2 worker(s) x 1 threads" in stderr

    def texts(result: dict) -> list[list[str]]:
        return [[line["text"] for line in page["lines"]] for page in result.get("pages", [result])]

    for name in ["r0.png", "r1.png", "pages.pdf"]:
        a, b = (json.loads((tmp_path / run / f"{name}.json").read_text()) for run in ("one", "two"))
        assert texts(a) == texts(b)
        polygons = [[line["polygon"] for page in r.get("pages", [r]) for line in page["lines"]] for r in (a, b)]
        assert np.allclose(*polygons, atol=1.0)
        assert (tmp_path / "two" / f"{name}.txt").read_text() == "\f".join("\n".join(page) + "\n" for page in texts(b))
        assert (tmp_path / "two" / f"{name}.hocr").stat().st_size > 0 and (tmp_path / "two" / f"{name}.searchable.pdf").read_bytes()[:5] == b"%PDF-"
    assert texts(json.loads((tmp_path / "one" / "pages.pdf.json").read_text())) == [["Page one 31"], ["Page two 42"]]
    assert texts(json.loads((tmp_path / "one" / "r1.png.json").read_text())) == [[f"{LINES[0]}-1", LINES[1], LINES[2]]]


@pytest.mark.slow  # runs `python -m ocr_model` or its worker processes (each imports torch and the model)
def test_usage_errors_exit_2_before_loading_the_model(tmp_path):
    process = cli(str(tmp_path / "nothing-here"), "--out", str(tmp_path / "out"))
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 2 and "no such file or folder" in stderr
    process = cli(str(tmp_path), "--resume")
    assert process.wait(timeout=120) == 2


@pytest.mark.slow  # runs `python -m ocr_model` or its worker processes (each imports torch and the model)
def test_workers_that_cannot_start_fail_the_run_instead_of_retrying_forever(tmp_path, monkeypatch):
    fake_folder(tmp_path / "in", 3)
    monkeypatch.setenv("OCR_NUM_THREADS", "many")  # the spawned workers inherit it: loading the model fails
    settings = RunSettings(out_dir=tmp_path / "out", formats=tuple(JSON), workers=2, device="cpu")
    summary = bulk.run(discover_inputs([tmp_path / "in"]), settings, progress=False, log=lambda _: None)
    assert summary.done == 0 and len(summary.failed) == 4 and summary.exit_code == 1
    assert all(why.startswith("worker process died") for _, why in summary.failed)
