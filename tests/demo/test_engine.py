"""demo/engine.py: the checkpoint choices the app offers and how a client's name resolves to an engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import FakeEngine
from demo.engine import CheckpointChoice, CheckpointChoices, Models, UnknownCheckpoint, checkpoint_choices
from ocr_model.checkpoints import TINY_FILE


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A checkpoint folder: a valid copy of the tiny checkpoint, a non-safetensors file, a safetensors
    file that is not an OCR checkpoint, and a file whose stem clashes with a built-in."""
    from safetensors.numpy import save_file

    directory = tmp_path / "checkpoints"
    directory.mkdir()
    shutil.copyfile(TINY_FILE, directory / "receipts-v1.safetensors")
    (directory / "garbage.safetensors").write_bytes(b"not a safetensors file at all")
    save_file({"x": np.zeros(2, np.float32)}, str(directory / "plain.safetensors"))
    shutil.copyfile(TINY_FILE, directory / "ppocrv6-small.safetensors")
    (directory / "notes.txt").write_text("ignored: not *.safetensors")
    return directory


def test_built_ins_come_first_with_the_default_first_and_describe_themselves():
    choices = checkpoint_choices("ppocrv6-small")
    assert choices.names() == ["ppocrv6-small", "ppocrv6-tiny", "ppocrv6-small-receipts"]
    assert choices.default == "ppocrv6-small" and choices.problems == ()
    small, tiny, receipts = choices.choices
    assert small.path is None and tiny.path is None and receipts.path is None  # built-ins load by name
    assert "5.27 M" in small.description and "reads better" in small.description
    assert "5.9 MB" in tiny.description and "faster" in tiny.description
    assert "receipts" in receipts.description and "fine-tuned" in receipts.description
    assert checkpoint_choices("ppocrv6-tiny").names() == ["ppocrv6-tiny", "ppocrv6-small", "ppocrv6-small-receipts"]


def test_folder_files_join_by_stem_and_bad_ones_are_reported_and_left_out(folder):
    choices = checkpoint_choices("ppocrv6-small", folder)
    assert choices.names() == ["ppocrv6-small", "ppocrv6-tiny", "ppocrv6-small-receipts", "receipts-v1"]
    added = choices.resolve("receipts-v1")
    assert added.path == folder / "receipts-v1.safetensors"
    assert "PP-OCRv6 tiny" in added.description and "5.9 MB" in added.description
    assert "in the checkpoint folder" in added.description
    problems = "\n".join(choices.problems)
    assert len(choices.problems) == 3, problems
    assert "garbage.safetensors left out" in problems and "not a safetensors file" in problems
    assert "plain.safetensors left out" in problems and "not an OCR checkpoint" in problems
    assert "ppocrv6-small.safetensors left out" in problems and "already taken" in problems
    assert choices.resolve("ppocrv6-small").path is None  # the built-in keeps its name


def test_a_missing_folder_is_reported_not_fatal(tmp_path):
    choices = checkpoint_choices("ppocrv6-small", tmp_path / "nowhere")
    assert choices.names() == ["ppocrv6-small", "ppocrv6-tiny", "ppocrv6-small-receipts"]
    assert "is not a folder" in choices.problems[0]


def test_default_may_be_a_folder_name_or_a_path_which_joins_the_choices(folder, tmp_path):
    assert checkpoint_choices("receipts-v1", folder).default == "receipts-v1"
    outside = tmp_path / "mine.safetensors"
    shutil.copyfile(TINY_FILE, outside)
    choices = checkpoint_choices(str(outside))
    assert choices.names()[0] == "mine" and choices.default == "mine"
    assert choices.resolve(None).path == outside and "given with --checkpoint" in choices.resolve("").description
    # the same file given by path and found in the folder is one choice, under its folder name
    same = checkpoint_choices(str(folder / "receipts-v1.safetensors"), folder)
    assert same.default == "receipts-v1" and same.names().count("receipts-v1") == 1


