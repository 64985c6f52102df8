"""ocr_model/batch/distributed.py on a local Ray instance: the JSON lines equal `predict` on the same images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

pytestmark = pytest.mark.slow  # starts Ray, and the real model in an actor and here

pytest.importorskip("ray.data", reason="Ray Data is optional: pip install -r requirements-ray.txt (.ci/run installs it)")

import ray  # noqa: E402

from ocr_model import get_model  # noqa: E402
from ocr_model.batch.distributed import ocr_dataset, write_results  # noqa: E402
from ocr_model.inputs.image_decode import read_image  # noqa: E402
from ocr_model.inputs.pdf_pages import render_pdf_pages  # noqa: E402

from pdf_samples import pdf_of_images, text_page  # noqa: E402

from conftest import REPO_ROOT  # noqa: E402

PAGES = {
    "a.png": ["Invoice 7731", "TOTAL 48.20"],
    "nested/b.jpg": ["Cash receipt", "Thank you"],
    "nested/deeper/c.png": ["Order 55"],
}


@pytest.fixture(scope="module")
def local_ray():
    # The actors import ocr_model from this checkout whatever directory pytest was started from.
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": str(REPO_ROOT)}})
    yield
    ray.shutdown()


def make_pages(root: Path) -> None:
    font = ImageFont.load_default(size=30)
    for name, lines in PAGES.items():
        image = Image.new("RGB", (380, 40 + 60 * len(lines)), "white")
        draw = ImageDraw.Draw(image)
        for row, text in enumerate(lines):
            draw.text((14, 16 + 60 * row), text, fill=(25, 25, 25), font=font)
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        image.save(root / name, quality=95)
    (root / "nested" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not the rest")
    (root / "doc.pdf").write_bytes(pdf_of_images([text_page(["Second page 9"], size=(420, 160))]))
    (root / "notes.txt").write_text("not an image, not read")


def without_timings(result: dict) -> dict:
    return {key: value for key, value in result.items() if key != "timings"}


def test_ray_results_equal_predict_on_the_same_images(local_ray, tmp_path):
    make_pages(tmp_path / "in")
    out = tmp_path / "out"
    write_results(ocr_dataset(str(tmp_path / "in"), actors=1, batch_size=2, cpus_per_actor=1, gpus_per_actor=0), str(out))

    rows = [json.loads(line) for path in sorted(out.glob("*.jsonl")) for line in path.read_text().splitlines()]
    by_file = {Path(row["file"]).relative_to(tmp_path / "in").as_posix(): row for row in rows}
    assert sorted(by_file) == sorted([*PAGES, "doc.pdf", "nested/broken.png"])  # the .txt file is not read
    assert set(by_file["nested/broken.png"]) == {"file", "error"} and by_file["nested/broken.png"]["error"]

    model = get_model()
    for name, lines in PAGES.items():
        row = by_file[name]
        expected = {"file": row["file"], **model.predict(read_image(tmp_path / "in" / name)).to_dict()}
        # The fields of `predict` plus what the shared record builder (exporters/records.py, the app's JSON too)
        # adds: the note, the confidence filter (none), the count of all lines and each line's number.
        assert set(row) == set(expected) | {"note", "min_confidence", "lines_total"}
        assert (row["note"], row["min_confidence"], row["lines_total"]) == (None, 0.0, len(expected["lines"]))
        assert [line["line"] for line in row["lines"]] == list(range(1, len(expected["lines"]) + 1))
        assert set(row["timings"]) <= set(expected["timings"]) | {"orientation"}
        assert [line["text"] for line in row["lines"]] == lines  # the pages were read, not just copied through
        got, want = without_timings(row), without_timings(expected)
        # Same networks and inputs (measured identical here); the actor runs 1 torch thread and this process
        # all cores, so allow one unit of to_dict's rounding (6 decimals, 2 for polygons).
        assert [line["text"] for line in got["lines"]] == [line["text"] for line in want["lines"]]
        assert got["image_size"] == want["image_size"] and got["device"] == want["device"]
        np.testing.assert_allclose([l["confidence"] for l in got["lines"]], [l["confidence"] for l in want["lines"]], atol=1.01e-6)
        np.testing.assert_allclose([l["polygon"] for l in got["lines"]], [l["polygon"] for l in want["lines"]], atol=0.0101)

    (page,) = render_pdf_pages(tmp_path / "in" / "doc.pdf")
    document = by_file["doc.pdf"]
    assert (document["page_count"], len(document["pages"]), document["pages"][0]["page"]["number"]) == (1, 1, 1)
    assert document["pages"][0]["file"] == f"{document['file']} · page 1 of 1" and document["pages"][0]["note"] == "Page 1 of 1."
    got, want = document["pages"][0], model.predict(page.image).to_dict()
    assert [line["text"] for line in got["lines"]] == [line["text"] for line in want["lines"]] == ["Second page 9"]
    assert got["image_size"] == want["image_size"]


def test_the_checkpoint_reaches_the_actors_as_an_argument(local_ray, tmp_path, monkeypatch):
    # The actors' environment names no checkpoint (and this process's OCR_CHECKPOINT is read once, here):
    # every line names the checkpoint given to ocr_dataset.
    monkeypatch.delenv("OCR_CHECKPOINT", raising=False)
    make_pages(tmp_path / "in")
    out = tmp_path / "out"
    dataset = ocr_dataset(
        str(tmp_path / "in" / "a.png"), actors=1, batch_size=1, cpus_per_actor=1, gpus_per_actor=0, checkpoint="ppocrv6-tiny"
    )
    write_results(dataset, str(out))
    (row,) = [json.loads(line) for path in sorted(out.glob("*.jsonl")) for line in path.read_text().splitlines()]
    assert row["checkpoint"] == "ppocrv6-tiny"


def test_an_unknown_checkpoint_is_refused_before_any_actor_starts(tmp_path):
    from ocr_model.checkpoints import CheckpointError

    with pytest.raises(CheckpointError, match="unknown checkpoint"):
        ocr_dataset(str(tmp_path), checkpoint=str(tmp_path / "missing.safetensors"))
