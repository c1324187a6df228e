# d2lstyle: every verb sets itself up first (a virtual environment in .venv
# with the package installed editable), so a fresh clone needs nothing else.
#
#   make lab        open the notebook series in JupyterLab
#   make test       run every test (package, doctests, notebooks) offline
#   make demo       stylise the bundled images into outputs/demo.png
#   make bench      speed and convergence benchmarks (~25 min on 2 cores;
#                   writes benchmarks/results.md); not part of make test
#   make bench-quick  per-step speed only (a few minutes; writes nothing)
#
# WEIGHTS=imagenet|random|PATH chooses VGG-19's weights for lab and demo
# (imagenet downloads 548 MB once); QUICK=1 turns on quick mode;
# BENCH_DEVICE=cuda runs the benchmarks on a GPU.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEIGHTS ?= imagenet
QUICK ?= 0
CONTENT ?= images/content/rainier.jpg
STYLE ?= images/style/starry_night.jpg
OUTPUT ?= outputs/demo.png
BENCH_DEVICE ?= cpu

.PHONY: lab test demo setup clean bench bench-quick

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[notebooks,test]"
	touch $(STAMP)

setup: $(STAMP)

lab: $(STAMP)
	D2LSTYLE_WEIGHTS=$(WEIGHTS) D2LSTYLE_QUICK=$(QUICK) $(BIN)/jupyter lab notebooks

test: $(STAMP)
	D2LSTYLE_WEIGHTS=random D2LSTYLE_QUICK=1 $(BIN)/python -m pytest --nbval-lax --nbval-current-env

demo: $(STAMP)
	$(BIN)/d2lstyle $(CONTENT) $(STYLE) -o $(OUTPUT) --weights $(WEIGHTS) $(if $(filter 1,$(QUICK)),--quick,)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py --device $(BENCH_DEVICE)

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/bench.py --quick --device $(BENCH_DEVICE)

clean:
	rm -rf $(VENV) outputs .pytest_cache
