# koubo: two commands on a fresh machine.
#   make demo   set up everything, then ingest corpora/ and say where the results are
#   make test   set up everything, then run the whole test suite
# Set-up makes .venv/ with the project and its dev tools; it reruns only when pyproject.toml changes.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.koubo-setup
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet

.PHONY: setup demo test test-fast bench lint corpus-pdfs readme clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[dev,nlp]'
	@touch $(STAMP)

demo: setup
	$(BIN)/koubo ingest corpora -o outputs/documents
	@echo ""
	@echo "Documents are in outputs/documents/<programme>/<fiscal_year>/<id>.json."
	@echo "Look at one:  $(BIN)/koubo show corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.pdf --pages 3"

test: setup
	$(BIN)/ruff check pipeline tests bench
	$(BIN)/mypy pipeline
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow" -x

lint: setup
	$(BIN)/ruff check pipeline tests bench
	$(BIN)/mypy pipeline
	$(BIN)/cog --check README.md

bench: setup
	$(BIN)/python bench/ingest.py

readme: setup
	$(BIN)/cog -r README.md

# Regenerate the corpus PDFs from the .txt files (needs Debian's IPAex, DejaVu and Nanum fonts).
corpus-pdfs: setup
	@test -f /usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf || apt-get install -y fonts-ipaexfont fonts-dejavu-core fonts-nanum
	$(BIN)/python corpora/make_pdfs.py --check

clean:
	rm -rf $(VENV) outputs/documents .pytest_cache
