"""The Options accordion: each radio is named after its label."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from demo.engine import DEFAULT_DETECTION_SIZE, ORIENTATION_CHOICES, PAGE_ROTATION_CHOICES


@dataclass(frozen=True)
class OptionsPanel:
    orientation: gr.Radio  # which way up the page is: the engine's `page_rotation`
    upside_down_check: gr.Radio  # per-line 180° check: the engine's `orientation`
    detection_size: gr.Slider


def build_options_panel() -> OptionsPanel:
    with gr.Accordion("Options", open=False):
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
    return OptionsPanel(orientation, upside_down_check, detection_size)
