"""Gradio OCR demo: `from demo import build_demo; build_demo().launch()`."""

from demo.ui import build_demo

__all__ = ["build_demo"]
