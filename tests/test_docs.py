"""The README documents every command, and its CLI reference is what the commands print."""

from __future__ import annotations

import subprocess
import sys

from typer.main import get_command

from conftest import ROOT
from pipeline.cli import app


def test_every_command_is_in_the_readme_with_help():
    """This test ensures that each koubo command has help text and a section in the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = get_command(app).commands  # type: ignore[attr-defined]
    assert set(commands) >= {"ingest", "show", "outline", "requirements", "index", "search"}
    for name, cmd in commands.items():
        assert cmd.help, f"{name} has no help"
        assert f"### `koubo {name}`" in readme


def test_readme_cli_reference_is_current():
    """This test ensures that the README's CLI reference matches the commands' --help (cog)."""
    result = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "README.md"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr + "\nrun `make readme` to update it"


def test_readme_shows_the_two_commands():
    """This test ensures that the README shows make demo and make test, and .ci/run calls make test."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci/run").read_text()
