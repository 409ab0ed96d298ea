"""The layer contract (pyproject.toml, [tool.importlinter]) holds: no lower layer imports a
higher one beyond the imports listed there as debt."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_lower_layer_imports_a_higher_one():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "import-linter is a dev dependency (pip install -e '.[dev]')"
    # PYTHONPATH: analyse this tree, whichever checkout the virtualenv's editable install names
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([lint, "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def _modules_loaded_by(statement: str) -> list[str]:
    """The app and Django modules a fresh interpreter holds after `statement`."""
    code = (
        f"import sys; {statement}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('django', 'celery', 'programs', 'claims', 'finance', 'insurance_admin')))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return eval(proc.stdout)  # a printed list of str


PURE_RULES = [
    "insurance_admin", "insurance_admin.core", "insurance_admin.core.money",
    "programs", "programs.benefit_rules", "programs.benefit_rules.glossary", "programs.benefit_rules.plan",
    "programs.benefit_rules.plan_dict", "programs.benefit_rules.seed_plans", "programs.benefit_rules.validation",
]


def test_the_money_helpers_import_without_django_celery_or_any_app():
    """insurance_admin/__init__.py loads nothing (the Celery app is loaded by insurance_admin.apps)."""
    assert _modules_loaded_by("import insurance_admin.core.money") == [
        "insurance_admin", "insurance_admin.core", "insurance_admin.core.money"]


def test_the_benefit_rules_import_without_django_or_the_rest_of_programs():
    assert _modules_loaded_by("import programs.benefit_rules") == PURE_RULES


def test_the_engine_loads_only_itself_and_the_benefit_rules():
    """programs owns the plan document, claims the calculation: importing the engine (and so
    claims/__init__.py) loads nothing of Django, of claims' Django parts or of programs' models."""
    loaded = _modules_loaded_by("import claims.engine")
    assert [m for m in loaded if not m.startswith(("claims.engine", "claims"))] == PURE_RULES
    assert [m for m in loaded if m.startswith("claims")] == ["claims"] + sorted(
        m for m in loaded if m.startswith("claims.engine"))
