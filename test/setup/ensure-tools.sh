#!/usr/bin/env bash
# The tests use a few programs from Debian's packages: Chromium (the page, driven by playwright-core — a
# test tool's own browser download does not work here), systemd-analyze (the unit files), lintian (the
# .deb), skopeo (reads the container image), and systemd-nspawn with debootstrap (a Debian tree booted with
# systemd as its init, to run the units for real: test/packaging/systemd-boot.test.ts), and PostgreSQL's server
# (the store tests start their own cluster: test/helpers/postgres.ts). Install whichever is missing when we are
# allowed to; otherwise say how.
set -euo pipefail
# debootstrap lives in /usr/sbin, which a non-login PATH may lack.
PATH="$PATH:/usr/sbin:/sbin"
declare -A PACKAGE_OF=([chromium]=chromium [systemd-analyze]=systemd [lintian]=lintian [skopeo]=skopeo
  [systemd-nspawn]=systemd-container [debootstrap]=debootstrap)
missing=()
for tool in "${!PACKAGE_OF[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${PACKAGE_OF[$tool]}")
done
# The server's programs are not on PATH: Debian keeps them per major version.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages for the tests: ${missing[*]}…" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "the tests need these Debian packages: sudo apt-get install ${missing[*]}" >&2
exit 1
