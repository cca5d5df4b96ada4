# vfiod: one GNU Makefile. `make` builds vfiod/vfiod and vfioctl/vfioctl;
# `make check` runs unit tests (ASan/UBSan), fixture tests and every testbed
# scenario; `make deps` installs missing Debian packages; `make demo` runs
# the main job on the testbed VM.

PKGS := libvirt libpci libudev libcgroup json-c inih libxml-2.0
CC ?= gcc
VERSION := 0.1.0

WARN := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wformat=2 -Wstrict-prototypes \
	-Wno-unused-parameter -Wno-format-truncation
# Messages are bounded buffers that truncate on purpose; paths never do
# (vf_path() fails with ENAMETOOLONG instead).
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -DVFIOD_VERSION='"$(VERSION)"' $(WARN) \
	-Ivfiod $(shell pkg-config --cflags $(PKGS)) $(CFLAGS) -MMD -MP
LIBS = $(shell pkg-config --libs $(PKGS)) -pthread
CMOCKA = $(shell pkg-config --libs cmocka)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRC := $(filter-out vfiod/main.c,$(wildcard vfiod/*.c))
LIB_OBJ := $(LIB_SRC:%.c=build/obj/%.o)
SAN_OBJ := $(LIB_SRC:%.c=build/asan/%.o)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=build/tools/%)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)

.PHONY: all deps check check-unit check-fixtures check-policy check-system check-testbed \
	check-kernels check-testbed-sid check-fuzz fuzz \
	demo clean format install

all: vfiod/vfiod vfioctl/vfioctl

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -c $< -o $@

vfiod/vfiod: build/obj/vfiod/main.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

vfioctl/vfioctl: build/obj/vfioctl/vfioctl.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

build/vfiod-asan: build/asan/vfiod/main.o $(SAN_OBJ)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LIBS)

build/tests/%: build/asan/tests/unit/%.o $(SAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LIBS) $(CMOCKA)

# test tools: clients that hammer the control socket
build/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -pthread -o $@ $< $(shell pkg-config --libs json-c)

# benchmark of the interrupt sampler (docs/testing.md); not part of check.
# Linked against the optimised objects vfiod/vfiod is made of.
.PHONY: bench
bench: build/obj/tests/bench/bench_irqmon
	build/obj/tests/bench/bench_irqmon

build/obj/tests/bench/bench_irqmon: build/obj/tests/bench/bench_irqmon.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

# control plane load benchmark (docs/testing.md): vfiod on the testbed
# capture and on generated 544- and 2,000-device hosts, show and list from
# 1, 20 and 200 clients; root. BENCH_SECONDS per cell (default 5). Not part
# of check.
.PHONY: bench-control
bench-control: vfiod/vfiod build/tools/vfiod-stress
	tests/bench/control.sh

deps:
	scripts/deps

# fuzzers (docs/testing.md): one libFuzzer target per parser of outside
# bytes, tests/fuzz/fuzz_NAME.c, linked with the project objects built by
# clang with the same sanitizers under build/fuzz/. `make fuzz` runs each for
# FUZZ_TIME seconds in turn; check-fuzz is the short run of `make check`.
FUZZ_CC := clang
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
FUZZ_CFLAGS := -O1 -g -Wno-unknown-warning-option
FUZZ_TIME ?= 600
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)
# kept between builds: make would delete them as intermediates
.SECONDARY: $(FUZZ_OBJ) $(FUZZ_SRC:%.c=build/fuzz/obj/%.o)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_CFLAGS) $(FUZZ_SAN) -c $< -o $@

build/fuzz/fuzz_%: build/fuzz/obj/tests/fuzz/fuzz_%.o $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

fuzz: $(FUZZ_BIN)
	tests/fuzz/run $(FUZZ_TIME) $(FUZZ_BIN)

# its own output directory: it never mixes with the logs of a long run
check-fuzz: $(FUZZ_BIN)
	FUZZ_OUT=build/fuzz/check tests/fuzz/run 10 $(FUZZ_BIN)


# The testbed tiers run one after the other even under -j: two guests at
# once on a small machine starve each other's timing-sensitive scenarios.
check: check-unit check-fixtures check-policy check-system check-fuzz
	$(MAKE) check-testbed
	$(MAKE) check-testbed-sid

check-unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

check-fixtures: build/vfiod-asan
	tests/fixtures/run build/vfiod-asan

check-policy: build/vfiod-asan all
	tests/policy/run build/vfiod-asan
	tests/docs/run vfiod/vfiod vfioctl/vfioctl

check-system: all $(TOOL_BIN)
	tests/system/run
	tests/system/socket-tests
	tests/system/unit-authz

check-testbed: all $(TOOL_BIN)
	tests/testbed/run-all

# The kernel matrix: every scenario on the current kernel of each suite
# (docs/testing.md). Not part of check.
TESTBED_SUITES ?= bookworm trixie sid
check-kernels: all $(TOOL_BIN)
	TESTBED_SUITES="$(TESTBED_SUITES)" tests/testbed/run-all

# Scenarios on sid's kernel (6.19 and later: IRQ threads refuse cgroups;
# the newest mount-table and netlink behaviour the view relies on), in check.
TESTBED_SID_SCENARIOS ?= scenario-bind scenario-container scenario-storm scenario-vm-storm \
	scenario-outcome scenario-outcome-hardirq scenario-fresh
check-testbed-sid: all $(TOOL_BIN)
	TESTBED_SUITE=sid tests/testbed/run-all $(TESTBED_SID_SCENARIOS)

demo: all $(TOOL_BIN)
	scripts/testbed run tests/testbed/demo.sh

format:
	clang-format -i vfiod/*.[ch] vfioctl/*.c tests/unit/*.c

install: all
	install -D -m 0755 vfiod/vfiod $(DESTDIR)/usr/sbin/vfiod
	install -D -m 0755 vfioctl/vfioctl $(DESTDIR)/usr/bin/vfioctl
	install -D -m 0644 scripts/vfiod.service $(DESTDIR)/lib/systemd/system/vfiod.service
	@# an operator's policy is never overwritten
	[ -e $(DESTDIR)/etc/vfiod/vfiod.conf ] || \
		install -D -m 0644 policies/vfiod.conf $(DESTDIR)/etc/vfiod/vfiod.conf
	install -d $(DESTDIR)/usr/share/vfiod/policies
	install -m 0644 policies/*.conf $(DESTDIR)/usr/share/vfiod/policies/
	install -D -m 0644 docs/man/vfiod.8 $(DESTDIR)/usr/share/man/man8/vfiod.8
	install -D -m 0644 docs/man/vfioctl.8 $(DESTDIR)/usr/share/man/man8/vfioctl.8
	install -D -m 0644 docs/man/vfiod.conf.5 $(DESTDIR)/usr/share/man/man5/vfiod.conf.5

clean:
	rm -rf build/obj build/asan build/tests build/fuzz build/vfiod-asan vfiod/vfiod vfioctl/vfioctl

-include $(shell find build/obj build/asan build/fuzz/obj -name '*.d' 2>/dev/null)
