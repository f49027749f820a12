"""Only the backend folders touch torch, diffusers or transformers; planning, DSP and the CLI stay pure."""

from __future__ import annotations

import ast
from pathlib import Path

import composer

PACKAGE = Path(composer.__file__).resolve().parent
MODEL_FOLDERS = ("backends", "codec", "builtin_model")
HEAVY = {"torch", "diffusers", "transformers"}
# bench measures what only torch can tell: peak GPU memory and the torch build it timed
ALLOWED = {"bench.py"}


def _heavy_imports(path: Path, *, root: Path = PACKAGE) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
        found += [f"{path.relative_to(root)}:{node.lineno} {name}" for name in names
                  if name.split(".")[0] in HEAVY]
    return found


def test_only_model_folders_import_torch_diffusers_or_transformers():
    offenders = [hit for path in sorted(PACKAGE.rglob("*.py"))
                 if path.relative_to(PACKAGE).parts[0] not in MODEL_FOLDERS and path.name not in ALLOWED
                 for hit in _heavy_imports(path)]
    assert offenders == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    import torch.nn\n    from diffusers import X\n")
    assert [hit.split(" ")[1] for hit in _heavy_imports(module, root=tmp_path)] == ["torch.nn", "diffusers"]
