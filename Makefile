# d2lstyle: every verb sets itself up first (a virtual environment in .venv
# with the package installed editable), so a fresh clone needs nothing else.
#
#   make lab        open the notebook series in JupyterLab (DIR=exercises: the versions with TODOs)
#   make test       run every test (package, doctests, notebooks) offline
#   make demo       stylise the bundled images into outputs/demo.png
#   make exercises  regenerate the student notebooks in exercises/ from notebooks/
#
# WEIGHTS=imagenet|random|PATH chooses VGG-19's weights for lab and demo
# (imagenet downloads 548 MB once); QUICK=1 turns on quick mode.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEIGHTS ?= imagenet
QUICK ?= 0
CONTENT ?= images/content/rainier.jpg
STYLE ?= images/style/starry_night.jpg
OUTPUT ?= outputs/demo.png
DIR ?= notebooks

.PHONY: lab test demo exercises setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[notebooks,test]"
	touch $(STAMP)

setup: $(STAMP)

lab: $(STAMP)
	D2LSTYLE_WEIGHTS=$(WEIGHTS) D2LSTYLE_QUICK=$(QUICK) $(BIN)/jupyter lab $(DIR)

test: $(STAMP)
	D2LSTYLE_WEIGHTS=random D2LSTYLE_QUICK=1 $(BIN)/python -m pytest --nbval-lax --nbval-current-env

demo: $(STAMP)
	$(BIN)/d2lstyle $(CONTENT) $(STYLE) -o $(OUTPUT) --weights $(WEIGHTS) $(if $(filter 1,$(QUICK)),--quick,)

exercises: $(STAMP)
	$(BIN)/python tools/make_exercises.py

clean:
	rm -rf $(VENV) outputs .pytest_cache
