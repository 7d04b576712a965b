"""An installable library: the wheel ships the datasets (with their READMEs and licences) and the
instruments, library code reads nothing outside the package, and the private scipy routine of
the EFA fast path is used only on the scipy versions it was checked against.

The full check -- the wheel installed with the locked dependencies into a fresh virtual
environment and used from an empty folder -- is ``make wheel-test`` (``tests/wheel_smoke.py``).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import custval
from custval import EFA
from custval._io.paths import DATASETS_DIR, INSTRUMENTS_DIR, PACKAGE_DIR
from custval._stats import factor_extraction as fx

ROOT = PACKAGE_DIR.parent


# --------------------------------------------------------------------------- the wheel's contents
@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--no-build-isolation", str(ROOT), "-w", str(out)],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{proc.stderr[-2000:]}")
    (path,) = out.glob("custval-*.whl")
    with zipfile.ZipFile(path) as zf:
        yield zf


def test_wheel_ships_every_dataset_with_readme_provenance_and_matching_bytes(wheel):
    names = set(wheel.namelist())
    for name, row in custval.list_datasets().iterrows():
        folder = f"custval/_data/{name}"
        for doc in ("README.md", "PROVENANCE.md"):
            assert f"{folder}/{doc}" in names, f"{folder}/{doc} (origin, licence) missing from the wheel"
        readme = wheel.read(f"{folder}/README.md").decode("utf-8")
        sha = re.search(r"^SHA-256: `([0-9a-f]{64})`$", readme, flags=re.MULTILINE)[1]
        licence = re.search(r"^Licence: `([^`]+)`$", readme, flags=re.MULTILINE)[1]
        assert licence == row["licence"]
        data = wheel.read(f"{folder}/{Path(row['file']).name}")
        assert hashlib.sha256(data).hexdigest() == sha
        assert data == Path(row["file"]).read_bytes()


def test_wheel_ships_the_instruments_and_the_licence_and_no_test_fixtures(wheel):
    names = set(wheel.namelist())
    for path in INSTRUMENTS_DIR.iterdir():
        assert f"custval/instruments/{path.name}" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if n.startswith(("tests/", "data/", "notebooks/"))]
    assert not [n for n in names if "golden" in n]


def test_every_shipped_dataset_lives_in_the_package_and_nothing_is_left_in_data_raw():
    for name, row in custval.list_datasets().iterrows():
        assert Path(row["file"]).parent == DATASETS_DIR / name
        assert custval.load_dataset(name, with_instrument=False).path == Path(row["file"])
    raw = ROOT / "data" / "raw"
    if raw.is_dir():  # a source checkout: data/raw keeps only inputs that are not shipped
        shipped = {p.name for p in DATASETS_DIR.iterdir() if p.is_dir()}
        assert not shipped & {p.name for p in raw.iterdir() if p.is_dir()}


def test_library_code_and_its_examples_read_nothing_outside_the_package():
    """Docstring examples load data with the public ``load_dataset``; no module reaches into the
    test suite, the project's data/raw or ``custval._io.paths``' project folders for data."""
    offenders = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"tests/golden", r"PROJECT_ROOT\s*/\s*[\"']tests", r"RAW_DATA_DIR",
                        r">>> .*custval\._io\.paths", r"data/raw"):
            if path.relative_to(PACKAGE_DIR).as_posix() != "_io/paths.py" and re.search(pattern, text):
                offenders.append(f"{path.relative_to(PACKAGE_DIR)}: {pattern}")
    assert not offenders


# --------------------------------------------------------------------------- scipy's private L-BFGS-B
def _lock_version(name: str) -> tuple[int, int]:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    major, minor = re.search(rf"^{name}==(\d+)\.(\d+)", text, flags=re.MULTILINE).groups()
    return int(major), int(minor)


def test_the_locked_and_installed_scipy_use_the_checked_fast_path():
    """Bumping scipy in the lock fails here until the fast loop is checked against the new release
    (tests/test_efa_robust.py) and added to ``SETULB_VERIFIED_SCIPY``."""
    assert _lock_version("scipy") in fx.SETULB_VERIFIED_SCIPY
    assert fx._scipy_version() in fx.SETULB_VERIFIED_SCIPY
    assert fx._setulb_verified()


@pytest.mark.parametrize("version,expected", [
    ("1.17.1", (1, 17)), ("1.16.0rc2", (1, 16)), ("2.0.0.dev0+git20270101.abc", (2, 0)), ("unknown", None),
])
def test_scipy_version_is_read_from_its_version_string(version, expected, monkeypatch):
    import scipy

    monkeypatch.setattr(scipy, "__version__", version)
    assert fx._scipy_version() == expected
    assert fx._setulb_verified() is (expected in fx.SETULB_VERIFIED_SCIPY)


def _hs():
    return custval.load_dataset("holzinger_swineford1939").data.loc[:, "x1":"x9"]


@pytest.mark.parametrize("version", [(1, 99), (2, 0), None])
def test_an_unchecked_scipy_uses_the_public_minimize_with_the_same_solution(version, monkeypatch):
    """Outside the checked versions the fast loop steps aside and the public
    ``scipy.optimize.minimize`` gives psych's solution to the same digits."""
    from scipy import optimize

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = EFA(3, method="minres", rotation="oblimin").fit(_hs())
        fast_ml = fx.extract(np.corrcoef(_hs().to_numpy(), rowvar=False), 3, "ml")

    loop_results, public_calls = [], []
    real_loop, real_minimize = fx._setulb_loop, optimize.minimize

    def loop(*args, **kwargs):
        loop_results.append(real_loop(*args, **kwargs))
        return loop_results[-1]

    def minimize(*args, **kwargs):
        public_calls.append(kwargs.get("method"))
        return real_minimize(*args, **kwargs)

    monkeypatch.setattr(fx, "_scipy_version", lambda: version)
    monkeypatch.setattr(fx, "_setulb_loop", loop)
    monkeypatch.setattr(optimize, "minimize", minimize)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        public = EFA(3, method="minres", rotation="oblimin").fit(_hs())
        public_ml = fx.extract(np.corrcoef(_hs().to_numpy(), rowvar=False), 3, "ml")
    assert len(loop_results) >= 2 and all(r is None for r in loop_results)
    assert len(public_calls) >= len(loop_results) and set(public_calls) == {"L-BFGS-B"}
    np.testing.assert_allclose(public.loadings_.to_numpy(), fast.loadings_.to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(public.uniquenesses_.to_numpy(), fast.uniquenesses_.to_numpy(),
                               rtol=0, atol=1e-10)
    assert public.converged_ and fast.converged_
    assert public.optimizer_fallback_ == fast.optimizer_fallback_
    np.testing.assert_allclose(public_ml.psi, fast_ml.psi, rtol=0, atol=1e-10)


# --------------------------------------------------------------------------- the project's folders
def test_project_root_is_the_checkout_or_else_the_working_directory(tmp_path, monkeypatch):
    """An installed wheel has no checkout around it: reports and data/processed then go to the
    working directory, never into site-packages."""
    from custval._io import paths as _paths

    monkeypatch.delenv("CUSTVAL_PROJECT_ROOT", raising=False)
    assert _paths.project_root() == ROOT  # this checkout (it has pyproject.toml)
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    (site / "custval").mkdir(parents=True)
    project = tmp_path / "my survey project"
    project.mkdir()
    monkeypatch.setattr(_paths, "PACKAGE_DIR", site / "custval")
    monkeypatch.chdir(project)
    assert _paths.project_root() == project.resolve()
    monkeypatch.setenv("CUSTVAL_PROJECT_ROOT", str(tmp_path))
    assert _paths.project_root() == tmp_path.resolve()
