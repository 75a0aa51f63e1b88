# brotr — build, test, benchmark and run.
#
#   make            build ./brotr
#   make check      unit tests, then integration tests against real servers
#   make bench      speed and memory figures, each next to its limit
#   make run        the main job on a private PostgreSQL cluster under var/
#   make install    PREFIX=/usr/local DESTDIR=
#   make SANITIZE=address,undefined check
#
#   make check-fresh  make check, make run and make stop on a bare Debian 12 root (debootstrap)
#
# Before anything is built, contrib/debian-deps installs the Debian packages the goals need
# when run as root, and otherwise prints the apt-get line and stops make.

PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
SANITIZE ?=
VERSION  := 0.1.0
.DEFAULT_GOAL := all

comma := ,
ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif
ifeq ($(SANITIZE),)
BUILD    := build
else
BUILD    := build/san-$(subst $(comma),-,$(SANITIZE))
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

# The dependency step. Each goal names the packages it needs (contrib/debian-deps: build, run,
# check, bench, fuzz, install, fresh); debian-deps installs or names them, then writes the flags
# of the installed libraries (PG_INC, PKG_CFLAGS, PKG_LIBS, CHECK_CFLAGS, CHECK_LIBS, LIBVERSIONS)
# into build/config.mk. make includes that file and remakes it first on every run, restarting
# when it changed, so no flag is read before the packages it comes from are installed.
deps_of = $(firstword $(if $(filter check $(BUILD)/tests/%,$1),check) \
	$(if $(filter run bench fuzz install,$1),$1) $(if $(filter fuzz-check build/fuzz/%,$1),fuzz) \
	$(if $(filter check-fresh,$1),fresh) $(if $(filter clean stop uninstall,$1),none) build)
DEPS := $(filter-out none,$(sort $(foreach g,$(or $(MAKECMDGOALS),all),$(call deps_of,$(g)))))
ifneq ($(filter-out fresh,$(DEPS)),)
include build/config.mk
endif
build/config.mk: FORCE
	@sh contrib/debian-deps -o $@ $(DEPS)

# Hardened as Debian builds its packages (dpkg-buildflags, hardening=+all), plus the stack-clash
# and control-flow protection of later Debian releases. PIE is gcc's default here; said anyway.
HARDEN_CPPFLAGS := -D_FORTIFY_SOURCE=2 -Wdate-time
HARDEN_CFLAGS   := -fstack-protector-strong -fstack-clash-protection -fPIE -Wformat -Werror=format-security \
                   $(if $(filter x86_64 i%86,$(shell uname -m)),-fcf-protection)
HARDEN_LDFLAGS  := -pie -Wl,-z,relro,-z,now

CPPFLAGS += -Isrc -Ipgc -I$(PG_INC) -DBROTR_VERSION='"$(VERSION)"' \
            -D_GNU_SOURCE $(HARDEN_CPPFLAGS)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -Wall -Wextra -Werror -pthread -MMD -MP $(HARDEN_CFLAGS) $(SANFLAGS) $(PKG_CFLAGS)
LDFLAGS  += -pthread $(HARDEN_LDFLAGS) $(SANFLAGS)
LDLIBS   += $(PKG_LIBS) -lecpg -lpq -lm

# Every object depends on the flags it was compiled with: $(BUILD)/flags/<set> changes when they do.
FLAGS_cc       = $(CC) $(CPPFLAGS) $(CFLAGS)
FLAGS_ld       = $(LDFLAGS) $(LDLIBS)
FLAGS_check    = $(CHECK_CFLAGS) $(CHECK_LIBS)
FLAGS_versions = $(LIBVERSIONS)
$(BUILD)/flags/%: FORCE
	@$(shell mkdir -p $(@D))$(file >$@.new,$(FLAGS_$*))cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@
FL       := $(BUILD)/flags

