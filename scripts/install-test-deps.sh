#!/usr/bin/env bash
# install-test-deps.sh installs the real servers the tests start on 127.0.0.1:
#   OpenSSH's sshd (SFTP), versitygw (S3) into <repo>/.bin, and PostgreSQL;
#   and Debian's Chromium, which the web console's browser tests drive.
# Idempotent: each step runs only when its binary is missing, so a second run takes
# well under a second. Needs root for apt-get (a fresh Debian machine as root works).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
versitygw_version="v1.8.0"

apt_updated=0
apt_install() {
	if [ "$apt_updated" = 0 ]; then
		apt-get update
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

pg_bin() {
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

pkgs=()
if [ ! -x /usr/sbin/sshd ]; then
	pkgs+=(openssh-server)
fi
if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
	pkgs+=(postgresql)
fi
if [ ! -x /usr/bin/chromium ]; then
	pkgs+=(chromium)
fi
if [ "${#pkgs[@]}" -gt 0 ]; then
	echo "install-test-deps: installing ${pkgs[*]}"
	if [ "$(id -u)" != 0 ]; then
		echo "install-test-deps: run as root to install ${pkgs[*]} with apt-get" >&2
		exit 1
	fi
	apt_install "${pkgs[@]}"
	# Debian's postinst starts the system service where it can; the tests start private
	# servers on free loopback ports, so stop the ones this install just started.
	if command -v service >/dev/null 2>&1; then
		for pkg in "${pkgs[@]}"; do
			case "$pkg" in
			openssh-server) service ssh stop >/dev/null 2>&1 || true ;;
			postgresql) service postgresql stop >/dev/null 2>&1 || true ;;
			esac
		done
	fi
fi

if [ ! -x "$repo/.bin/versitygw" ]; then
	echo "install-test-deps: building versitygw $versitygw_version into $repo/.bin (about 2.5 minutes cold)"
	if ! command -v go >/dev/null 2>&1; then
		echo "install-test-deps: the Go toolchain is needed to build versitygw" >&2
		exit 1
	fi
	mkdir -p "$repo/.bin"
	GOBIN="$repo/.bin" go install "github.com/versity/versitygw/cmd/versitygw@$versitygw_version"
fi

echo "install-test-deps: sshd=/usr/sbin/sshd versitygw=$repo/.bin/versitygw postgres=$(pg_bin) chromium=/usr/bin/chromium"
