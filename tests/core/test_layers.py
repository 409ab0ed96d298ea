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


def test_claims_engine_imports_without_django_or_the_rest_of_claims():
    """programs imports claims.engine across the layers (pyproject.toml): that holds only while
    importing it (and so claims/__init__.py) loads nothing of Django or of claims' Django parts."""
    code = (
        "import sys, claims.engine.seed_plans; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith(('django.', 'programs', 'finance', "
        "'insurance_admin')) or (m.startswith('claims.') and not m.startswith('claims.engine'))))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"
