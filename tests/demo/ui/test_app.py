"""demo/ui: the page built from its panels, handlers Gradio can read, names that match the labels."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import gradio as gr
import pytest
from gradio import utils as gr_utils

from conftest import FakeEngine
from demo.ui import api, build_demo, events
from demo.ui.page import bind

UI_DIR = Path(events.__file__).resolve().parent


@pytest.fixture(scope="module")
def built():
    return build_demo(model=FakeEngine())


def test_run_and_batch_parameters_are_named_after_their_labels(built) -> None:
    endpoints = built.get_api_info()["named_endpoints"]
    options = ["upside_down_check", "detection_size", "min_confidence", "show_text", "orientation"]
    assert [p["parameter_name"] for p in endpoints["/run"]["parameters"]] == ["image_path", *options, "checkpoint", "compare_with"]
    assert [p["parameter_name"] for p in endpoints["/batch"]["parameters"]] == ["paths", *options, "checkpoint"]
    assert [p["parameter_name"] for p in endpoints["/ocr"]["parameters"]] == ["image", "checkpoint"]
    assert all(p["parameter_has_default"] for p in endpoints["/run"]["parameters"][-2:])  # old clients still fit
    radios = {block.elem_id: block.label for block in built.blocks.values() if isinstance(block, gr.Radio)}
    assert radios == {"orientation": "Orientation", "upside-down-check": "Upside-down text check"}


def test_outputs_keep_the_api_order(built) -> None:
    """API clients unpack /run and /batch by position: the result view, the gallery, (the batch table,) the exports."""
    endpoints = built.get_api_info()["named_endpoints"]
    view = ["Result image", "Lines", "Text", "Download JSON (original-image coordinates)", "Download annotated image", "Summary"]
    exports = ["Text", "Layout text", "hOCR", "Searchable PDF", "All exports (zip)"]
    run = [r["label"] for r in endpoints["/run"]["returns"]]
    batch = [r["label"] for r in endpoints["/batch"]["returns"]]
    assert run[:6] == view and run[6].startswith("History") and run[7:12] == exports and run[12:] == ["Compare"]
    assert batch[:6] == view and batch[6].startswith("History") and batch[7] == "Batch summary"
    assert batch[8:13] == exports and batch[13:] == ["Compare"]


@pytest.mark.parametrize(
    "handler",
    [
        events.run, events.run_batch, events.refilter, events.show_history_entry, api.ocr,
        events.nav_strip, events.previous_page, events.next_page, events.open_batch_row,
    ],
)
def test_gradio_reads_every_bound_handlers_type_hints(built, handler) -> None:
    """Gradio finds gr.SelectData (the clicked history entry) through typing.get_type_hints; a name it cannot
    resolve there loses every hint silently, and the click then fails for want of its event argument."""
    callback = bind(handler, None, errors=False)  # type: ignore[arg-type]
    hints = gr_utils.get_type_hints(callback)
    assert hints, f"{handler.__name__}: Gradio could not evaluate its annotations"
    assert "page" not in inspect.signature(callback).parameters
    if handler in (events.show_history_entry, events.open_batch_row):
        assert hints["event"] is gr.SelectData


def test_build_demo_and_every_handler_are_under_80_lines() -> None:
    long_ones = []
    for path in [*sorted(UI_DIR.glob("*.py")), UI_DIR.parent / "handlers.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length >= 80:
                    long_ones.append(f"{path.name}:{node.name} ({length} lines)")
    assert long_ones == []


def test_the_model_choices_are_the_apps_checkpoints_with_their_descriptions() -> None:
    from demo.engine import CheckpointChoice, CheckpointChoices, Models

    choices = CheckpointChoices(
        (CheckpointChoice("ppocrv6-small", "reads better"), CheckpointChoice("ppocrv6-tiny", "smaller and faster")), "ppocrv6-small"
    )
    blocks = build_demo(models=Models(choices, lambda _choice: FakeEngine()))
    dropdowns = {block.elem_id: block for block in blocks.blocks.values() if isinstance(block, gr.Dropdown)}
    model, compare = dropdowns["model"], dropdowns["compare-with"]
    assert (model.label, model.value) == ("Model", "ppocrv6-small")
    assert model.choices == [("ppocrv6-small — reads better", "ppocrv6-small"), ("ppocrv6-tiny — smaller and faster", "ppocrv6-tiny")]
    assert (compare.label, compare.value) == ("Compare with", "")
    assert compare.choices == [("none", ""), ("ppocrv6-small", "ppocrv6-small"), ("ppocrv6-tiny", "ppocrv6-tiny")]


def test_only_trailing_inputs_marked_optional_may_be_left_out_by_raw_calls() -> None:
    from demo.ui.blocks import optional_in_api, with_optional_defaults

    image, checkpoint = gr.Textbox("img"), optional_in_api(gr.Textbox("ppocrv6-small"))
    assert with_optional_defaults([image, checkpoint], ["a.png"]) == ["a.png", "ppocrv6-small"]
    assert with_optional_defaults([image, checkpoint], ["a.png", "x"]) == ["a.png", "x"]
    assert with_optional_defaults([checkpoint, image], ["x"]) == ["x"]  # a required input missing: left as sent
