"""The keys: Help and the README show the real bindings; number keys leave text fields alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from dgx_pixels.tui import keys
from dgx_pixels.tui.app import all_binding_scopes

from .conftest import NOBODY, make_app, wait_for

pytestmark = pytest.mark.anyio
README = Path(__file__).parent.parent.parent / "README.md"


def test_readme_keys_table_is_the_bindings() -> None:
    text = README.read_text()
    found = re.search(r"<!-- keys:start -->\n(.*?)<!-- keys:end -->", text, re.S)
    assert found is not None
    assert found.group(1) == keys.markdown_table(keys.binding_rows(all_binding_scopes()))


async def test_function_and_number_keys_switch_screens_outside_fields(tmp_path: Path) -> None:
    app = make_app(NOBODY, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.status.state == "gone", timeout=10)
        assert isinstance(app.focused, Input)  # the prompt
        await pilot.press("8")
        assert app.current_mode == "generate"  # typed into the prompt instead
        assert app.screen.query_one("#prompt", Input).value == "8"
        await pilot.press("escape", "8")
        assert app.current_mode == "help"
        rows = app.screen.query_one(DataTable).row_count
        assert rows == len(keys.binding_rows(all_binding_scopes()))
        await pilot.press("f1")
        assert app.current_mode == "generate"


async def test_keymap_from_settings_moves_a_key(tmp_path: Path) -> None:
    from dgx_pixels.tui.settings import Settings

    app = make_app(NOBODY, tmp_path, settings=Settings(keymap={"screen.help": "f12"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f12")
        assert app.current_mode == "help"
        table = app.screen.query_one(DataTable)
        keys_shown = [table.get_row_at(i)[1] for i in range(table.row_count)]
        assert "f12" in keys_shown


async def test_command_palette_switches_screens(tmp_path: Path) -> None:
    app = make_app(NOBODY, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Screen: Help")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_mode == "help", timeout=5)
