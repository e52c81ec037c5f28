#!/usr/bin/env bash
# Benchmark prerequisites: nginx (from Debian's packages) and the peer clients.
# Usage: bench/setup.sh [PYTHON]   (PYTHON: the interpreter that runs bench/run.py)
set -euo pipefail
PY="${1:-python3}"

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    echo "setup: installing nginx" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nginx-light >/dev/null || apt-get install -y -qq nginx >/dev/null
fi

"$PY" -m pip install -q --disable-pip-version-check aiohttp httpx sniffio urllib3 trustme uvloop
