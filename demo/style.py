"""The page's look: theme, CSS and small browser scripts. Contrast figures are WCAG ratios (AA: 4.5:1).

Why each rule exists is said next to it; `tests/test_browser.py` measures the contrast and the touch
target sizes in a real browser.
"""

from __future__ import annotations

import json
import re

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


CSS = """
/* Active tab: orange-500 text on white was 2.8:1; orange-800 is 7:1. */
button[role="tab"][aria-selected="true"], .tab-wrapper button.selected { color: #9a3412 !important; }
.dark button[role="tab"][aria-selected="true"], .dark .tab-wrapper button.selected { color: #fdba74 !important; }
/* Footer links were 1.9:1. */
footer, footer a, footer button, footer span, footer div { color: #374151 !important; opacity: 1 !important; }
.dark footer, .dark footer a, .dark footer button, .dark footer span, .dark footer div { color: #d1d5db !important; }
/* Touch targets: Gradio's icon buttons are 18-24 px; 40 px is the least a finger hits reliably. */
.icon-button-wrapper button, button.icon-button, .icon-buttons button, .image-container button[aria-label],
.upload-container button[aria-label], #history button[aria-label], #image-input button[aria-label] {
  min-width: 40px !important; min-height: 40px !important;
}
button[role="tab"], .reset-button, footer a, footer button.show-api { min-height: 44px !important; }
button.label-wrap { min-height: 44px; align-items: center; }
.reset-button { min-width: 40px !important; }
input[type="number"] { min-height: 40px !important; }
.tab-like-container { height: auto !important; min-height: 40px; align-items: stretch; }
input[type="range"] { min-height: 40px; }  /* the track stays thin; the hit area is the input's height */
footer a { display: inline-flex !important; align-items: center; }
/* History captions were cut at ~10 characters. */
#history .caption-label { white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: anywhere; font-size: 12px; line-height: 1.25; }
/* Progress shows on the result view only; its placeholder text steps aside meanwhile (they overlapped). */
#summary { min-height: 3em; }
#explorer:has([data-testid="status-tracker"]:not(.hide)) .ocrx-empty { visibility: hidden; }
/* An error keeps the last result visible: Gradio's "Error" badge covered the result, the table and the
   whole history (and stayed after the toast closed). The toast carries the message. */
#summary [data-testid="status-tracker"]:has(.error), #explorer [data-testid="status-tracker"]:has(.error),
#lines-table [data-testid="status-tracker"]:has(.error), #full-text [data-testid="status-tracker"]:has(.error),
#history [data-testid="status-tracker"]:has(.error), #batch-table [data-testid="status-tracker"]:has(.error),
#json-download [data-testid="status-tracker"]:has(.error), #image-download [data-testid="status-tracker"]:has(.error) {
  display: none !important;
}
/* Too-large upload: said next to the input and kept until the next upload (a toast could vanish). */
.upload-note { margin: 4px 0 0; padding: 8px 10px; border-radius: 6px; background: #fef2f2; color: #991b1b;
  border: 1px solid #fecaca; font-size: 14px; }
.upload-note[hidden] { display: none; }
/* Example captions (the gallery's labels) wrap instead of being cut. */
#examples .gallery-item { min-height: 40px; }
"""

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
    """Page-load script: a file over the upload limit is named, with the limit, in a note under its input.

    Gradio refuses it with a toast, but with another error toast already open the new message was merged
    into it and vanished with it; this note stays until the next upload.
    """
    return (
        """
() => {
  const LIMIT = __LIMIT__, LABEL = __LABEL__;
  document.addEventListener('change', (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== 'file') return;
    const block = input.closest('#image-input, #batch-input');
    if (!block) return;
    const note = document.getElementById(block.id + '-note');
    if (!note) return;
    const big = Array.from(input.files || []).filter((file) => file.size > LIMIT);
    note.textContent = big.length
      ? big.map((file) => '"' + file.name + '" is ' + (file.size / 1e6).toFixed(1) + ' MB').join('; ')
        + ': the upload limit is ' + LABEL + '. Please upload a smaller file (scale it down or save it as JPEG).'
      : '';
    note.hidden = big.length === 0;
  }, true);
}
"""
        .replace("__LIMIT__", str(int(max_bytes)))
        .replace("__LABEL__", json.dumps(limit_label))
    )


def upload_note_html(input_id: str) -> str:
    """The (initially hidden) note `upload_guard_js` fills for the input with this elem_id."""
    return f'<p id="{input_id}-note" class="upload-note" role="alert" hidden></p>'


def size_label(limit: str) -> str:
    """'25mb' -> '25 MB' (Gradio's size strings, as the user reads them)."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([kmgt]?b)\s*", limit, re.IGNORECASE)
    return f"{match.group(1)} {match.group(2).upper()}" if match else limit
