"""No code outside seeding and tests names a contract (issue 22): every term of a contract is
data, so a new contract needs no code. Like the engine's own scan for contract-specific
branches (tests/claims/test_engine_plans.py), this reads the source of the apps and fails on a
seed contract's or program's code in a string, or on a lookup keyed by a contract's code.

Allowed: the seed modules (seed.py, seed_*.py), migrations, the management commands that load
demo data, and the tests. Docstrings and comments may mention a code (they explain data)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("programs", "claims", "finance", "insurance_admin")
CODE_WORD = re.compile(r"\b(tongliao|taikang|zhenping|beijing)-")
#: a seed table looked up by a contract's or program's code: TABLE.get(contract.code ...),
#: TABLE[contract.code], contract.code in TABLE
KEYED_LOOKUP = re.compile(
    r"[A-Z][A-Z0-9_]{2,}(\.get\(|\[)\s*(\w+\.)*(contract|program)\.code\b"
    r"|\b(contract|program)\.code\s+(not\s+)?in\s+[A-Z][A-Z0-9_]{2,}\b"
)


def _allowed(path: Path) -> bool:
    parts = path.relative_to(ROOT).parts
    return ("migrations" in parts or "tests" in parts or path.name == "seed.py" or path.name.startswith("seed_")
            or (path.parent.name == "commands" and path.name.startswith("load_demo")))


def _scanned() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py") if not _allowed(p))


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            ids.add(id(body[0].value))
    return ids


def contract_code_findings(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    docs = _docstring_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs \
                and CODE_WORD.search(node.value):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: names a contract: {node.value[:60]!r}")
    code = ast.unparse(tree)  # comments dropped
    for match in KEYED_LOOKUP.finditer(code):
        found.append(f"{path.relative_to(ROOT)}: looks a table up by contract code: {match.group(0)!r}")
    return found


def test_the_scan_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""Tongliao (tongliao-2025) in a docstring is fine."""\n'
                      'RATES = {"tongliao-2025": 1}\n'  # a code-keyed table
                      'def rate(contract):\n'
                      '    # tongliao-2025 in a comment is fine\n'
                      '    return RATES.get(contract.code)\n'
                      'def other(obj):\n'
                      '    return obj.contract.code in TEMPLATES or TERMS[obj.program.code]\n', encoding="utf-8")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        findings = contract_code_findings(sample)
    finally:
        ROOT = saved
    assert findings == [
        "sample.py:2: names a contract: 'tongliao-2025'",
        "sample.py: looks a table up by contract code: 'RATES.get(contract.code'",
        "sample.py: looks a table up by contract code: 'contract.code in TEMPLATES'",
        "sample.py: looks a table up by contract code: 'TERMS[obj.program.code'",
    ]


def test_no_code_outside_seeding_and_tests_names_a_contract():
    files = _scanned()
    assert len(files) > 150, len(files)  # the apps are really scanned
    assert ROOT / "finance" / "services.py" in files and ROOT / "finance" / "seed.py" not in files
    findings = [finding for path in files for finding in contract_code_findings(path)]
    assert findings == []