def test_a_default_that_is_neither_a_name_nor_a_good_file_stops_startup(folder):
    with pytest.raises(ValueError, match="neither one of ppocrv6-small, ppocrv6-tiny, ppocrv6-small-receipts"):
        checkpoint_choices("ppocrv6-huge")
    with pytest.raises(ValueError, match="not a safetensors file"):
        checkpoint_choices(str(folder / "garbage.safetensors"))


@pytest.mark.parametrize(
    "requested",
    ["ppocrv6-base", "../receipts-v1.safetensors", "/etc/passwd", "receipts-v1.safetensors", "RECEIPTS-V1", " receipts-v1", 42],
)
def test_only_exact_listed_names_resolve_and_the_refusal_names_no_paths(folder, requested):
    choices = checkpoint_choices("ppocrv6-small", folder)
    with pytest.raises(UnknownCheckpoint) as refused:
        choices.resolve(requested)
    message = str(refused.value)
    assert message.startswith("unknown checkpoint ") and "choose one of ppocrv6-small, ppocrv6-tiny, ppocrv6-small-receipts, receipts-v1" in message
    assert str(folder) not in message and "/work" not in message


def test_models_load_only_the_resolved_choice_and_results_name_it():
    loaded: list[CheckpointChoice] = []
    engine = FakeEngine()
    choices = CheckpointChoices(
        (CheckpointChoice("a", "first"), CheckpointChoice("b", "second", Path("/srv/b.safetensors"))), "a"
    )

    def load(choice: CheckpointChoice) -> FakeEngine:
        loaded.append(choice)
        return engine

    models = Models(choices, load)
    image = np.zeros((40, 60, 3), np.uint8)
    assert models.engine(None).predict(image).checkpoint == "a"
    assert models.engine("b").predict(image).checkpoint == "b"
    assert [choice.name for choice in loaded] == ["a", "b"]
    with pytest.raises(UnknownCheckpoint):
        models.engine("/srv/b.safetensors")
    assert len(loaded) == 2  # a refused name never reaches the loader
    assert models.engine("b").device == "fake-cpu"


def test_fixed_models_answer_every_choice_with_the_given_engine():
    engine = FakeEngine()
    models = Models.fixed(engine)
    assert models.choices.names() == ["model"]
    assert models.engine(None).model is engine


@pytest.mark.parametrize(
    ("native_bf16", "precision", "device", "kind"),
    [
        (True, "", "cpu", "bfloat16"),
        (False, "", "cpu", "float32"),
        (True, "float32", "cpu", "other"),  # a forced precision was not what the figures measured
        (False, "bfloat16", "cpu", "other"),
        (True, "", "cuda:0", "other"),
    ],
)
def test_the_dropdown_notes_follow_how_this_server_runs_the_networks(monkeypatch, native_bf16, precision, device, kind):
    from demo import engine
    from ocr_model import runtime

    monkeypatch.setattr(runtime, "cpu_has_native_bfloat16", lambda: native_bf16)
    monkeypatch.setattr(runtime, "select_device", lambda requested: device)
    monkeypatch.setenv("OCR_PRECISION", precision)
    assert engine.notes_kind("auto") == kind
    tiny = checkpoint_choices("ppocrv6-small", device="auto").resolve("ppocrv6-tiny")
    assert engine.BUILT_IN_NOTES[kind]["ppocrv6-tiny"] in tiny.description
    others = [notes["ppocrv6-tiny"] for name, notes in engine.BUILT_IN_NOTES.items() if name != kind]
    assert not any(note in tiny.description for note in others)


def test_every_kind_of_notes_describes_every_built_in():
    from demo.engine import BUILT_IN_NOTES
    from ocr_model.checkpoints import list_checkpoints

    names = {info.name for info in list_checkpoints()}
    for kind, notes in BUILT_IN_NOTES.items():
        assert set(notes) == names, kind
