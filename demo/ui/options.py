"""The Options accordion: each radio is named after its label."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from demo.ui.blocks import optional_in_api
from demo.engine import DEFAULT_DETECTION_SIZE, ORIENTATION_CHOICES, PAGE_ROTATION_CHOICES, CheckpointChoices


@dataclass(frozen=True)
class OptionsPanel:
    orientation: gr.Radio  # which way up the page is: the engine's `page_rotation`
    upside_down_check: gr.Radio  # per-line 180° check: the engine's `orientation`
    detection_size: gr.Slider
    model: gr.Dropdown  # the checkpoint that reads the image (a name from the app's list)
    compare_with: gr.Dropdown  # "" or a second checkpoint that reads the same page after the first


NO_COMPARISON = "none"


def build_options_panel(checkpoints: CheckpointChoices) -> OptionsPanel:
    with gr.Accordion("Options", open=False):
        model = optional_in_api(gr.Dropdown(
            checkpoints.dropdown_choices(),
            value=checkpoints.default,
            label="Model",
            info="The checkpoint that reads the image: smaller ones are faster, larger ones read better.",
            elem_id="model",
        ))
        compare_with = optional_in_api(gr.Dropdown(
            [(NO_COMPARISON, "")] + [(choice.name, choice.name) for choice in checkpoints.choices],
            value="",
            label="Compare with",
            info="Read the (first) page again with this checkpoint, after the Model, and mark the lines that differ.",
            elem_id="compare-with",
        ))
        orientation = gr.Radio(
            list(PAGE_ROTATION_CHOICES),
            value="auto",
            label="Orientation",
            info="auto: find which way up the page is (0°, 90°, 180° or 270°) from its text · or turn it yourself",
            elem_id="orientation",
        )
        upside_down_check = gr.Radio(
            list(ORIENTATION_CHOICES),
            value="auto",
            label="Upside-down text check",
            info="auto: check doubtful lines only · all: check every line · off: never",
            elem_id="upside-down-check",
        )
        detection_size = gr.Slider(
            640,
            2560,
            value=DEFAULT_DETECTION_SIZE,
            step=32,
            label="Detection size (px, longer side)",
            info="Larger finds smaller text but is slower.",
        )
    return OptionsPanel(orientation, upside_down_check, detection_size, model, compare_with)
