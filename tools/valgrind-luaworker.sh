#!/bin/sh
# Run build/luaworker (or $LUAWORKER_REAL_BIN) under valgrind memcheck: the
# LUAWORKER_BIN of `make check-valgrind`'s end-to-end run. Any memcheck error
# or definite leak makes the command exit 99 (the tests assert status 0), and
# valgrind's report goes to stderr, i.e. into the worker's log, where the
# tests' "no unexpected log lines" check shows it. VALGRIND_OPTS adds options.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --track-origins=yes --num-callers=30 \
    ${VALGRIND_OPTS:-} "${LUAWORKER_REAL_BIN:-$root/build/luaworker}" "$@"
