"""No generated `.pyi` stubs in the source tree.

Gradio's component metaclass (gradio/component_meta.py, `ComponentMeta.__new__`) calls
`create_or_modify_pyi` for every class that subclasses one of its components, and that writes a ~580-line
`.pyi` beside the class's source file (here: demo/components.py, demo/explorer.py, demo/ui/api.py) each time
the module is imported. Gradio has no setting to turn this off (6.31: the call is unconditional).

`skip_stubs_for_demo()`, called by each of those modules before it defines its component classes, wraps that
function so that it does nothing for classes defined in this package (`demo.*`) and works as before for every
other class. tests/demo/test_no_stub_files.py imports and builds the app from a copy of demo/ and checks that
no `.pyi` appears.
"""

from __future__ import annotations

from typing import Any, Callable

_PACKAGE = __name__.split(".")[0]  # "demo"
_MARK = "_skips_stubs_for"


def skip_stubs_for_demo() -> None:
    """Make Gradio skip the `.pyi` stub of every component class defined in this package (idempotent)."""
    from gradio import component_meta

    original: Callable[..., Any] | None = getattr(component_meta, "create_or_modify_pyi", None)
    if original is None or getattr(original, _MARK, None) == _PACKAGE:
        return  # a Gradio without this hook (the test then says whether stubs appear), or already wrapped

    def create_or_modify_pyi(component_class: type, class_name: str, events: list[Any]) -> Any:
        if str(getattr(component_class, "__module__", "")).split(".")[0] == _PACKAGE:
            return None
        return original(component_class, class_name, events)

    setattr(create_or_modify_pyi, _MARK, _PACKAGE)
    component_meta.create_or_modify_pyi = create_or_modify_pyi
