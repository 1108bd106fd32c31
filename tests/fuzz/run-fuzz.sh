#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer,
# UndefinedBehaviorSanitizer) and runs each for a bounded time.
#
#   tests/fuzz/run-fuzz.sh [BUILD_DIR [SECONDS [TARGET...]]]
#
# BUILD_DIR defaults to build-fuzz, SECONDS (per target) to 60, TARGET to
# every target the build has. Each run starts from the seed corpus and
# whatever earlier runs found (kept in BUILD_DIR/fuzz-work/corpus/<target>).
# A crash, leak, timeout or broken invariant leaves its input in
# BUILD_DIR/fuzz-work/artifacts/<target>/<time>/, the run goes on, and the
# script exits 1 after every target ran; copy the input (minimized with
# `fuzz-<target> -minimize_crash=1 -runs=10000 FILE`) to
# tests/fuzz/regressions/<target>/ so that `make test` replays it.
# The table it prints: executions, executions per second, coverage (cov:
# code edges reached, ft: libFuzzer's finer features) and findings.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
seconds=${2:-60}
shift $(( $# < 2 ? $# : 2 ))
meson=${MESON:-meson}

# clang and its libFuzzer runtime (Debian 12 packages).
if ! command -v clang >/dev/null ||
   ! [ -f "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a)" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing: clang libclang-rt-14-dev"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null
  else
    echo "The fuzz targets need clang and libFuzzer. Run:"
    echo "  sudo apt-get install -y clang libclang-rt-14-dev"
    exit 1
  fi
fi

if [ ! -f "$build/build.ninja" ]; then
  CC=clang "$meson" setup "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C "$build" >/dev/null

targets=("$@")
if [ ${#targets[@]} = 0 ]; then
  read -r -a targets < "$build/tests/fuzz/fuzz-targets.txt"
fi
if [ ${#targets[@]} = 0 ]; then
  echo "run-fuzz: $build has no libFuzzer targets (configure it with CC=clang -Dfuzz=true)" >&2
  exit 1
fi

# UBSan findings must stop the run so that libFuzzer keeps the input.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}

work="$build/fuzz-work"
stamp=$(date +%Y%m%d-%H%M%S)
failed=()
printf '%-12s %8s %10s %8s %15s %8s %7s %8s\n' target seconds execs exec/s cov ft corpus findings
for t in "${targets[@]}"; do
  corpus="$work/corpus/$t"
  artifacts="$work/artifacts/$t/$stamp"
  mkdir -p "$corpus" "$artifacts"
  log="$work/$t.log"
  maxlen=16384
  [ "$t" = expr ] && maxlen=8192
  # Fork mode with crashes ignored: one finding does not end the run, so a
  # bug not yet fixed does not hide the next one; every finding is kept in
  # $artifacts. The regression fixtures are replayed by `make test`, not
  # here (one not fixed yet would be found again at once).
  "$build/tests/fuzz/fuzz-$t" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$maxlen" \
    -dict="tests/fuzz/dict/$t.dict" -artifact_prefix="$artifacts/" \
    "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1 || true
  # Executions: the last progress line of the fork run, "#<execs>: cov: ...".
  last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1 || true)
  execs=$(sed -n 's/^#\([0-9]*\):.*/\1/p' <<<"$last")
  rate=$(( ${execs:-0} / (seconds > 0 ? seconds : 1) ))
  # Coverage: the corpus replayed once; cov is the code edges reached (of
  # all instrumented edges: library and target), ft libFuzzer's features.
  "$build/tests/fuzz/fuzz-$t" -runs=0 "$corpus" "tests/fuzz/corpus/$t" >"$log.cov" 2>&1 || true
  total=$(sed -n 's/.*(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log.cov" | head -1)
  done_line=$(grep -E 'INITED|DONE' "$log.cov" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$done_line")
  findings=$(find "$artifacts" -type f | wc -l)
  printf '%-12s %8s %10s %8s %15s %8s %7s %8s\n' "$t" "$seconds" "${execs:-?}" "$rate" \
    "${cov:-?}/${total:-?}" "${ft:-?}" "${corp:-?}" "$findings"
  if [ -z "$last" ] || [ "$findings" != 0 ]; then
    failed+=("$t")
  fi
done
if [ ${#failed[@]} != 0 ]; then
  echo "run-fuzz: findings (or a target that did not run) in: ${failed[*]}" >&2
  echo "run-fuzz: inputs in $work/artifacts/<target>/$stamp, logs in $work/<target>.log" >&2
  exit 1
fi
