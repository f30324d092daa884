# Set-up and everyday commands. `make demo` and `make test` work on a fresh Debian machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN ?= runs/demo

.PHONY: demo test test-fast lint bench data venv clean browser libs

venv: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[app,dev,notebook,fast,tensorboard]'
	touch $@

# Fashion-MNIST: Debian's package when apt-get works as root, else the download
data: venv
	@if [ -d /usr/share/datasets/fashion-mnist ]; then \
	  echo "Fashion-MNIST: Debian package already installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get install -y -q dataset-fashion-mnist || \
	   (apt-get update -q && apt-get install -y -q dataset-fashion-mnist)) >/dev/null \
	  && echo "Fashion-MNIST: installed Debian's dataset-fashion-mnist"; \
	fi
	$(BIN)/tinyann data --fetch

demo: data
	mkdir -p $(RUN)
	$(BIN)/tinyann baseline --out $(RUN)
	$(BIN)/tinyann train --out $(RUN)
	@echo "Open $(RUN)/report.html in a browser, or run: $(BIN)/tinyann serve $(RUN)"

# Debian's Chromium (and a Korean font) for the end-to-end tests of the web page and report
browser:
	@if [ -x /usr/bin/chromium ]; then \
	  echo "Chromium: already installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-nanum || \
	   (apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q chromium fonts-nanum)) >/dev/null \
	  && echo "Chromium: installed Debian's chromium"; \
	else \
	  echo "Chromium: missing (apt-get install chromium as root); browser tests will skip"; \
	fi

# the tests run again on the reference kernels (tinyann/kernels/reference): ops, layers,
# gradient checks, losses, optimizers, models and the Keras parity fixtures
REFERENCE_TESTS := tests/kernels tests/layers tests/test_gradients.py tests/test_losses.py \
	tests/test_activations.py tests/optimizers tests/models \
	tests/callbacks/test_callback_keras_parity.py tests/saving/test_keras_made_files.py

# libdeflate: tinyann serve's fast PNG path (tinyann/app/png.py; Pillow decodes without it)
libs:
	@if ldconfig -p 2>/dev/null | grep -q libdeflate.so; then \
	  echo "libdeflate: already installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -q libdeflate0 || \
	   (apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q libdeflate0)) >/dev/null \
	  && echo "libdeflate: installed Debian's libdeflate0"; \
	else \
	  echo "libdeflate: missing (apt-get install libdeflate0 as root); serve decodes PNGs with Pillow"; \
	fi

# the tests run in JOBS processes (pytest-xdist; a test at a time goes to whichever is free)
JOBS ?= 2

test: data browser libs
	$(BIN)/ruff check tinyann tests benchmarks tools
	$(BIN)/python -m pytest -q -n $(JOBS) --dist worksteal
	TINYANN_KERNELS=reference $(BIN)/python -m pytest -q -n $(JOBS) --dist worksteal \
	  $(REFERENCE_TESTS)

test-fast: venv
	$(BIN)/python -m pytest -q -m "not slow"

lint: venv
	$(BIN)/ruff check tinyann tests benchmarks tools

bench: data
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
