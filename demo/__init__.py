"""Gradio OCR demo: `from demo import build_demo; build_demo().launch()`.

`build_demo` is imported lazily so that the pure modules (render, history, handlers,
config) can be used without importing Gradio.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_demo"]


def __getattr__(name: str) -> Any:
    if name == "build_demo":
        from demo.ui import build_demo

        return build_demo
    raise AttributeError(f"module 'demo' has no attribute {name!r}")
