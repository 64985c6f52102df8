"""The Gradio page, one module per panel (inputs, batch, options, result, exports, history, api);
`app.build_demo` composes them, `events` holds the handlers and `wiring` connects them."""

from demo.ui.app import build_demo

__all__ = ["build_demo"]
