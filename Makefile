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
            python3-boto3 luarocks valgrind clang libclang-rt-14-dev procps openssl

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

$(BUILD)/test/%: spec/c/%.c $(wildcard spec/c/*.h) $(BUILD)/liblw.a | $(BUILD)/test
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

.PHONY: bench-tools
bench-tools: $(BENCH_BIN)

ctests: $(BENCH_BIN)

bench: deps
	@$(MAKE) --no-print-directory build-all bench-tools
	@$(PY) bench/run.py

# ---- Sanitizers, valgrind, fuzzing (issue 6 §3-4) ----
# The sanitizer variants build with clang into their own directories
# (build/asan, build/fuzz), so build/ is untouched; -Werror stays on and UBSan
# aborts at its first report. Each target ends with "N passed, N failed".
#   check-asan      C unit tests (leak check on), the Lua specs against the
#                   ASan core.so (stock lua5.4 with the ASan runtime preloaded,
#                   tools/preload_core.lua) and an end-to-end subset run by the
#                   ASan luaworker and aws_driver.
#   check-valgrind  C unit tests and an end-to-end subset under memcheck
#                   (tools/valgrind-luaworker.sh); any error or definite leak fails.
#   fuzz            each spec/fuzz/fuzz_<name>.c (libFuzzer + ASan/UBSan) for
#                   FUZZ_SECONDS from its committed corpus (spec/fuzz/run.py).
SAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_BUILD   := build/asan
FUZZ_BUILD   := build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_NAMES   := $(patsubst spec/fuzz/fuzz_%.c,%,$(wildcard spec/fuzz/fuzz_*.c))
SAN_MAKE      = $(MAKE) --no-print-directory CC=clang OPT="-O1 -g"
ASAN_RT       = $(shell clang -print-file-name=libclang_rt.asan-x86_64.so)
SAN_ENV      := ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
VALGRIND     := valgrind -q --error-exitcode=99 --leak-check=full \
                --errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=30

# End-to-end subsets: quick tests that drive the most code (-x: left out; that
# one bounds the RSS, which ASan's quarantine of freed memory inflates).
E2E_ASAN     := spec.e2e.test_aws_client spec.e2e.test_cli spec.e2e.test_sfn spec.e2e.test_http \
                spec.e2e.test_invoke spec.e2e.test_hostile spec.e2e.test_budgets \
                -x spec.e2e.test_budgets.BudgetTest.test_memory_limit_fails_the_handler_that_holds_the_memory \
                spec.e2e.test_swf.SwfTest.test_results_errors_and_limits \
                spec.e2e.test_swf.SwfTest.test_cancellation_runs_cleanup_and_records_canceled \
                spec.e2e.test_swf.SwfTest.test_stuck_handler_times_out_and_worker_carries_on \
                spec.e2e.test_swf.SwfTest.test_sigterm_short_grace_cancels_then_fails_stragglers
E2E_VALGRIND := spec.e2e.test_sfn spec.e2e.test_cli.CliTest.test_bad_input_is_one_line_exit_2_and_no_request \
                spec.e2e.test_swf.SwfTest.test_results_errors_and_limits \
                spec.e2e.test_swf.SwfTest.test_cancellation_runs_cleanup_and_records_canceled \
                spec.e2e.test_http.HttpTest.test_plain_signed_status_timeout_refused \
                spec.e2e.test_hostile.HostileTest.test_tls_certificate_that_does_not_verify_is_refused_unless_its_ca_is_given \
                spec.e2e.test_hostile.HostileTest.test_wrong_credentials_stop_the_worker_with_the_cause \
                spec.e2e.test_hostile.HostileTest.test_credential_process_rotates_short_lived_credentials_then_fails_then_recovers \
                spec.e2e.test_hostile.HostileTest.test_handler_table_with_a_bad_entry

check-asan: deps
	@$(SAN_MAKE) BUILD=$(ASAN_BUILD) EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="$(SAN_FLAGS)" \
	    build-all ctests
	@$(SAN_ENV) $(PY) spec/tools/run_suites.py \
	    $(foreach t,$(notdir $(CTESTS)),"asan/c/$(t)=$(ASAN_BUILD)/test/$(t)") \
	    $(foreach s,$(LUASPECS),"asan/lua/$(notdir $(s))=LD_PRELOAD=$(ASAN_RT) \
	        LUA_INIT_5_4=@tools/preload_core.lua LUAWORKER_CORE=$(ASAN_BUILD)/lib/luaworker/core.so \
	        $(LUA) spec/tools/run_lua.lua $(s)") \
	    "asan/e2e=LUAWORKER_BIN=$(CURDIR)/$(ASAN_BUILD)/luaworker \
	        LUAWORKER_AWS_DRIVER=$(CURDIR)/$(ASAN_BUILD)/test/aws_driver $(PY) tools/pytests.py $(E2E_ASAN)"

check-valgrind: deps
	@$(MAKE) --no-print-directory build-all ctests
	@$(PY) spec/tools/run_suites.py \
	    $(foreach t,$(CTESTS),"valgrind/c/$(notdir $(t))=$(VALGRIND) $(t)") \
	    "valgrind/e2e=LUAWORKER_BIN=$(CURDIR)/tools/valgrind-luaworker.sh \
	        $(PY) tools/pytests.py $(E2E_VALGRIND)"

fuzz: deps
	@$(SAN_MAKE) BUILD=$(FUZZ_BUILD) EXTRA_CFLAGS="$(SAN_FLAGS) -fsanitize=fuzzer-no-link" \
	    EXTRA_LDFLAGS="$(SAN_FLAGS)" fuzz-targets
	@$(PY) spec/tools/run_suites.py $(foreach f,$(FUZZ_NAMES),\
	    "fuzz/$(f)=$(PY) spec/fuzz/run.py $(FUZZ_BUILD)/fuzz_$(f) $(f) $(FUZZ_SECONDS)")

# Built by the sub-make of `fuzz` (BUILD=build/fuzz): the targets, with libFuzzer's main.
.PHONY: fuzz-targets
fuzz-targets: $(FUZZ_NAMES:%=$(BUILD)/fuzz_%)

$(BUILD)/fuzz_%: spec/fuzz/fuzz_%.c $(BUILD)/liblw.a
	$(CC) $(CFLAGS_LW) -fsanitize=fuzzer -o $@ $< $(BUILD)/liblw.a $(LDLIBS_LW)
