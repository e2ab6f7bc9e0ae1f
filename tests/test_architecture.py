"""The package stays a one-way street of small modules (ARCHITECTURE.md)."""

import ast
from pathlib import Path

import pytest

import gnnkit

PACKAGE = Path(gnnkit.__file__).parent
ROOMS = ["_io", "errors", "data", "text", "models", "train", "evaluate",
         "explain", "viz", "cli"]
LEVEL = {"_io": 0, "errors": 0, **{room: i for i, room in
                                   enumerate(ROOMS[2:], start=1)}}
MAX_LINES = 450
MODULES = sorted(PACKAGE.rglob("*.py"))


def room_of(module: str) -> str | None:
    """``gnnkit.models.fusion`` -> ``models``; None outside gnnkit."""
    parts = module.split(".")
    return parts[1] if parts[0] == "gnnkit" and len(parts) > 1 else None


def imported_rooms(path: Path) -> set[str]:
    """Every gnnkit room a module imports, at top level or inside a
    function."""
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        rooms.update(r for r in map(room_of, names) if r is not None)
    return rooms


def test_room_of():
    assert room_of("gnnkit.models.fusion") == "models"
    assert room_of("torch.nn") is None


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(
    p.relative_to(PACKAGE)))
def test_rooms_import_only_rooms_to_their_left(path):
    room = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    if room not in LEVEL:  # gnnkit/__init__.py and gnnkit/testing
        return
    higher = {r for r in imported_rooms(path)
              if r == "testing" or LEVEL.get(r, 0) > LEVEL[room]}
    assert not higher, f"{path.name} ({room}) imports {sorted(higher)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(
    p.relative_to(PACKAGE)))
def test_modules_stay_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines"
