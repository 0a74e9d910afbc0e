# Cardinal make targets: thin wrappers over CMake + Ninja.
#   make        build (build/)
#   make test   install deps, build, run the suite, then again under ASan+UBSan
#   make demo   install deps, build, run a local network of 4 nodes under load (until Ctrl-C)
#   make demo-mainnet  the tour of the bundled mainnet data (epoch 0 validated, the ChainDB)
#   make bench  build optimised and run the benchmarks
#   make bench-scale  the scale benchmark: a Byron-era-length chain (tens of minutes;
#                     SCALE_BLOCKS=200000 for a short form; docs/testing.md)
#   make fuzz   build the libFuzzer targets and run each for FUZZ_SECONDS
#   make sim-sweep  the simulator over SIM_SEEDS random seeds (10,000; make test runs 1,000)
.PHONY: all build deps test test-plain test-asan demo demo-mainnet bench bench-scale fuzz \
	sim-sweep clean

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
SIM_SEEDS ?= 10000
JOBS ?= $(shell nproc)

all: build

deps:
	@sh scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_C_COMPILER=clang -DCDL_SANITIZE=ON

test-plain: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

test: deps
	$(MAKE) test-plain
	$(MAKE) test-asan

sim-sweep: deps build
	./$(BUILD)/cardinal-sim --random --seed 1 --seeds $(SIM_SEEDS)

demo: deps build
	bash scripts/demo.sh $(BUILD)

demo-mainnet: deps build
	bash scripts/demo-mainnet.sh $(BUILD)

bench: deps
	cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build build-bench -j $(JOBS) --target bench_decode bench_validate bench_generate \
	  bench_storage bench_sync bench_mempool bench_sim cardinal-cli cardinal-node hostile_peer
	./build-bench/bench/bench_decode tests/vectors/blocks/daedalus-turbo/mainnet-epoch0-chunk-00000.zstd
	./build-bench/bench/bench_validate tests/vectors/genesis/mainnet/mainnet-byron-genesis.json \
	  tests/vectors/blocks/daedalus-turbo/mainnet-epoch0-chunk-00000.zstd
	./build-bench/bench/bench_generate
	./build-bench/bench/bench_storage tests/vectors/genesis/mainnet/mainnet-byron-genesis.json \
	  tests/vectors/blocks/daedalus-turbo/mainnet-epoch0-chunk-00000.zstd
	./build-bench/bench/bench_sync tests/vectors/genesis/mainnet/mainnet-byron-genesis.json \
	  tests/vectors/blocks/daedalus-turbo/mainnet-epoch0-chunk-00000.zstd
	./build-bench/bench/bench_mempool
	./build-bench/bench/bench_sim
	bash bench/bench_node.sh build-bench
	bash bench/bench_serve_rss.sh build-bench

# Not part of `make bench` or `make test`: at full size it generates and
# imports about 4.5 million blocks (docs/performance.md). Settings come from
# the environment (SCALE_BLOCKS, SCALE_DIR, SCALE_THREADS, ...).
bench-scale: deps
	cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build build-bench -j $(JOBS) --target bench_scale
	SCALE_DIR="$${SCALE_DIR:-build-bench/scale}" ./build-bench/bench/bench_scale

$(FUZZ_BUILD)/build.ninja:
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang -DCDL_FUZZ=ON

fuzz: deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-bench
