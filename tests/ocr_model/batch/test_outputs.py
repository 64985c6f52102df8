"""`--resume` trusts a manifest written last: every requested format, its size and its SHA-256."""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath

from PIL import Image

from ocr_model.batch import run as bulk
from ocr_model.batch.discover import discover_inputs
from ocr_model.batch.outputs import is_complete, manifest_path, write_outputs
from ocr_model.exporters.formats import parse_formats
from ocr_model.batch.run import RunSettings

from conftest import FakeEngine


def image_folder(root: Path, names: list[str]) -> None:
    for index, name in enumerate(names):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (60 + index, 40), "white").save(root / name)


def test_resume_redoes_inputs_whose_non_json_outputs_are_truncated_empty_or_missing(tmp_path):
    image_folder(tmp_path / "in", ["a.png", "b.png", "c.png", "d.png"])
    settings = RunSettings(out_dir=tmp_path / "out", formats=tuple(parse_formats("json,txt,pdf")))
    first = bulk.run(discover_inputs([tmp_path / "in"]), settings, progress=False, model=FakeEngine(), log=print)
    assert first.done == 4
    out = tmp_path / "out"
    whole_pdf = (out / "a.png.searchable.pdf").read_bytes()
    (out / "a.png.searchable.pdf").write_bytes(whole_pdf[: len(whole_pdf) // 2])  # half-written searchable PDF
    (out / "b.png.txt").write_bytes(b"")  # 0-byte text
    (out / "c.png.txt").unlink()
    untouched = (out / "d.png.json").stat().st_mtime_ns

    again = bulk.run(discover_inputs([tmp_path / "in"]), settings, resume=True, progress=False, model=FakeEngine(), log=print)
    assert (again.done, again.skipped, again.failed) == (3, 1, [])
    assert (out / "a.png.searchable.pdf").read_bytes()[:5] == b"%PDF-" and (out / "a.png.searchable.pdf").read_bytes().rstrip().endswith(b"%%EOF")
    assert (out / "b.png.txt").read_text() == "HELLO\nWORLD\n" and (out / "c.png.txt").exists()
    assert (out / "d.png.json").stat().st_mtime_ns == untouched


def test_resume_asks_for_every_requested_format(tmp_path):
    image_folder(tmp_path / "in", ["a.png"])
    inputs = discover_inputs([tmp_path / "in"])
    json_only = RunSettings(out_dir=tmp_path / "out", formats=tuple(parse_formats("json")))
    assert bulk.run(inputs, json_only, progress=False, model=FakeEngine()).done == 1
    with_text = RunSettings(out_dir=tmp_path / "out", formats=tuple(parse_formats("json,txt")))
    assert not is_complete(tmp_path / "out", PurePosixPath("a.png"), with_text.formats)
    assert bulk.run(inputs, with_text, resume=True, progress=False, model=FakeEngine()).done == 1
    assert bulk.run(inputs, with_text, resume=True, progress=False, model=FakeEngine()).skipped == 1


def test_outputs_without_their_manifest_are_not_complete(tmp_path):
    formats = parse_formats("json,txt")
    relative = PurePosixPath("sub/a.png")
    write_outputs(tmp_path, relative, [(formats[0], b'{"file": "sub/a.png", "lines": []}'), (formats[1], b"x\n")])
    manifest = manifest_path(tmp_path, relative)
    assert manifest == tmp_path / "sub" / ".a.png.manifest"
    assert is_complete(tmp_path, relative, formats)
    record = json.loads(manifest.read_text())
    assert record["file"] == "sub/a.png" and set(record["outputs"]) == {"json", "txt"}
    (tmp_path / "sub" / "a.png.txt").write_bytes(b"y\n")  # same size, other bytes
    assert not is_complete(tmp_path, relative, formats)
    for broken in [b"", b"{", b'{"outputs": 3}', b"[]", b"x" * 100_000]:
        manifest.write_bytes(broken)
        assert not is_complete(tmp_path, relative, formats)
    manifest.unlink()
    assert not is_complete(tmp_path, relative, formats)  # e.g. a run killed after the outputs, before this


def test_resume_over_a_dotdot_glob_runs_instead_of_raising(tmp_path, monkeypatch):
    image_folder(tmp_path / "in", ["a/x.png", "y.png"])
    monkeypatch.chdir(tmp_path)
    settings = RunSettings(out_dir=tmp_path / "out", formats=tuple(parse_formats("json")))
    inputs = discover_inputs(["in/*/../*.png"])
    assert bulk.run(inputs, settings, resume=True, progress=False, model=FakeEngine()).done == 1
    assert (tmp_path / "out" / "y.png.json").exists()


def test_a_file_name_that_is_not_utf8_is_read_and_written(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    name = os.fsdecode(b"caf\xe9 receipt.png")  # Latin-1 bytes: a lone surrogate in Python's str
    Image.new("RGB", (60, 40), "white").save(root / name)
    settings = RunSettings(out_dir=tmp_path / "out", formats=tuple(parse_formats("json,txt,hocr")))
    logged: list[str] = []
    summary = bulk.run(discover_inputs([root]), settings, progress=False, model=FakeEngine(), log=logged.append)
    assert (summary.done, summary.failed, logged) == (1, [], [])
    record = json.loads((tmp_path / "out" / (name + ".json")).read_text(encoding="utf-8"))
    assert record["file"] == "caf\ufffd receipt.png"  # shown with a replacement character, never an error
    assert is_complete(tmp_path / "out", PurePosixPath(name), settings.formats)
