# SPDX-License-Identifier: GPL-2.0-or-later
# tcpliveplay: replay one TCP conversation from a capture against a live host.

VERSION := 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
PKG_CONFIG ?= pkg-config

CC ?= cc
CFLAGS ?= -O2 -g
# What the code needs stays even when CFLAGS is given on the command line.
override CFLAGS += -std=c11 -D_GNU_SOURCE -pthread -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter
override CFLAGS += -Iinclude -DLP_VERSION='"$(VERSION)"'
override CFLAGS += -MMD -MP
ifneq ($(WERROR),)
override CFLAGS += -Werror
endif

LIBS_PKG := libpcap libmnl libnftnl libcap-ng zlib liblzma libzstd
# Missing .pc files are reported by ci/install-deps; keep parsing quiet here.
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_PKG) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(LIBS_PKG) 2>/dev/null || echo -lpcap -lmnl -lnftnl -lcap-ng -lz -llzma -lzstd)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

ifeq ($(V),1)
Q :=
else
Q := @
endif

BUILD ?= build
# tcpliveplay's command line: src/tcpliveplay.c and its modes (tcpliveplay_*.c).
CLI_SRC := $(wildcard src/tcpliveplay*.c)
LIB_SRC := $(filter-out $(CLI_SRC),$(wildcard src/*.c))
RESP_SRC := $(wildcard responder/*.c)
TEST_SRC := $(wildcard tests/check_*.c) tests/pcapgen.c tests/engine_harness.c
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
RESP_OBJ := $(RESP_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libtcpliveplay.a

PROGS := $(BUILD)/tcpliveplay
ifneq ($(RESP_SRC),)
PROGS += $(BUILD)/tcpliveplay-responder
endif

.PHONY: all check demo bench unit cli-test e2e asan fuzz fuzz-run install clean help deps

all: $(PROGS)

help:
	@echo 'Targets:'
	@echo '  all        build build/tcpliveplay and build/tcpliveplay-responder (default)'
	@echo '  demo       record a conversation in a throw-away lab, replay it against the responder'
	@echo '  check      install missing packages, build, run unit and CLI tests'
	@echo '  unit       run the Check unit tests only'
	@echo '  cli-test   run the CLI tests only (tests/cli.sh)'
	@echo '  e2e        run the end-to-end suite in throw-away network namespaces'
	@echo '  bench      benchmarks in a throw-away lab against kernel TCP (bench/README.md)'
	@echo '  asan       build into build/asan/ with ASan+UBSan and run the tests'
	@echo '  valgrind   run the unit tests under valgrind memcheck'
	@echo '  fuzz       build the libFuzzer targets into build/fuzz/'
	@echo '  fuzz-run   run each fuzz target for FUZZ_SECONDS (default 30)'
	@echo '  install    install programs and man pages (PREFIX, DESTDIR)'
	@echo '  clean      remove build/'
	@echo 'Variables: V=1 (show commands), WERROR=1, CC, CFLAGS, PREFIX, DESTDIR'

deps:
	$(Q)ci/install-deps

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  CC      $@')
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) $(if $(filter tests/%,$<),$(CHECK_CFLAGS) -Isrc) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@$(if $(Q),echo '  AR      $@')
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/tcpliveplay: $(CLI_OBJ) $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tcpliveplay-responder: $(RESP_OBJ) $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/check_runner: $(TEST_OBJ) $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

$(BUILD)/lp-record: $(BUILD)/tests/lp-record.o
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The many-flow capture writer of the tests (tests/gen-flows.c on tests/pcapgen.c).
$(BUILD)/gen-flows: $(BUILD)/tests/gen-flows.o $(BUILD)/tests/pcapgen.o
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The kernel-TCP echo client of make bench (bench/README.md).
$(BUILD)/bench-echo: $(BUILD)/bench/echo_client.o
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

unit: $(BUILD)/check_runner $(PROGS)
	$(Q)LP_BUILD=$(BUILD) $(BUILD)/check_runner

cli-test: $(PROGS) $(BUILD)/gen-flows
	$(Q)LP_BUILD=$(BUILD) tests/cli.sh

# The end-to-end suite runs in namespaces of its own (netns/run); where they
# cannot be made it says why and counts as skipped, never as passed.
e2e: $(PROGS) $(BUILD)/lp-record $(BUILD)/gen-flows
	$(Q)LP_BUILD=$(BUILD) netns/run tests/e2e/run.sh; rc=$$?; \
	if [ $$rc -eq 77 ]; then echo "e2e: skipped: no network namespaces here (see above)"; \
		echo "0 passed, 0 failed, 1 skipped"; exit 0; fi; exit $$rc

demo: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/lp-record
	$(Q)LP_BUILD=$(BUILD) netns/run netns/demo

# Benchmarks in a throw-away lab (bench/README.md): a Markdown table on
# stdout, the same as JSON in $(BUILD)/bench.json.
bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/lp-record $(BUILD)/bench-echo
	$(Q)LP_BUILD=$(BUILD) netns/run bench/run

check: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/check_runner
	$(Q)$(MAKE) --no-print-directory unit cli-test e2e

# Memcheck over the unit suite, in one process (the live netlink tests need
# Check's fork mode and say they are skipped).
valgrind: $(BUILD)/check_runner
	$(Q)CK_FORK=no valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
		$(BUILD)/check_runner

ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan CFLAGS='$(ASAN_FLAGS)' LDFLAGS='$(ASAN_FLAGS)' unit cli-test e2e

FUZZ_CC ?= clang
FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_BINS := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
fuzz:
	$(Q)$(MAKE) --no-print-directory BUILD=build/fuzz CC=$(FUZZ_CC) \
		CFLAGS='-O1 -g -fsanitize=fuzzer-no-link,address,undefined' $(FUZZ_BINS)

# The capture target compresses its inputs with the tests' writer.
build/fuzz/fuzz_capture: tests/pcapgen.c
build/fuzz/fuzz_%: fuzz/fuzz_%.c build/fuzz/libtcpliveplay.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  FUZZ    $@')
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -std=c11 -D_GNU_SOURCE -Iinclude -Isrc $(PKG_CFLAGS) -o $@ $^ $(PKG_LIBS)

FUZZ_SECONDS ?= 30
fuzz-run: fuzz build/gen-flows
	$(Q)ci/fuzz-smoke $(FUZZ_SECONDS)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(wildcard doc/*.1) $(DESTDIR)$(MANDIR)/man1/

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
