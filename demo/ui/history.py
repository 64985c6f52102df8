"""The session's history: thumbnails of the last results; clicking one shows it again."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from demo.files import write_cache_file
from demo.history import History, entry_caption
from demo.ui.page import Services
from demo.ui.result import file_stem


@dataclass(frozen=True)
class HistoryPanel:
    gallery: gr.Gallery


def build_history_panel(max_results: int) -> HistoryPanel:
    gallery = gr.Gallery(
        label=f"History: last {max_results} results of this session (click one to show it again)",
        columns=8,
        fit_columns=False,
        height="auto",  # every entry shows (190 px cut off the oldest two; demo/static/page.css sizes the rows)
        allow_preview=False,
        object_fit="contain",
        interactive=False,
        buttons=[],  # "Download All" would only zip the 256 px thumbnails
        elem_id="history",
    )
    return HistoryPanel(gallery)


def gallery_items(services: Services, history: History) -> list[tuple[str, str]]:
    items = []
    for entry in history:
        path = write_cache_file(services.cache_dir, entry.thumbnail_jpeg, f"{file_stem(entry.name)}_thumb.jpg")
        items.append((path, entry_caption(entry)))
    return items
