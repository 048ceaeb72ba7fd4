# Thin wrapper over Meson + Ninja (see docs/build.md); every target is phony.
JOBS ?= 2
SAN := -Db_sanitize=address,undefined -Db_lundef=false
export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1
setup = test -f $(1)/build.ninja || $(2) meson setup $(1) $(3)

.PHONY: all check test asan fuzz bench clean format deps
all:
	$(call setup,build)
	ninja -C build -j$(JOBS)
check test: all
	meson test -C build --num-processes $(JOBS) --print-errorlogs
asan:
	$(call setup,build-asan,,$(SAN))
	ninja -C build-asan -j$(JOBS)
	meson test -C build-asan --num-processes $(JOBS) --print-errorlogs
fuzz:
	$(call setup,build-fuzz,CC=clang,-Dfuzzers=true $(SAN))
	ninja -C build-fuzz -j$(JOBS)
	meson test -C build-fuzz --suite fuzz-smoke --num-processes $(JOBS) --print-errorlogs
bench: all
	meson test -C build --benchmark --print-errorlogs --verbose
clean:
	rm -rf build build-asan build-fuzz build-check
format:
	scripts/check-format.sh
deps:
	scripts/install-deps.sh
