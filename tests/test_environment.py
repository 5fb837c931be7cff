"""The pip path (pyproject.toml) and the conda/Binder path (environment.yml) install the same things."""

import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pip vendors the same parser
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAME = {"torch": "pytorch-cpu"}  # pip name -> conda-forge name, where they differ
CONDA_ONLY = {"python", "pip"}


def parse(requirement: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", requirement)
    assert match, f"cannot parse requirement {requirement!r}"
    return match.group(1).lower(), match.group(2).replace(" ", "")


def pip_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return dict(parse(r) for r in project["dependencies"])


def conda_requirements() -> dict[str, str]:
    deps, inside = [], False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            inside = True
        elif inside and re.match(r"\s+- ", line):
            deps.append(line.split("- ", 1)[1].split("#")[0].strip())
        elif inside and line.strip() and not line.startswith(" "):
            break
    return dict(parse(d) for d in deps if isinstance(d, str))


def test_same_packages_and_bounds():
    pip = {CONDA_NAME.get(name, name): spec for name, spec in pip_requirements().items()}
    conda = {name: spec for name, spec in conda_requirements().items() if name not in CONDA_ONLY}
    assert sorted(pip) == sorted(conda), (
        f"only in pyproject.toml: {sorted(set(pip) - set(conda))}; only in environment.yml: {sorted(set(conda) - set(pip))}"
    )
    for name in pip:
        assert pip[name] == conda[name], f"{name}: pyproject says {pip[name]!r}, environment.yml says {conda[name]!r}"


def test_no_exact_pins_in_the_user_facing_lists():
    # Exact pins break installs on newer Pythons (d2l #2608); the lock lives in constraints.txt.
    for name, spec in {**pip_requirements(), **conda_requirements()}.items():
        assert "==" not in spec, f"{name} is pinned exactly ({spec}); use a range"


def test_lock_covers_every_dependency_and_keeps_torch_cpu():
    lock = dict(parse(line.replace("==", " ==")) for line in (ROOT / "constraints.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#"))
    missing = [name for name in pip_requirements() if name not in lock and name.replace("_", "-") not in lock]
    assert not missing, f"constraints.txt lacks {missing}: run `make lock`"
    assert not any(name.startswith("nvidia-") for name in lock), "the CI lock must not pull CUDA wheels"


def test_python_floor_matches():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=" + conda_requirements()["python"].lstrip(">=")
