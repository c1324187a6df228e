"""The website (make book) and the slides (make slides), built in quick mode and opened in headless Chromium.

The notebooks are run once, in quick mode with the network make test chooses (tools/run_notebooks.py, into
build/executed/quick; a later run reuses the outputs of notebooks that have not changed). Then:

- the whole site is built with ``sphinx-build -W`` (a warning fails it); Chromium opens a page and sees a
  figure drawn and the maths typeset by MathJax, the search page finds a word, the student versions are
  downloadable, and no page asks for anything outside the site (no CDN);
- the deck of notebook 00 opens, has as many slides as its slide metadata says, shows a figure on the slide
  the metadata puts it on, and moves on with the arrow keys.

Skips, saying why, without Chromium (make test installs Debian's), playwright or the course extra.
"""

import importlib.util
import os
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("D2LSTYLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE = "00_overview"  # a page and a deck with figures and equations

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not Path(CHROMIUM).is_file():
    pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's package with `apt-get install chromium` "
                "(make test tries to) or set D2LSTYLE_CHROMIUM", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package (pip install -e '.[test]')")
for module in ("sphinx", "myst_nb", "sphinx_book_theme", "sphinx_revealjs", "jupyter_server_mathjax"):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"needs {module} (pip install -e '.[course]')", allow_module_level=True)

sys.path.insert(0, str(ROOT / "tools"))
import make_book  # noqa: E402
import make_slides  # noqa: E402
import run_notebooks  # noqa: E402
import slide_metadata  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The quick site, built into a temporary folder; the path of its index.html."""
    return make_book.make_book(quick=True, out=tmp_path_factory.mktemp("site") / "html", log=lambda message: None)


@pytest.fixture(scope="module")
def deck(site, tmp_path_factory):
    """The quick deck of notebook PAGE (from the runs the site made), in a temporary folder."""
    path = ROOT / "notebooks" / f"{PAGE}.ipynb"
    (target,) = make_slides.make_slides([path], tmp_path_factory.mktemp("slides"), quick=True,
                                        log=lambda message: None)
    return target


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, tmp_path):
    """A Chromium page that records every request for something outside the site; a screenshot on failure."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.outside = []
    # about:blank: MathJax 2's font check asks for it (and nothing else)
    page.on("request", lambda request: page.outside.append(request.url)
            if not request.url.startswith(("file:", "data:", "about:blank")) else None)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    page.screenshot(path=str(tmp_path / "last-page.png"))
    page.close()


def typeset(page):
    """Wait until MathJax 2 has typeset everything queued on the page."""
    page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.isReady === true", timeout=60_000)
    page.evaluate("new Promise(resolve => MathJax.Hub.Queue(resolve))")


def test_every_notebook_has_a_page_and_the_site_has_a_gallery_search_and_student_versions(site):
    html = site.parent
    for path in run_notebooks.select([]):
        assert (html / "notebooks" / f"{path.stem}.html").is_file(), path.name
    assert (html / "gallery.html").is_file() and (html / "student_versions.html").is_file()
    assert (html / "search.html").is_file() and (html / "searchindex.js").is_file()
    assert (html / "_static" / "mathjax" / "MathJax.js").is_file()
    # the Reference section: docs/ and the benchmarks' results, at their repository paths
    assert "Reference" in (html / "index.html").read_text(encoding="utf-8")
    for path in sorted((ROOT / "docs").glob("*.md")):
        assert (html / "docs" / f"{path.stem}.html").is_file(), f"docs/{path.name}"
    assert (html / "benchmarks" / "results.html").is_file() and (html / "images" / "CREDITS.html").is_file()


def test_a_page_shows_its_figures_and_typesets_its_maths_offline(site, page):
    page.goto((site.parent / "notebooks" / f"{PAGE}.html").as_uri())
    typeset(page)
    figures = page.locator("div.cell_output img")
    assert figures.count() >= 3
    figures.first.scroll_into_view_if_needed()
    assert page.evaluate("img => img.complete && img.naturalWidth > 100", figures.first.element_handle())
    assert figures.first.is_visible()
    # the displayed equation of the pipeline, L(x) = alpha L_content + ..., typeset: no TeX left in sight
    equations = page.locator(".MathJax_Display")
    assert equations.count() >= 1 and equations.first.is_visible()
    assert "L_\\text{content}" not in page.inner_text("main")
    assert page.locator("span.math .MathJax").count() >= 10  # inline maths: p, a, x, F^l, ...
    assert page.outside == [], f"the page asked for files outside the site: {page.outside}"
    assert page.errors == []


