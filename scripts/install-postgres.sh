#!/usr/bin/env bash
# PostgreSQL's server binaries for the tests that run a throwaway server (tests/postgres.py): Debian's
# package when they are missing and apt can install it; otherwise those tests say why they skip.
set -uo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
        || echo "could not install PostgreSQL; its tests will skip" >&2
else
    echo "PostgreSQL is not installed (apt-get install postgresql); its tests will skip" >&2
fi
exit 0
