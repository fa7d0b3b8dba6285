#!/usr/bin/env bash
# The dashboard's browser tests drive Debian's chromium (no browser download).
# Installs it when missing and we are root; otherwise says what to do.
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian chromium for the browser tests (one time)…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null && exit 0
fi
echo "warning: /usr/bin/chromium is missing; the dashboard browser test will fail. Install it: sudo apt-get install -y chromium" >&2
exit 0