def test_the_search_box_finds_a_word_on_the_pages(site, page):
    page.goto((site.parent / "search.html").as_uri() + "?q=Gram")
    results = page.locator("#search-results li")
    results.first.wait_for(timeout=30_000)
    found = " ".join(results.all_inner_texts())
    assert "Gram" in found and results.count() >= 2
    assert page.outside == []


def test_each_page_links_its_student_version_and_the_download_is_it(site, page):
    page.goto((site.parent / "notebooks" / "04_style_loss.html").as_uri())
    link = page.locator("a.download", has_text="exercises/04_style_loss.ipynb")
    assert link.count() == 1
    downloaded = (site.parent / "notebooks" / link.get_attribute("href")).resolve()
    assert downloaded.read_bytes() == (ROOT / "exercises" / "04_style_loss.ipynb").read_bytes()


def slides_of(notebook):
    """(horizontal, vertical) position of each cell's slide in the deck, as reveal.js numbers them, or None."""
    positions, h, v = [], -1, 0
    for cell in notebook.cells:
        kind = cell.metadata["slideshow"]["slide_type"]
        if kind == "slide":
            h, v = h + 1, 0
        elif kind == "subslide":
            v += 1
        positions.append(None if kind in ("skip", "notes") else (h, v))
    return positions


def test_the_deck_opens_with_its_slides_shows_a_figure_and_moves_on_with_the_keys(deck, page):
    notebook = nbformat.read(ROOT / "notebooks" / f"{PAGE}.ipynb", as_version=4)
    types = [cell.metadata["slideshow"]["slide_type"] for cell in notebook.cells]
    page.goto(deck.as_uri())
    page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=60_000)
    assert page.evaluate("Reveal.getTotalSlides()") == types.count("slide") + types.count("subslide")
    assert page.evaluate("[Reveal.getIndices().h, Reveal.getIndices().v]") == [0, 0]

    # walk to the first figure with the keyboard: right to its slide, down to its subslide
    figure = next(index for index, cell in enumerate(notebook.cells) if slide_metadata.draws_figure(cell))
    h, v = slides_of(notebook)[figure]
    for _ in range(h):
        page.keyboard.press("ArrowRight")
    for _ in range(v):
        page.keyboard.press("ArrowDown")
    page.wait_for_timeout(500)
    assert page.evaluate("[Reveal.getIndices().h, Reveal.getIndices().v]") == [h, v]
    image = page.locator(".reveal section.present img").first
    assert image.is_visible()
    assert page.evaluate("img => img.complete && img.naturalWidth > 100", image.element_handle())
    box = image.bounding_box()
    assert box["width"] > 300 and box["y"] < 900, f"the figure is not on the screen: {box}"
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    assert page.evaluate("Reveal.getIndices().h") == h + 1
    typeset(page)
    assert page.outside == [], f"the deck asked for files outside its folder: {page.outside}"
    assert page.errors == []


def test_rise_presents_a_notebook_as_slides_live_in_jupyterlab(tmp_path, browser):
    """jupyterlab-rise (RISE for JupyterLab 4) shows the same slide metadata as a live deck, at /rise/<path>."""
    if importlib.util.find_spec("jupyterlab_rise") is None:
        pytest.skip("needs jupyterlab-rise (pip install -e '.[course]')")
    spec = importlib.util.spec_from_file_location("explorer_browser", ROOT / "tests" / "test_explorer_browser.py")
    explorer_browser = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(explorer_browser)  # its JupyterLab: a server on a free port, a temporary root
    notebook = nbformat.read(ROOT / "notebooks" / f"{PAGE}.ipynb", as_version=4)
    slides = [cell.metadata["slideshow"]["slide_type"] for cell in notebook.cells].count("slide")
    lab = explorer_browser.JupyterLab(tmp_path)
    nbformat.write(notebook, lab.root / f"{PAGE}.ipynb")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        lab.wait_until_ready()
        page.goto(f"{lab.url}/rise/{PAGE}.ipynb?token={lab.token}")
        page.wait_for_selector(".reveal .slides > section", timeout=120_000)
        present = ("[...document.querySelectorAll('.reveal .slides > section')]"
                   ".findIndex(s => s.classList.contains('present'))")
        page.wait_for_function(f"{present} === 0", timeout=60_000)
        assert page.locator(".reveal .slides > section").count() == slides
        assert "Neural style transfer" in page.locator(".reveal .slides > section.present").inner_text()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"{present} === 1", timeout=30_000)
    except Exception:
        page.screenshot(path=str(tmp_path / "rise.png"))
        print(f"screenshot: {tmp_path / 'rise.png'}\n{lab.log_tail()}")
        raise
    finally:
        page.close()
        lab.shut_down()


