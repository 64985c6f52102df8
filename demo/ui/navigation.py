"""The page strip above the result image: "◀ Previous", "Page 3 of 20", "Next ▶" (issue 18).

It shows when the result is one of a set (a PDF's pages, a batch's files: `demo.pageset.PageSet`) and steps
through it without running the model again. PageUp / PageDown press its buttons (demo/static/explorer.js).
Its updates never travel in the /run or /batch outputs (the API stays as it was): a chained event draws it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr

from demo.pageset import PageSet


@dataclass(frozen=True)
class NavPanel:
    row: gr.Row
    previous: gr.Button
    label: gr.HTML
    next: gr.Button

    def outputs(self) -> list[Any]:
        return [self.row, self.previous, self.label, self.next]

    def values(self, pages: PageSet | None) -> dict[Any, Any]:
        """The strip for `pages`: hidden when there is nothing to step through."""
        if pages is None or len(pages.items) < 2:
            return {
                self.row: gr.Row(visible=False),
                self.previous: gr.Button(interactive=False),
                self.label: "",
                self.next: gr.Button(interactive=False),
            }
        return {
            self.row: gr.Row(visible=True),
            self.previous: gr.Button(interactive=pages.position > 0),
            self.label: f'<p class="page-of" aria-live="polite">{html.escape(pages.label())}</p>',
            self.next: gr.Button(interactive=pages.position < len(pages.items) - 1),
        }


def build_nav_panel() -> NavPanel:
    with gr.Row(visible=False, elem_id="page-nav", equal_height=True) as row:
        previous = gr.Button("◀ Previous", interactive=False, scale=0, min_width=110, elem_id="page-prev")
        label = gr.HTML("", padding=False, elem_id="page-of")
        following = gr.Button("Next ▶", interactive=False, scale=0, min_width=110, elem_id="page-next")
    return NavPanel(row, previous, label, following)
