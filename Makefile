# brotr — build, test, benchmark and run.
#
#   make            build ./brotr
#   make check      unit tests, then integration tests against real servers
#   make bench      speed and memory figures, each next to its limit
#   make run        the main job on a private PostgreSQL cluster under var/
#   make install    PREFIX=/usr/local DESTDIR=
#   make SANITIZE=address,undefined check
#
# Every target first runs contrib/debian-deps, which installs missing Debian
# packages when run as root and otherwise prints the apt-get line.

PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
SANITIZE ?=
VERSION  := 0.1.0

PKGS     := libwebsockets libsecp256k1 inih libssl libcrypto
PG_INC   := $(shell pg_config --includedir 2>/dev/null)
LIBVERSIONS := $(shell for p in libwebsockets libsecp256k1 inih openssl libecpg; do \
		printf '%s %s, ' $$p "$$(pkg-config --modversion $$p 2>/dev/null)"; done; \
		printf 'jsmn %s' "$$(dpkg-query -W -f='$${Version}' libjsmn-dev 2>/dev/null)")

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

CPPFLAGS += -Isrc -Ipgc -I$(PG_INC) -DBROTR_VERSION='"$(VERSION)"' \
            -D_GNU_SOURCE
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -Wall -Wextra -Werror -pthread -MMD -MP $(SANFLAGS) \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS  += -pthread $(SANFLAGS)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lecpg -lpq -lm
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

SRC      := $(sort $(wildcard src/*/*.c pgc/*.c))
PGC      := $(sort $(wildcard pgc/*.pgc))
OBJ      := $(SRC:%.c=$(BUILD)/%.o) $(PGC:%.pgc=$(BUILD)/%.o)
LIB      := $(BUILD)/libbrotr.a
BIN      := $(BUILD)/brotr
UNIT     := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(sort $(wildcard tests/unit/test_*.c)))
INTEG    := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(sort $(wildcard tests/integration/test_*.c)))
TOOLS    := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(sort $(wildcard tests/tools/*.c)))

.PHONY: all deps check bench run stop readme install uninstall clean
.SUFFIXES:
.SECONDARY:

all: brotr

deps:
	@sh contrib/debian-deps build

brotr: $(BUILD)/brotr
ifeq ($(SANITIZE),)
	@ln -sf $(BUILD)/brotr brotr
endif

$(BUILD)/brotr: $(BUILD)/src/main.o $(LIB)
	$(call say,LINK,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIB): $(OBJ)
	@rm -f $@
	$(call say,AR,$@)$(AR) rcs $@ $^

$(BUILD)/src/main.o: CPPFLAGS += -DBROTR_LIBVERSIONS='"$(LIBVERSIONS)"'

$(BUILD)/%.o: %.c | deps
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# ECPG output is generated, never committed; it is compiled with the same flags.
$(BUILD)/pgc/%.c: pgc/%.pgc | deps
	@mkdir -p $(@D)
	$(call say,ECPG,$<)ecpg -I pgc -o $@ $<

$(BUILD)/pgc/%.o: $(BUILD)/pgc/%.c
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/integration/%: tests/integration/%.c $(LIB)
	@mkdir -p $(@D)
	$(call say,TEST,$<)$(CC) $(CPPFLAGS) $(CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(call say,TEST,$<)$(CC) $(CPPFLAGS) $(CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(@D)
	$(call say,TOOL,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

check: $(BUILD)/brotr $(UNIT) $(INTEG) $(TOOLS)
	@sh contrib/debian-deps check
	@BUILD=$(BUILD) bash tests/run $(UNIT)

bench: $(BUILD)/brotr $(TOOLS)
	@sh contrib/debian-deps bench
	@BUILD=$(BUILD) bash tests/bench

run: brotr
	@sh contrib/debian-deps run
	@bash contrib/run-local

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
	@sh contrib/debian-deps fuzz
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

# ---- valgrind: monitor and synchronizer passes, one stopped by SIGTERM, under memcheck (tests/valgrind.sh) ---
# Memory errors and definite or indirect leaks fail it; tests/valgrind.supp holds library noise. It costs
# 30-60 s on 2 vCPUs, so make check runs it (not in a sanitizer build: ASan and valgrind exclude each other).
.PHONY: valgrind

valgrind: $(BUILD)/brotr $(TOOLS)
	@sh contrib/debian-deps valgrind
	@BUILD=$(BUILD) bash tests/valgrind.sh

ifeq ($(SANITIZE),)
check: valgrind
endif
