#!/usr/bin/env bash
# The browser test drives Debian's Chromium (Playwright never downloads a browser here).
# Installs it when missing and we may (root, apt); otherwise says why the browser test will skip.
set -u
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian chromium for the browser test"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "note: chromium not installed and no root/apt: the browser test will be skipped" >&2
fi
exit 0
