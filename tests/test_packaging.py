"""The set-up stays true: pyproject.toml and environment.yml agree, CI runs the README's test command, the README
is a short front page whose reference pages (docs/) link correctly and are on the website, and a wheel built from
the checkout carries the bundled images and runs outside the repository."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from d2lstyle import images
from d2lstyle.errors import ImageError

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


# --- the README and the reference pages ---------------------------------------------------------------------

DOCS = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
# A measured figure: a time, a speed-up, a quality ratio. They live in benchmarks/results.md (and each notebook's
# run-time line), so that a new measurement changes one place.
MEASURED = re.compile(r"(?<![\w.-])\d+(?:\.\d+)?\s?(?:ms|s|seconds|minutes|min|hours?)\b|(?<![\w.-])\d+(?:\.\d+)?x\b"
                      r"|\b(?:style|content)(?: ratio)? \d\.\d")


def test_the_readme_is_a_front_page_that_links_every_reference_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    assert DOCS and all(f"](docs/{path.name})" in readme for path in DOCS)
    assert "](benchmarks/results.md)" in readme


@pytest.mark.parametrize("path", [ROOT / "README.md"] + DOCS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_relative_links_lead_to_files_in_the_repository(path):
    text = path.read_text(encoding="utf-8")
    for target in LINK.findall(text) + re.findall(r'<img src="([^"]+)"', text):
        if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:|#", target):
            assert (path.parent / target.split("#", 1)[0]).exists(), f"{path.name}: {target}"


@pytest.mark.parametrize("path", [ROOT / "README.md"] + DOCS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_measured_figures_are_not_copied_but_pointed_to(path):
    copied = MEASURED.findall(path.read_text(encoding="utf-8"))
    assert not copied, f"{path.name} states {copied}: point to benchmarks/results.md instead"


def test_every_reference_page_is_in_the_websites_reference_section():
    index = (ROOT / "book" / "index.md").read_text(encoding="utf-8")
    reference = index.split(":caption: Reference", 1)[1].split("```", 1)[0].split()
    assert [f"docs/{path.stem}" for path in DOCS if f"docs/{path.stem}" not in reference] == []
    assert "benchmarks/results" in reference


def test_on_the_website_a_link_to_a_file_outside_the_site_becomes_its_text(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    import make_book

    for name in ("docs/cli.md", "docs/recipes.md", "notebooks/10_x.ipynb", "exercises/10_x.ipynb"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    text = ("[Recipes](recipes.md#the-default), [10](../notebooks/10_x.ipynb), [11](../notebooks/11_y.ipynb), "
            "[`benchmarks/results.md`](../benchmarks/results.md), [x](../exercises/10_x.ipynb), "
            "[PyPI](https://pypi.org), ![a picture](../gallery/a.jpg)\n```\n[kept](../in/code.md)\n```\n")
    assert make_book.site_links(text, tmp_path / "docs" / "cli.md", tmp_path) == (
        "[Recipes](recipes.md#the-default), [10](../notebooks/10_x.ipynb), 11, `benchmarks/results.md`, x, "
        "[PyPI](https://pypi.org), ![a picture](../gallery/a.jpg)\n```\n[kept](../in/code.md)\n```\n")


def test_make_test_sets_up_and_runs_every_test_offline():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "$(STAMP)" in recipe.splitlines()[0]
    # quick mode, and the default network: the original VGG-19, which needs no download
    assert "D2LSTYLE_QUICK=1" in recipe and "pytest" in recipe and "D2LSTYLE_NETWORK=original" in recipe


def test_the_command_line_tool_is_installed():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["d2lstyle"] == "d2lstyle.cli:main"


# --- the bundled images, in the repository and in a wheel ---------------------------------------------------


def test_the_images_are_found_in_the_checkout_and_d2lstyle_images_overrides(monkeypatch, tmp_path):
    monkeypatch.delenv("D2LSTYLE_IMAGES", raising=False)
    assert images._bundled_images_dir() == ROOT / "images"
    monkeypatch.setenv("D2LSTYLE_IMAGES", str(tmp_path))
    assert images._bundled_images_dir() == tmp_path


def test_a_missing_images_folder_says_how_to_point_at_one(monkeypatch, tmp_path):
    monkeypatch.setattr(images, "IMAGES_DIR", tmp_path / "nowhere")
    with pytest.raises(ImageError, match="set D2LSTYLE_IMAGES"):
        images.bundled_image("tubingen")


def test_the_wheel_lists_every_subpackage_of_d2lstyle():
    """pyproject.toml names the packages one by one (the images are mapped in as d2lstyle.bundled_images, which
    automatic discovery cannot do), so a new subpackage must be added there or the wheel leaves it out."""
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "d2lstyle").rglob("__init__.py")
             if "__pycache__" not in path.parts}
    missing = found - set(listed)
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"


def bundled_files():
    """The files under images/ that a wheel must carry: the pictures, the masks and the licences."""
    return sorted(path.relative_to(ROOT / "images").as_posix() for path in (ROOT / "images").rglob("*")
                  if path.suffix in (".jpg", ".png", ".md"))


@pytest.mark.slow
def test_a_wheel_carries_the_images_and_their_licences_and_runs_outside_the_repository(tmp_path):
    # Build from a copy of what the wheel is made of, so that setuptools' build/ and egg-info stay out of the
    # checkout; no build isolation: setuptools comes from this environment, nothing is downloaded.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("d2lstyle", "images"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "--quiet"]
    subprocess.run(pip + ["wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), "."],
                   cwd=source, check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("d2lstyle-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        carried = {name.removeprefix("d2lstyle/bundled_images/") for name in archive.namelist()
                   if name.startswith("d2lstyle/bundled_images/")}
    assert "CREDITS.md" in carried and "content/tubingen.jpg" in carried and "masks/tubingen_sky.png" in carried
    assert carried == set(bundled_files())
    with zipfile.ZipFile(wheel) as archive:
        assert "d2lstyle/locale/zh_CN.po" in archive.namelist()  # the Chinese messages, d2lstyle.i18n

    site = tmp_path / "site"
    subprocess.run(pip + ["install", "--no-deps", "--target", str(site), str(wheel)], check=True, capture_output=True)
    # Run from a folder outside the repository, importing the installed copy (PYTHONPATH comes before the
    # editable install's finder), with no D2LSTYLE_IMAGES to help.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("D2LSTYLE_")}
    environment["PYTHONPATH"] = str(site)
    where = subprocess.run(
        [sys.executable, "-c", "import d2lstyle; print(d2lstyle.__file__); print(d2lstyle.images.IMAGES_DIR); "
         "print(d2lstyle.bundled_image('tubingen')); print(d2lstyle.bundled_image('starry_night'))"],
        cwd=elsewhere, env=environment, check=True, capture_output=True, text=True).stdout.split()
    package, images_dir, photo, painting = map(Path, where)
    assert package.is_relative_to(site) and images_dir == site / "d2lstyle" / "bundled_images"
    assert (images_dir / "CREDITS.md").is_file() and photo.is_relative_to(site) and painting.is_relative_to(site)

    run = subprocess.run([sys.executable, "-m", "d2lstyle", str(photo), str(painting), "-o", "out.png",
                          "--network", "random", "--size", "32", "--steps", "2", "--quiet"],
                         cwd=elsewhere, env=environment, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    chinese = subprocess.run([sys.executable, "-m", "d2lstyle", "--help"], cwd=elsewhere, capture_output=True,
                             text=True, env=dict(environment, D2LSTYLE_LANG="zh"))
    assert chinese.returncode == 0 and re.search(r"[\u4e00-\u9fff]", chinese.stdout), chinese.stdout[:300]
    with Image.open(elsewhere / "out.png") as result, Image.open(photo) as original:
        assert max(result.size) == 32
        assert abs(result.size[0] / result.size[1] - original.size[0] / original.size[1]) < 0.1
