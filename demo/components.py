"""Gradio components adjusted for untrusted uploads."""

from __future__ import annotations

from typing import Any

import gradio as gr


class UploadedImage(gr.Image):
    """`gr.Image` (same front end) whose server side hands the uploaded file's path over untouched.

    Stock `gr.Image` opens every upload with Pillow in its preprocess step, before the event handler
    runs: an empty file, a text or zip file renamed .png, or a header declaring 400 MP then fails
    inside Gradio, and the user only sees a generic error. With this component every upload reaches
    the app's own decoder (demo/decode.py), which refuses such files with a clear message.
    """

    is_template = True  # Gradio: render with the parent's front end ("image")

    def preprocess(self, payload: Any) -> Any:
        if payload is None:
            return None
        url = getattr(payload, "url", None)
        path = getattr(payload, "path", None)
        if path is None or (isinstance(url, str) and url.startswith("data:")):
            return super().preprocess(payload)  # base64 data URLs: Gradio writes them to a file itself
        return str(path)
