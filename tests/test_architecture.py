"""House rules that code review alone would miss."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(package_dir: Path) -> dict[str, set[str]]:
    found = {}
    for file in package_dir.rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(file.relative_to(ROOT))] = names
    return found


def test_imports_go_one_way():
    # labextension -> HTTP -> workbench_server -> workbench; the SDK never pulls in the server.
    for file, names in _imports(ROOT / "workbench").items():
        assert not names & {"tornado", "jupyter_server", "workbench_server", "workbench_kernels"}, file


def test_the_public_sdk_is_all_of_init():
    import workbench

    for name in workbench.__all__:
        assert hasattr(workbench, name), name
    assert "tracking" not in workbench.__all__


def test_no_machine_paths_in_the_tree():
    for file in list(ROOT.glob("**/*.py")) + list(ROOT.glob("docs/*.md")) + [ROOT / "Makefile", ROOT / "README.md"]:
        if ".venv" in file.parts or "node_modules" in file.parts or not file.exists():
            continue
        assert str(ROOT) not in file.read_text(), file  # no absolute path of a checkout
