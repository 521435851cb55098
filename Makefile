# luaworker: see README.md. Every public target first runs `make deps`, which
# installs missing Debian packages, so a fresh Debian machine needs nothing else.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
PY      := /usr/bin/python3
LUA     := lua5.4
CC      ?= cc

# Debian bookworm packages: build, run, test (service, e2e), sanitizers, fuzzing, bench.
DEB_PKGS := build-essential pkg-config lua5.4 liblua5.4-dev lua-cjson lua-unit lua-luv \
            libcurl4-openssl-dev libssl-dev libjansson-dev python3 python3-botocore \
            python3-boto3 luarocks valgrind clang libclang-rt-14-dev procps

PKGS     := lua5.4 libcurl libcrypto jansson
# Lazy (=) so pkg-config runs after `deps` has installed it.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
WARN      := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
OPT       ?= -O2 -g
CFLAGS_LW  = -std=c11 -D_GNU_SOURCE $(WARN) $(OPT) -fPIC -fvisibility=hidden \
             -Iruntime -I$(BUILD)/gen $(if $(LUA_INCDIR),-I$(LUA_INCDIR)) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS_LW  = $(PKG_LIBS) -lm -lpthread $(EXTRA_LDFLAGS)

RT_SRCS  := $(filter-out runtime/main.c,$(wildcard runtime/*.c))
RT_OBJS  := $(RT_SRCS:runtime/%.c=$(BUILD)/obj/%.o)
LUA_SRCS := $(wildcard lua/luaworker/*.lua)
CTESTS   := $(patsubst spec/c/%.c,$(BUILD)/test/%,$(wildcard spec/c/test_*.c))
LUASPECS := $(wildcard spec/*_spec.lua examples/*_spec.lua)

.PHONY: all deps test demo install clean bench check-asan check-valgrind fuzz ctests

all: deps
	@$(MAKE) --no-print-directory build-all

build-all: $(BUILD)/luaworker $(BUILD)/lib/luaworker/core.so

deps:
	@tools/deps.sh $(DEB_PKGS)

$(BUILD)/obj/%.o: runtime/%.c $(wildcard runtime/*.h) | $(BUILD)/obj
	$(CC) $(CFLAGS_LW) -c $< -o $@

$(BUILD)/obj $(BUILD)/gen $(BUILD)/test $(BUILD)/lib/luaworker:
	@mkdir -p $@

$(BUILD)/liblw.a: $(RT_OBJS)
	@rm -f $@
	ar rcs $@ $^

# The command embeds the Lua facade so it runs from anywhere.
$(BUILD)/gen/embedded_lua.c: tools/embed.lua $(LUA_SRCS) | $(BUILD)/gen
	$(LUA) tools/embed.lua $@ $(LUA_SRCS)

$(BUILD)/obj/embedded_lua.o: $(BUILD)/gen/embedded_lua.c | $(BUILD)/obj
	$(CC) $(CFLAGS_LW) -Wno-overlength-strings -c $< -o $@

$(BUILD)/luaworker: $(BUILD)/obj/main.o $(BUILD)/obj/embedded_lua.o $(BUILD)/liblw.a
	$(CC) $(CFLAGS_LW) -o $@ $^ $(LDLIBS_LW)

# The Lua C module: symbols of liblua come from the host interpreter.
$(BUILD)/lib/luaworker/core.so: $(RT_OBJS) | $(BUILD)/lib/luaworker
	$(CC) $(CFLAGS_LW) -shared -o $@ $^ $(shell pkg-config --libs libcurl libcrypto jansson) -lm -lpthread

$(BUILD)/test/%: spec/c/%.c spec/c/t.h $(BUILD)/liblw.a | $(BUILD)/test
	$(CC) $(CFLAGS_LW) -Ispec/c -o $@ $< $(BUILD)/liblw.a $(LDLIBS_LW)

# Programs the end-to-end tests drive (not suites themselves).
TOOLS := $(BUILD)/test/aws_driver

ctests: $(CTESTS) $(TOOLS)

# Every suite, summed into one final "N passed, N failed" line.
SUITES = $(foreach t,$(CTESTS),"c/$(notdir $(t))=$(t)") \
         $(foreach s,$(LUASPECS),"lua/$(notdir $(s))=$(LUA) spec/tools/run_lua.lua $(s)") \
         "service=$(PY) spec/tools/pyrun.py spec/service/tests" \
         "e2e=$(PY) spec/tools/pyrun.py spec/e2e" \
         "bench=$(PY) bench/run.py --smoke"

# The README's first command: the local service, two workers on examples/,
# outcomes printed as they land, a clean shutdown.
demo: deps
	@$(MAKE) --no-print-directory build-all
	@$(PY) examples/demo.py

test: deps
	@$(MAKE) --no-print-directory build-all ctests
	@$(PY) spec/tools/run_suites.py $(SUITES)

# ---- install, uninstall (issue 5): the command, the C module, the Lua facade, the man page ----
# Under $(DESTDIR)$(PREFIX), where a stock lua5.4 looks by default for
# PREFIX=/usr/local (its package.cpath has /usr/local/lib/lua/5.4/?.so, its
# package.path /usr/local/share/lua/5.4/?.lua and ?/init.lua). luarocks
# (luaworker-*.rockspec, build type make) runs `make build-all` and
# `make install-files` with its own BINDIR, LIBDIR, LUADIR and MANDIR.
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib/lua/5.4
LUADIR ?= $(PREFIX)/share/lua/5.4
MANDIR ?= $(PREFIX)/share/man/man1

.PHONY: install-files uninstall

install: deps
	@$(MAKE) --no-print-directory install-files

install-files: build-all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/luaworker $(DESTDIR)$(LUADIR)/luaworker \
	    $(DESTDIR)$(MANDIR)
	install -m 755 $(BUILD)/luaworker $(DESTDIR)$(BINDIR)/luaworker
	install -m 755 $(BUILD)/lib/luaworker/core.so $(DESTDIR)$(LIBDIR)/luaworker/core.so
	install -m 644 $(LUA_SRCS) $(DESTDIR)$(LUADIR)/luaworker/
	install -m 644 doc/luaworker.1 $(DESTDIR)$(MANDIR)/luaworker.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/luaworker $(DESTDIR)$(LIBDIR)/luaworker/core.so \
	    $(addprefix $(DESTDIR)$(LUADIR)/luaworker/,$(notdir $(LUA_SRCS))) $(DESTDIR)$(MANDIR)/luaworker.1
	rmdir $(DESTDIR)$(LIBDIR)/luaworker $(DESTDIR)$(LUADIR)/luaworker 2>/dev/null || true

clean:
	rm -rf $(BUILD)

# ---- Benchmarks (issue 7): `make bench` writes bench/results.md; bench/README.md ----
# The responder (a minimal fast SWF server), the no-Lua floor worker and the
# SigV4 signer benchmark; make test builds them for its smoke suite (bench).
BENCH_BIN := $(BUILD)/bench/responder $(BUILD)/bench/floor $(BUILD)/bench/sigv4_bench

$(BUILD)/bench:
	@mkdir -p $@

$(BUILD)/bench/responder: bench/responder.c | $(BUILD)/bench
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(OPT) -o $@ $<

$(BUILD)/bench/%: bench/%.c $(BUILD)/liblw.a | $(BUILD)/bench
	$(CC) $(CFLAGS_LW) -o $@ $< $(BUILD)/liblw.a $(LDLIBS_LW)

$(BUILD)/bench/sigv4_bench: bench/sigv4_bench.c $(BUILD)/liblw.a | $(BUILD)/bench

.PHONY: bench-tools
bench-tools: $(BENCH_BIN)

ctests: $(BENCH_BIN)

bench: deps
	@$(MAKE) --no-print-directory build-all bench-tools
	@$(PY) bench/run.py
