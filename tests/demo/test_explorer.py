"""demo/explorer.py and demo/style.py load their browser code from demo/static/ (issue 15)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from demo import explorer, style

DEMO_DIR = Path(explorer.__file__).resolve().parent
# What marks a string as CSS or JavaScript rather than prose: a rule block, or script syntax.
CODE_LINE = re.compile(r"[{};]\s*$|=>|^\s*(const|let|function|if|return|document\.)\b")


def test_select_event_is_defined_once_and_both_scripts_use_it() -> None:
    for script in (explorer.EXPLORER_JS, explorer.TABLE_JS):
        assert script.startswith(f'const SELECT_EVENT = "{explorer.SELECT_EVENT}";\n')
        assert script.count(explorer.SELECT_EVENT) == 1, "the event name is written only by Python"
        assert "dispatchEvent(new CustomEvent(SELECT_EVENT" in script
        assert "addEventListener(SELECT_EVENT" in script
        assert "const el = (tag, cls, parent)" in script


def test_components_get_the_files_in_demo_static() -> None:
    static = DEMO_DIR / "static"
    assert explorer.EXPLORER_JS.endswith((static / "explorer.js").read_text())
    assert explorer.TABLE_JS.endswith((static / "lines_table.js").read_text())
    assert explorer.ResultExplorer().css_template == (static / "explorer.css").read_text()
    assert explorer.LinesTable().js_on_load == explorer.TABLE_JS
    assert style.CSS == (static / "page.css").read_text()


def test_upload_guard_calls_the_static_script_with_the_limit_and_a_quoted_label() -> None:
    script = style.upload_guard_js(26_214_400, 'say "25 MB"')
    assert script.startswith("() => (")
    assert script.endswith(')(26214400, "say \\"25 MB\\"")')
    assert "file.size > limit" in script


def test_no_python_string_in_demo_holds_more_than_20_lines_of_code() -> None:
    long_ones = []
    for path in sorted(DEMO_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                code_lines = [line for line in node.value.splitlines() if CODE_LINE.search(line)]
                if len(code_lines) > 20:
                    long_ones.append(f"{path.relative_to(DEMO_DIR)}:{node.lineno} ({len(code_lines)} lines)")
    assert long_ones == []
