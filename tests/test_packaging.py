"""The set-up stays true: pyproject.toml and environment.yml agree, CI runs the README's test command."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# conda-forge names for PyPI packages whose names differ.
CONDA_NAMES = {"torch": "pytorch"}


def requirement_name(requirement):
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower()


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {CONDA_NAMES.get(requirement_name(r), requirement_name(r)): r for r in requirements}


def environment_requirements():
    """The packages under ``dependencies:``, conda's and those of the pip sub-list (not the channels,
    not python, pip or the editable install of the project itself)."""
    names, in_dependencies = {}, False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if not line.startswith(" "):
            in_dependencies = line.startswith("dependencies:")
            continue
        match = re.match(r"^  (?:    )?- ([A-Za-z0-9_.-]+)(.*)$", line)
        if in_dependencies and match and match.group(1) not in ("python", "pip", "-e"):
            names[match.group(1).lower()] = match.group(1) + match.group(2).strip()
    return names


def test_environment_yml_lists_exactly_the_pyproject_dependencies():
    assert set(environment_requirements()) == set(pyproject_requirements())


def test_versions_agree():
    environment = environment_requirements()
    for name, requirement in pyproject_requirements().items():
        pinned = re.findall(r"[<>=!~]=?[0-9.]+", requirement)
        assert re.findall(r"[<>=!~]=?[0-9.]+", environment[name]) == pinned, name


def test_ci_runs_the_readmes_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test$", ci, re.MULTILINE)
    assert "set -e" in ci


def test_make_test_sets_up_and_runs_every_test_offline():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "$(STAMP)" in recipe.splitlines()[0]
    # quick mode, and the default network: the original VGG-19, which needs no download
    assert "D2LSTYLE_QUICK=1" in recipe and "pytest" in recipe and "D2LSTYLE_NETWORK=original" in recipe


def test_the_command_line_tool_is_installed():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["d2lstyle"] == "d2lstyle.cli:main"
