"""Sphinx configuration of the website of the series (``make book``; tools/make_book.py stages the sources).

The pages are the notebooks with the outputs that tools/run_notebooks.py made (myst-nb reads them and runs
nothing), a gallery, the student versions and a reference section (docs/, the benchmarks, the image credits). Everything the pages load is in the site: MathJax 2 comes from the
jupyter-server-mathjax package (copied into _static/mathjax), the theme's files from sphinx-book-theme, and the
search index is Sphinx's own. No page loads anything from the internet.
"""

project = "Neural style transfer, step by step"
author = "the d2lstyle authors"
copyright = "the d2lstyle authors; pictures: see the gallery's and the images' credits"

extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "exercises/**"]  # the student versions are downloads

# myst-nb: show the outputs saved in the notebooks; never run them here.
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # widget views are dropped from the saved outputs, so no widget scripts (from a CDN)
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_dmath_double_inline = True  # $$...$$ inside a paragraph or a list item, as JupyterLab shows it
myst_heading_anchors = 3

# MathJax 2.7, from the site itself; it has the STIX web fonts only (as the classic notebook used it).
# myst-nb marks its pages "do not typeset" and the maths "typeset this" in MathJax 3's terms; the same for
# MathJax 2 here (myst's own update of the configuration would write MathJax 3's).
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
myst_update_mathjax = False
mathjax2_config = {
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]], "processEscapes": True,
                "processClass": "tex2jax_process|mathjax_process|math|output_area",
                "ignoreClass": "tex2jax_ignore|mathjax_ignore"},
    "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web", "imageFont": None},
    "messageStyle": "none",
}

html_theme = "sphinx_book_theme"
html_title = "Neural style transfer, step by step"
html_static_path = ["_static"]
html_last_updated_fmt = None
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "navigation_with_keys": True,
}


def setup(app):
    """For the Chinese site (``-D language=zh_CN``): Sphinx 9's Chinese search ships the English stemmer (its
    words are English and jieba's Chinese words) but asks the page for a ``ChineseStemmer``, which does not
    exist, so the search page stops with an error. The same search under the stemmer's own name works."""
    from sphinx import search
    from sphinx.search.zh import SearchChinese

    if SearchChinese.js_stemmer_rawcode == "english-stemmer.js" and SearchChinese.language_name == "Chinese":
        class ChineseSearchWithEnglishStemmer(SearchChinese):
            language_name = "English"

        search.languages["zh"] = ChineseSearchWithEnglishStemmer
