#!/bin/sh
# Installs Debian's chromium for the browser end-to-end tests (spec/e2e/).
# Does nothing when /usr/bin/chromium already exists. Never downloads a browser build
# from anywhere but the distribution's package repository. Needs root (CI runs it from .ci/run).
set -eu

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium
