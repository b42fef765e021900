# inkan — the two commands of the README, and a few more.
#   make run    install what is missing, build, start pcscd + the virtual card if needed, run inkand
#   make test   the same set-up, then every test (ctest)
#   make deb    the Debian package of the build (build/deb/inkan_*.deb), lintian-checked
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)

.PHONY: all deps npm-deps configure build run test unit clean bench fuzz deb

all: build

deps:
	@./scripts/install-deps.sh

# The browser SDK's compiler, the contract's linters (Spectral, Redocly; one of their
# dependencies phones home from a postinstall unless SCARF_ANALYTICS=false) and the
# browser-test driver (playwright-core, which
# drives Debian's /usr/bin/chromium; it never downloads a browser).
node_modules/.package-lock.json: package.json package-lock.json
	SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error

npm-deps: deps node_modules/.package-lock.json

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: deps $(BUILD_DIR)/build.ninja

build: configure npm-deps
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@./scripts/run.sh $(BUILD_DIR)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600

deb: build
	@./scripts/make-deb.sh $(BUILD_DIR)

unit: build
	$(BUILD_DIR)/bin/unit_tests

bench: build
	@./tests/bench/run.sh $(BUILD_DIR)

fuzz:
	@./scripts/fuzz.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
