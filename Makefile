# Thin wrapper over CMake. `make` builds build/tarn; `make test` builds with ASan+UBSan in
# build-test/ and runs every test; `make demo` runs the main job; `make bench` the benchmarks
# (`make bench-sql` the SQL ones, `make bench-delta` Delta log replay and MERGE).
JOBS ?= 2
SHARED ?= $(abspath ../shared)

.PHONY: all deps test-deps test demo bench bench-sql bench-delta fuzz clean format

all: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build -j $(JOBS)

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh test

# The release build (gcc, as `make` and `make demo` build) is compiled first: its optimiser warns
# where the sanitized clang build does not, and a warning there breaks the main command.
test: test-deps all
	CC=clang cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTARN_SANITIZE=ON -DTARN_FUZZ=ON >/dev/null
	cmake --build build-test -j $(JOBS)
	TARN_SHARED=$(SHARED) ctest --test-dir build-test --output-on-failure -j $(JOBS)

demo: all
	@scripts/demo.sh

bench: all
	@bench/run.sh

bench-sql: all
	@bench/sql_bench.sh

bench-delta: all
	@bench/delta_log_bench.sh
	@bench/delta_merge_bench.sh

# make fuzz [FUZZ_TARGET=parquet|csv|jsonl|sql] [FUZZ_SECONDS=60]
FUZZ_TARGET ?= parquet
fuzz: test-deps
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTARN_SANITIZE=ON -DTARN_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j $(JOBS) --target fuzz_$(FUZZ_TARGET)
	mkdir -p build-fuzz/corpus-$(FUZZ_TARGET)
	build-fuzz/tests/fuzz_$(FUZZ_TARGET) -max_total_time=$${FUZZ_SECONDS:-60} build-fuzz/corpus-$(FUZZ_TARGET) tests/fuzz/corpus/$(FUZZ_TARGET)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-test build-fuzz