# --- the Chinese site and deck (make book LANG=zh, make slides LANG=zh) --------------------------------------

ZH_PAGES = ["00b_one_page", "01_images"]  # a page of maths and one of figures; two notebooks keep CI short


@pytest.fixture(scope="module")
def chinese_site(tmp_path_factory):
    """The quick Chinese site of ZH_PAGES (their notebooks run with D2LSTYLE_LANG=zh), built into a temporary
    folder; the path of its index.html. The other pages are built the same way (make book LANG=zh)."""
    from d2lstyle import i18n

    if i18n.cjk_font() is None:
        pytest.skip("no font with Chinese characters (make test installs Debian's fonts-noto-cjk)")
    pytest.importorskip("jieba", reason="the Chinese search needs jieba (pip install -e '.[course]')")
    return make_book.make_book(quick=True, out=tmp_path_factory.mktemp("site-zh") / "html", names=ZH_PAGES,
                               log=lambda message: None, language="zh")


def drawn_like_a_missing_glyph(page, character):
    """Whether Chromium draws ``character`` as it draws a character no font has (an empty box), on a canvas
    in the page's own font."""
    return page.evaluate("""character => {
        const draw = text => {
            const canvas = document.createElement("canvas"); canvas.width = 64; canvas.height = 64;
            const context = canvas.getContext("2d");
            context.font = "48px " + getComputedStyle(document.body).fontFamily;
            context.fillText(text, 4, 52);
            return Array.from(context.getImageData(0, 0, 64, 64).data).join(",");
        };
        return draw(character) === draw("\\u{10FFFD}");
    }""", character)


def test_the_chinese_site_shows_chinese_figures_maths_and_characters_not_boxes(chinese_site, page):
    html = chinese_site.parent
    assert '<html lang="zh-CN"' in (html / "index.html").read_text(encoding="utf-8")
    page.goto((html / "notebooks" / "01_images.html").as_uri())
    typeset(page)
    assert "往返" in page.inner_text("main")  # the Chinese text of the page
    figures = page.locator("div.cell_output img")
    assert figures.count() >= 3 and page.evaluate("img => img.complete && img.naturalWidth > 100",
                                                  figures.first.element_handle())
    assert "项检查全部通过" in page.inner_text("main")  # a checker answered in Chinese when the notebook ran
    assert not drawn_like_a_missing_glyph(page, "图"), "Chinese characters are drawn as boxes: no CJK font"
    page.goto((html / "notebooks" / "00b_one_page.html").as_uri())
    typeset(page)
    assert page.locator(".MathJax_Display").count() >= 1 and "L_\\text{content}" not in page.inner_text("main")
    assert page.outside == [] and page.errors == []


def test_the_chinese_search_finds_a_chinese_word(chinese_site, page):
    page.goto((chinese_site.parent / "search.html").as_uri() + "?q=" + "矩阵")
    results = page.locator("#search-results li")
    results.first.wait_for(timeout=30_000)
    assert "00b" in " ".join(results.all_inner_texts())
    assert page.outside == []


def test_the_chinese_deck_opens_in_chinese_with_its_slides_and_an_index(chinese_site, tmp_path, page):
    out = tmp_path / "slides"
    (deck,) = make_slides.make_slides([ROOT / "zh" / "notebooks" / "01_images.ipynb"], out, quick=True,
                                      log=lambda message: None, language="zh")
    text = deck.read_text(encoding="utf-8")
    assert "往返" in text and "项检查全部通过" in text
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in index and "幻灯片" in index and "01_images.slides.html" in index
    notebook = nbformat.read(ROOT / "zh" / "notebooks" / "01_images.ipynb", as_version=4)
    types = [cell.metadata["slideshow"]["slide_type"] for cell in notebook.cells]
    page.goto(deck.as_uri())
    page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=60_000)
    assert page.evaluate("Reveal.getTotalSlides()") == types.count("slide") + types.count("subslide")
    assert "图像" in page.inner_text(".reveal section.present")  # the title slide, in Chinese
    assert not drawn_like_a_missing_glyph(page, "图"), "Chinese characters are drawn as boxes: no CJK font"
    assert page.outside == [] and page.errors == []
