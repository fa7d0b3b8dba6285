#!/usr/bin/env bash
# Debian tools the tests use, installed when missing and we are root (no
# downloads of their own): chromium drives the dashboard's browser tests;
# systemd provides `systemd-analyze verify`, which checks the agent's
# generated unit files with systemd's own parser. Otherwise says what to do.
set -u
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian ${missing[*]} for the tests (one time)…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null && exit 0
fi
echo "warning: missing ${missing[*]}: the dashboard browser tests fail without chromium, and the agent's systemd units are only checked as text without systemd-analyze. Install them: sudo apt-get install -y ${missing[*]}" >&2
exit 0
