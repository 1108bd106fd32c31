# Quick start: `make demo` and `make test` on a fresh Debian 12 machine.
# Both install missing Debian packages first (as root; otherwise they print
# the exact apt-get command to run).

BUILD ?= build
ASAN_BUILD ?= build-asan
MESON ?= meson
DATA := examples/data

# Build and test dependencies, as Debian packages.
DEB_PACKAGES := meson ninja-build pkg-config gcc g++ binutils gzip libgsl-dev libyaml-dev \
                libxxhash-dev libcmocka-dev libxlsxwriter-dev libzip-dev libexpat1-dev gettext \
                python3 python3-pytest python3-numpy \
                python3-pandas python3-openpyxl python3-venv python3-pip python3-setuptools \
                python3-wheel mypy python3-dask python3-distributed

.PHONY: all deps build test asan clang demo install clean bench fuzz

all: build

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing: $$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "Missing Debian packages. Run:"; \
	    echo "  sudo apt-get install -y $$missing"; \
	    exit 1; \
	  fi; \
	fi

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

test: build
	$(MESON) test -C $(BUILD) --print-errorlogs

# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer
# (LeakSanitizer included).
asan: deps
	[ -f $(ASAN_BUILD)/build.ninja ] || $(MESON) setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C $(ASAN_BUILD)
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
	  $(MESON) test -C $(ASAN_BUILD) --print-errorlogs

# Each fuzz target (tests/fuzz) for FUZZ_SECONDS seconds, built with clang,
# libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer in
# $(FUZZ_BUILD); installs clang when missing (as root). Prints executions,
# coverage and findings per target; exits 1 when anything was found.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz: deps
	MESON=$(MESON) tests/fuzz/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

demo: build
	@echo "== 岳阳市 2019: county totals (tally rollup --level city,county --period 2019)"
	$(BUILD)/examples/tally rollup -H $(DATA)/yueyang-hierarchy.csv -d $(DATA)/yueyang.yaml \
	  -r $(DATA)/yueyang-2019.csv --level city,county --period 2019
	@echo
	@echo "== A records file with mistakes, read with --on-error collect"
	-$(BUILD)/examples/tally rollup -H $(DATA)/yueyang-hierarchy.csv -d $(DATA)/yueyang.yaml \
	  -r $(DATA)/bad-records.csv --on-error collect --level city --period 2019-12
	@echo
	@echo "== Exit thresholds: 2019 poverty incidence of the counties (tally poverty -r ... --level county)"
	$(BUILD)/examples/tally poverty -H $(DATA)/yueyang-hierarchy.csv -d $(DATA)/yueyang.yaml \
	  -r $(DATA)/yueyang-2019.csv --year 2019 --level county
	@echo
	@echo "== Household survey, 2019, two towns of 平江县: FGT, Watts, Gini, median (tally poverty --households)"
	$(BUILD)/examples/tally poverty -H $(DATA)/yueyang-hierarchy.csv -d $(DATA)/yueyang.yaml \
	  --households $(DATA)/yueyang-households-2019.csv --level city,county,town -o $(BUILD)/demo-households.csv
	@awk -F, 'NR == 1 || $$5 > 0' $(BUILD)/demo-households.csv
	@echo
	@echo "== Annual targets as of 2019-08: county progress (tally progress --as-of 2019-08 --level county)"
	$(BUILD)/examples/tally progress -H $(DATA)/yueyang-hierarchy.csv -d $(DATA)/yueyang.yaml \
	  -r $(DATA)/yueyang-2019.csv -t $(DATA)/yueyang-targets-2019.csv --as-of 2019-08 --level county \
	  --indicator exited_population --svg $(BUILD)/yueyang-progress-2019-08.svg
	@echo "(chart: $(BUILD)/yueyang-progress-2019-08.svg)"
	@echo
	@echo "== Consistency checks: the villages' reports and the figures the counties published (tally check; exit status 1: errors found)"
	-$(BUILD)/examples/tally check -H $(DATA)/yueyang-hierarchy.csv -d $(DATA)/yueyang-checks.yaml \
	  -r $(DATA)/yueyang-2019.csv -r $(DATA)/yueyang-published-2019.csv -t $(DATA)/yueyang-targets-2019.csv

# The whole suite again, built with clang and every warning an error
# (-Dwerror=true), in $(CLANG_BUILD); installs clang when missing (as root).
# (After demo, whose output quotes its own line numbers.)
CLANG_BUILD ?= build-clang
clang:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(DEB_PACKAGES) clang"
	[ -f $(CLANG_BUILD)/build.ninja ] || CC=clang $(MESON) setup $(CLANG_BUILD) -Dwerror=true
	ninja -C $(CLANG_BUILD)
	$(MESON) test -C $(CLANG_BUILD) --print-errorlogs

# Benchmark against DuckDB, pandas and PostgreSQL (not part of `make test`):
# installs what it needs, writes bench/RESULTS.md. BENCH_SIZES=1M,10M,50M
# and BENCH_REPEAT=5 for more; see bench/run.py.
bench: deps
	python3 bench/run.py

install: build
	$(MESON) install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(CLANG_BUILD) $(FUZZ_BUILD)
