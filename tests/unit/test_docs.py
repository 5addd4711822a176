"""The docs stay true: every command, option and setting is documented."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.core import TyperGroup, TyperOption

from deskops.cli import app
from deskops.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _commands(group: TyperGroup, prefix: str = "deskops") -> dict[str, object]:
    found: dict[str, object] = {}
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            found.update(_commands(command, f"{prefix} {name}"))
        else:
            found[f"{prefix} {name}"] = command
    return found


def test_every_cli_command_and_option_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    reference = readme[readme.index("## CLI reference") :]
    commands = _commands(typer.main.get_command(app))  # type: ignore[arg-type]
    assert len(commands) >= 12
    for name, command in commands.items():
        row = next(
            (
                line
                for line in reference.splitlines()
                if line.startswith(f"| `{name} ") or line.startswith(f"| `{name}`")
            ),
            None,
        )
        assert row is not None, f"{name} is missing from the README's CLI reference"
        for parameter in command.params:  # type: ignore[attr-defined]
            if isinstance(parameter, TyperOption) and parameter.name not in ("help", "db", "as_json"):
                assert any(opt in row for opt in parameter.opts), (
                    f"{name}: option {parameter.opts} undocumented"
                )


def test_every_setting_is_documented() -> None:
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for field in Settings.model_fields:
        variable = f"DESKOPS_{field.upper()}"
        assert f"`{variable}`" in configuration, f"{variable} missing from docs/configuration.md"
        assert f"`{variable}`" in readme, f"{variable} missing from the README"


def test_every_operator_tool_and_skill_is_documented() -> None:
    from deskops.registry import load_plugins

    operator = (ROOT / "docs" / "operator.md").read_text()
    registry = load_plugins()
    for name, tool in registry.tools.items():
        row = next((line for line in operator.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"tool {name} is missing from docs/operator.md"
        assert f"| {tool.role.value} |" in row, f"{name}: its role is not {tool.role.value} in the docs"
    for name in registry.skills:
        assert f"| `{name}` |" in operator, f"skill {name} is missing from docs/operator.md"
