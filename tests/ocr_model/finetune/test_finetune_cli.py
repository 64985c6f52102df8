"""`python -m ocr_model.finetune` end to end on a rendered folder and a tiny base checkpoint."""

from __future__ import annotations

import json

import pytest
from safetensors import safe_open

from finetune_helpers import rendered_folder, tiny_recognizer
from ocr_model.finetune.cli import main
from ocr_model.checkpoints import METADATA_KEY as FORMAT_KEY
from ocr_model.finetune.recognizer_io import load_recognizer, save_recognizer


@pytest.fixture
def tiny_base(tmp_path):
    path = tmp_path / "tiny-base.safetensors"
    save_recognizer(tiny_recognizer(), path, {"name": "tiny-base", "source": "random weights for tests"})
    return path


def test_command_trains_and_writes_the_best_epoch(tmp_path, tiny_base, capsys):
    data = rendered_folder(tmp_path / "data")
    out = tmp_path / "tuned.safetensors"
    args = ["--train", str(data), "--out", str(out), "--base", str(tiny_base), "--epochs", "2", "--lr", "1e-3"]
    args += ["--val-fraction", "0.25", "--synthetic", "4", "--freeze-backbone-stages", "1", "--quiet"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "before: CER" in printed and "after:  CER" in printed and f"wrote {out}" in printed
    assert "peak memory" in printed
    with safe_open(str(out), framework="pt") as handle:
        header = json.loads(handle.metadata()[FORMAT_KEY])
    assert header["base"] == "tiny-base" and header["name"] == "tuned"
    assert header["finetune"]["train"] == str(data)
    assert header["finetune"]["synthetic_lines"] == 4
    assert header["finetune"]["validation_lines"] == 2  # one of the four rendered pages, two lines
    assert header["finetune"]["best_epoch"] in (1, 2)
    assert load_recognizer(out).characters == load_recognizer(tiny_base).characters


def test_bad_csv_stops_the_command_with_file_and_line(tmp_path, tiny_base, capsys):
    data = rendered_folder(tmp_path / "data")
    (data / "page001.csv").write_text("1,2,3,4,5,6,7,eight,TOTAL\n")
    assert main(["--train", str(data), "--out", str(tmp_path / "x.safetensors"), "--base", str(tiny_base)]) == 1
    assert f"{data / 'page001.csv'}:1: coordinate 'eight' is not a number" in capsys.readouterr().err
    assert not (tmp_path / "x.safetensors").exists()


def test_unknown_characters_skipped_or_refused(tmp_path, tiny_base, capsys):
    data = rendered_folder(tmp_path / "data", [["TOTAL 12.50", "PRIX 5€"], ["CASH 3.00"], ["GST 6%"]])
    out = tmp_path / "y.safetensors"
    common = ["--train", str(data), "--out", str(out), "--base", str(tiny_base), "--quiet", "--synthetic", "0"]
    assert main([*common, "--strict-characters", "--val-fraction", "0.34"]) == 1
    err = capsys.readouterr().err
    assert "'€' (U+20AC, 1 lines)" in err and f"{data / 'page000.csv'}:2" in err and "refused" in err
    assert main([*common, "--epochs", "1", "--val-fraction", "0.34"]) == 0
    assert "cannot emit" in capsys.readouterr().err and out.is_file()


def test_output_must_be_safetensors(tmp_path, capsys):
    assert main(["--train", str(tmp_path), "--out", str(tmp_path / "model.pt")]) == 1
    assert ".safetensors" in capsys.readouterr().err


def test_val_fraction_zero_trains_on_everything_and_keeps_the_last_epoch(tmp_path, tiny_base, capsys):
    data = rendered_folder(tmp_path / "data")
    out = tmp_path / "all.safetensors"
    args = ["--train", str(data), "--out", str(out), "--base", str(tiny_base), "--epochs", "2", "--val-fraction", "0"]
    assert main([*args, "--synthetic", "0", "--quiet"]) == 0
    assert "before: no validation lines" in capsys.readouterr().out
    with safe_open(str(out), framework="pt") as handle:
        header = json.loads(handle.metadata()[FORMAT_KEY])
    assert header["finetune"]["best_epoch"] == 2 and header["finetune"]["validation_best"] is None
    assert header["finetune"]["train_lines"] == 8
