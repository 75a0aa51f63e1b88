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
deps_of = $(firstword $(if $(filter check valgrind $(BUILD)/tests/%,$1),check) \
	$(if $(filter run bench fuzz install,$1),$1) $(if $(filter fuzz-check fuzz-check-% fuzz-run-% build/fuzz/%,$1),fuzz) \
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

# contrib/install: the layout (README "Install"), the manifest uninstall reads, edited configuration kept.
UNITDIR     ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
SYSUSERSDIR ?= $(or $(shell pkg-config --variable=sysusersdir systemd 2>/dev/null),/usr/lib/sysusers.d)
install: $(BUILD)/brotr
	@BIN=$(BUILD)/brotr PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) UNITDIR=$(UNITDIR) SYSUSERSDIR=$(SYSUSERSDIR) \
		sh contrib/install install

uninstall:
	@PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) UNITDIR=$(UNITDIR) SYSUSERSDIR=$(SYSUSERSDIR) sh contrib/install uninstall

clean:
	rm -rf build brotr

-include $(OBJ:.o=.d) $(BUILD)/src/main.d $(UNIT:=.d) $(INTEG:=.d) $(TOOLS:=.d)

# ---- fuzzing: libFuzzer harnesses tests/fuzz/fuzz_*.c, built with clang ----------------------------------
# Every parser of untrusted bytes: relay messages, events, filters, URLs, NIP-11 (src/nostr), SOCKS5
# replies, HTTP CONNECT requests and NIP-11 response headers (the libwebsockets-free parsers of src/net),
# configuration values (src/core/config.c). They are compiled from source into one archive with clang's
# coverage instrumentation, ASan and UBSan. Seeds: tests/fuzz/seeds/<harness>; inputs at the size caps
# (1 MiB of nesting, tag bombs, numbers PostgreSQL cannot hold): made by tests/fuzz/make-caps into
# build/fuzz/caps/<harness>; inputs that once failed: tests/fuzz/regress/<harness>. Each harness's -max_len is one byte past the cap of what it
# reads, not libFuzzer's default 4096.
#   make fuzz          FUZZ_SECONDS per harness (default 60), growing build/fuzz/corpus/<harness>;
#                      a failing input is written to build/fuzz/<harness>-crash-*: make it a regression
#   make fuzz-check    a bounded, deterministic run: the regressions, seeds and cap inputs once each, then
#                      FUZZ_RUNS mutations of the seeds per harness (default 20000, -seed=1; the cap inputs
#                      are left out of the mutation corpus, which they would slow to a few runs a second);
#                      make check runs it first
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= 20000
FUZZ_DIR     := build/fuzz
FUZZ_SRC     := $(sort $(wildcard src/nostr/*.c)) src/core/util.c src/core/config.c src/net/socks5.c \
                src/net/http_connect.c src/net/http_reply.c
FUZZ_OBJ     := $(FUZZ_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_LIB     := $(FUZZ_DIR)/libfuzz.a
FUZZ_CAPS    := $(FUZZ_DIR)/caps
FUZZ_NAMES   := $(patsubst tests/fuzz/%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BIN     := $(FUZZ_NAMES:%=$(FUZZ_DIR)/%)
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -g -O1 -std=c11 -Wall -Wextra -D_GNU_SOURCE -Isrc -MMD -MP $(FUZZ_SAN)
# -max_len: NOSTR_MSG_MAX_JSON, NOSTR_EVENT_MAX_JSON, NIP11_MAX_JSON, RELAY_URL_MAX, SOCKS5_REPLY_MAX,
# HTTP_CONNECT_MAX, header values (lws keeps them under 4 KiB), a configuration file, a negentropy
# message (its hex fills a NOSTR_MSG_MAX_JSON relay message); each plus one.
FUZZ_MAX_LEN_fuzz_message      := 1049601
FUZZ_MAX_LEN_fuzz_filter       := 1049601
FUZZ_MAX_LEN_fuzz_event        := 1048577
FUZZ_MAX_LEN_fuzz_nip11        := 262145
FUZZ_MAX_LEN_fuzz_url          := 1024
FUZZ_MAX_LEN_fuzz_socks5       := 263
FUZZ_MAX_LEN_fuzz_http_connect := 4097
FUZZ_MAX_LEN_fuzz_http_reply   := 4097
FUZZ_MAX_LEN_fuzz_config       := 16384
FUZZ_MAX_LEN_fuzz_negentropy   := 524289
# fuzz_config writes and loads files for every input (a few ms each): fewer runs
FUZZ_RUNS_fuzz_config          ?= 4000
FUZZ_DICT_fuzz_url             := -dict=tests/fuzz/url.dict
FUZZ_DICT_fuzz_message         := -dict=tests/fuzz/json.dict
FUZZ_DICT_fuzz_filter          := -dict=tests/fuzz/json.dict
FUZZ_DICT_fuzz_event           := -dict=tests/fuzz/json.dict
FUZZ_DICT_fuzz_nip11           := -dict=tests/fuzz/json.dict
FUZZ_ARGS     = -max_len=$(FUZZ_MAX_LEN_$*) $(FUZZ_DICT_$*) -artifact_prefix=$(FUZZ_DIR)/$*-

.PHONY: fuzz fuzz-check

$(FUZZ_DIR)/obj/%.o: %.c | deps
	@mkdir -p $(@D)
	$(call say,FUZZCC,$<)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_CAPS)/.made: tests/fuzz/make-caps
	$(call say,CAPS,$(FUZZ_CAPS))sh tests/fuzz/make-caps $(FUZZ_CAPS) && touch $@

$(FUZZ_LIB): $(FUZZ_OBJ)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	$(call say,FUZZ,$<)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) -lsecp256k1 -lcrypto -linih

-include $(FUZZ_OBJ:.o=.d) $(FUZZ_BIN:=.d)

fuzz: $(FUZZ_NAMES:%=fuzz-run-%)
fuzz-run-%: $(FUZZ_DIR)/% $(FUZZ_CAPS)/.made
	@mkdir -p $(FUZZ_DIR)/corpus/$*
	@echo "== $*: $(FUZZ_SECONDS) s"
	@$< -max_total_time=$(FUZZ_SECONDS) $(FUZZ_ARGS) -print_final_stats=1 \
		$(FUZZ_DIR)/corpus/$* tests/fuzz/seeds/$* tests/fuzz/regress/$* $$(test -d $(FUZZ_CAPS)/$* && echo $(FUZZ_CAPS)/$*)

fuzz-check: $(FUZZ_NAMES:%=fuzz-check-%)
fuzz-check-%: $(FUZZ_DIR)/% $(FUZZ_CAPS)/.made
	@rm -rf $(FUZZ_DIR)/check/$*; mkdir -p $(FUZZ_DIR)/check/$*
	@{ $< -runs=0 $(FUZZ_ARGS) tests/fuzz/regress/$* tests/fuzz/seeds/$* $$(test -d $(FUZZ_CAPS)/$* && echo $(FUZZ_CAPS)/$*) && \
	   $< -runs=$(or $(FUZZ_RUNS_$*),$(FUZZ_RUNS)) -seed=1 $(FUZZ_ARGS) $(FUZZ_DIR)/check/$* tests/fuzz/seeds/$*; } \
		>$(FUZZ_DIR)/check/$*.log 2>&1 \
		|| { tail -n 40 $(FUZZ_DIR)/check/$*.log; echo "fuzz-check: $* failed"; exit 1; }
	@echo "fuzz-check: $* ok (regressions, seeds, caps, $(or $(FUZZ_RUNS_$*),$(FUZZ_RUNS)) runs)"

check: fuzz-check

# ---- valgrind: monitor and synchronizer passes, one stopped by SIGTERM, under memcheck (tests/valgrind.sh) ---
# Memory errors and definite or indirect leaks fail it; tests/valgrind.supp holds library noise. It costs
# 30-60 s on 2 vCPUs, so make check runs it (not in a sanitizer build: ASan and valgrind exclude each other).
.PHONY: valgrind

valgrind: $(BUILD)/brotr $(TOOLS)
	@BUILD=$(BUILD) bash tests/valgrind.sh

ifeq ($(SANITIZE),)
check: valgrind
endif
