"""The page's look: theme, CSS and small browser scripts. Contrast figures are WCAG ratios (AA: 4.5:1).

The CSS and the longer scripts are files in demo/static/, where eslint and editors reach them.

Why each rule exists is said next to it; `tests/demo/ui/test_browser.py` measures the contrast and the touch
target sizes in a real browser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import gradio as gr


def theme() -> gr.themes.Base:
    """Gradio's default theme with AA contrast on the primary buttons (white on orange-500 was 3.6:1;
    on orange-700 it is 5.2:1)."""
    return gr.themes.Default().set(
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover_dark="*primary_800",
        button_primary_text_color="white",
        button_primary_text_color_dark="white",
        button_primary_border_color="*primary_700",
        button_primary_border_color_dark="*primary_700",
    )


STATIC_DIR = Path(__file__).resolve().parent / "static"

# The page's own rules (contrast, touch targets, history captions, error badges, the upload note); why
# each exists is said next to it in the file.
CSS = (STATIC_DIR / "page.css").read_text(encoding="utf-8")

# After a successful run: bring the results onto the screen when they start below the fold (phones,
# where the columns stack). On a wide screen they are already beside the input and nothing moves.
SCROLL_TO_RESULTS_JS = """
() => {
  const target = document.getElementById('summary');
  if (!target) return;
  const top = target.getBoundingClientRect().top;
  if (top > window.innerHeight * 0.5 || top < 0) target.scrollIntoView({behavior: 'smooth', block: 'start'});
}
"""


def upload_guard_js(max_bytes: int, limit_label: str) -> str:
    """Page-load script (demo/static/upload_guard.js): a file over the upload limit is named, with the
    limit, in a note under its input, and is held back from Gradio.

    Gradio refuses such a file with its own toast ("exceed the maximum allowed size of 25.0 Mb"); with
    another error toast open, that message was merged into it and vanished with it. The note stays until
    the next upload, and is the only message, in the limit's own units.
    """
    script = (STATIC_DIR / "upload_guard.js").read_text(encoding="utf-8").strip().rstrip(";")
    return f"() => ({script})({int(max_bytes)}, {json.dumps(limit_label)})"


def upload_note_html(input_id: str) -> str:
    """The (initially hidden) note `upload_guard_js` fills for the input with this elem_id."""
    return f'<p id="{input_id}-note" class="upload-note" role="alert" hidden></p>'


def size_label(limit: str) -> str:
    """'25mb' -> '25 MB' (Gradio's size strings, as the user reads them)."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([kmgt]?b)\s*", limit, re.IGNORECASE)
    return f"{match.group(1)} {match.group(2).upper()}" if match else limit
