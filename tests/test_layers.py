"""The floors import downward only: spasmwatch -> episodes -> replay -> detect -> sensor."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ["sensor", "detect", "replay", "episodes", "spasmwatch"]


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("floor", FLOORS)
def test_no_floor_imports_upward(floor: str) -> None:
    above = set(FLOORS[FLOORS.index(floor) + 1 :])
    for path in (ROOT / floor).rglob("*.py"):
        bad = imports(path) & above
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_detect_takes_only_the_block_and_errors_from_sensor() -> None:
    for path in (ROOT / "detect").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("sensor")
            ):
                assert node.module in ("sensor.block", "sensor.errors"), (
                    f"{path.name}: {node.module}"
                )


def test_only_the_ble_module_may_import_bleak() -> None:
    for floor in FLOORS:
        for path in (ROOT / floor).rglob("*.py"):
            if path.name != "ble.py":
                assert "bleak" not in imports(path), path