SRC      := $(sort $(wildcard src/*/*.c pgc/*.c))
PGC      := $(sort $(wildcard pgc/*.pgc))
OBJ      := $(SRC:%.c=$(BUILD)/%.o) $(PGC:%.pgc=$(BUILD)/%.o)
LIB      := $(BUILD)/libbrotr.a
BIN      := $(BUILD)/brotr
UNIT     := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(sort $(wildcard tests/unit/test_*.c)))
INTEG    := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(sort $(wildcard tests/integration/test_*.c)))
TOOLS    := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(sort $(wildcard tests/tools/*.c)))

.PHONY: all deps check check-fresh bench run stop readme install uninstall clean FORCE
.SUFFIXES:
.SECONDARY:

all: brotr

# The dependency step ran when make remade build/config.mk.
deps:

brotr: $(BUILD)/brotr
ifeq ($(SANITIZE),)
	@ln -sf $(BUILD)/brotr brotr
endif

$(BUILD)/brotr: $(BUILD)/src/main.o $(LIB) $(FL)/ld
	$(call say,LINK,$@)$(CC) $(LDFLAGS) -o $@ $(BUILD)/src/main.o $(LIB) $(LDLIBS)

$(LIB): $(OBJ)
	@rm -f $@
	$(call say,AR,$@)$(AR) rcs $@ $^

$(BUILD)/src/main.o: private CPPFLAGS += -DBROTR_LIBVERSIONS='"$(LIBVERSIONS)"'
$(BUILD)/src/main.o: $(FL)/versions

$(BUILD)/%.o: %.c $(FL)/cc
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# ECPG output is generated, never committed; it is compiled with the same flags.
$(BUILD)/pgc/%.c: pgc/%.pgc
	@mkdir -p $(@D)
	$(call say,ECPG,$<)ecpg -I pgc -o $@ $<

$(BUILD)/pgc/%.o: $(BUILD)/pgc/%.c $(FL)/cc
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/integration/%: tests/integration/%.c $(LIB) $(FL)/cc $(FL)/ld $(FL)/check
	@mkdir -p $(@D)
	$(call say,TEST,$<)$(CC) $(CPPFLAGS) $(CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(FL)/cc $(FL)/ld $(FL)/check
	@mkdir -p $(@D)
	$(call say,TEST,$<)$(CC) $(CPPFLAGS) $(CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(LIB) $(FL)/cc $(FL)/ld
	@mkdir -p $(@D)
	$(call say,TOOL,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

check: $(BUILD)/brotr $(UNIT) $(INTEG) $(TOOLS)
	@BUILD=$(BUILD) bash tests/run $(UNIT)

bench: $(BUILD)/brotr $(TOOLS)
	@BUILD=$(BUILD) bash tests/bench

run: brotr
	@bash contrib/run-local

# The README's two commands on a bare Debian 12 root, as root (.ci/run runs it in CI).
check-fresh:
	@sh contrib/debian-deps fresh
	@bash contrib/check-fresh

stop:
	@bash contrib/stop-local

# The README's configuration reference is generated from the key table (a test checks it).
readme: brotr
	@./brotr config reference >build/reference.md
	@awk 'BEGIN{skip=0} /<!-- config-reference:begin -->/{print; system("cat build/reference.md"); skip=1; next} \
	     /<!-- config-reference:end -->/{skip=0} !skip' README.md >build/README.md && mv build/README.md README.md

install: brotr
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/brotr
	install -m 755 $(BUILD)/brotr $(DESTDIR)$(PREFIX)/bin/brotr
	cp -R sql implementations tor contrib $(DESTDIR)$(PREFIX)/share/brotr/
	rm -f $(DESTDIR)$(PREFIX)/share/brotr/implementations/*/.env

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/brotr
	rm -rf $(DESTDIR)$(PREFIX)/share/brotr

clean:
	rm -rf build brotr

-include $(OBJ:.o=.d) $(BUILD)/src/main.d $(UNIT:=.d) $(INTEG:=.d) $(TOOLS:=.d)

# ---- fuzzing (src/nostr): libFuzzer harnesses tests/fuzz/fuzz_*.c, built with clang ----------------------
# The parsers are compiled from source with the harness (coverage needs clang's instrumentation), with
# ASan and UBSan. Seeds: tests/fuzz/seeds/<harness>; inputs that once failed: tests/fuzz/regress/<harness>.
#   make fuzz          FUZZ_SECONDS per harness (default 60), growing build/fuzz/corpus/<harness>;
#                      a failing input is written to build/fuzz/<harness>-crash-*: make it a regression
#   make fuzz-check    a bounded, deterministic run: the regressions, then FUZZ_RUNS inputs per harness
#                      (default 20000, -seed=1); make check runs it first
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= 20000
FUZZ_DIR     := build/fuzz
FUZZ_SRC     := $(sort $(wildcard src/nostr/*.c)) src/core/util.c
FUZZ_BIN     := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_CFLAGS  := -g -O1 -std=c11 -Wall -Wextra -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all

.PHONY: fuzz fuzz-check

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRC) | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRC) -lsecp256k1 -lcrypto

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$${f##*/}; mkdir -p $(FUZZ_DIR)/corpus/$$n; \
		echo "== $$n: $(FUZZ_SECONDS) s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(FUZZ_DIR)/$$n- -dict=$$(case $$n in fuzz_url) echo tests/fuzz/url.dict;; \
			*) echo tests/fuzz/json.dict;; esac) -print_final_stats=1 \
			$(FUZZ_DIR)/corpus/$$n tests/fuzz/seeds/$$n tests/fuzz/regress/$$n || exit 1; done

fuzz-check: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$${f##*/}; rm -rf $(FUZZ_DIR)/check/$$n; mkdir -p $(FUZZ_DIR)/check/$$n; \
		$$f -runs=0 tests/fuzz/regress/$$n >$(FUZZ_DIR)/check/$$n.log 2>&1 && \
		$$f -runs=$(FUZZ_RUNS) -seed=1 -artifact_prefix=$(FUZZ_DIR)/$$n- -dict=$$(case $$n in fuzz_url) echo tests/fuzz/url.dict;; \
			*) echo tests/fuzz/json.dict;; esac) \
			$(FUZZ_DIR)/check/$$n tests/fuzz/seeds/$$n >>$(FUZZ_DIR)/check/$$n.log 2>&1 \
		|| { tail -n 40 $(FUZZ_DIR)/check/$$n.log; echo "fuzz-check: $$n failed"; exit 1; }; \
		echo "fuzz-check: $$n ok ($(FUZZ_RUNS) runs)"; done

check: fuzz-check
