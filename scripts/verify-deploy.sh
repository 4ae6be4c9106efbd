#!/usr/bin/env bash
# verify-deploy.sh BIN checks what deploy/ ships against the release binary BIN
# (default bin/calgw, built by `make release`):
#   - BIN is statically linked and `BIN version` runs;
#   - `systemd-analyze verify` finds nothing to say about deploy/calgw.service
#     (it needs ExecStart's binary to exist, so it checks a copy of the unit
#     whose ExecStart names a copy of BIN in a temporary folder);
#   - deploy/Dockerfile copies bin/calgw, runs `calgw run` and sets a non-root USER.
# Installs systemd with apt-get when systemd-analyze is missing (needs root).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bin="${1:-bin/calgw}"
unit=deploy/calgw.service
dockerfile=deploy/Dockerfile
fail() {
	echo "verify-deploy: $*" >&2
	exit 1
}

[ -x "$bin" ] || fail "$bin missing: run make release first"
version="$("$bin" version)" || fail "$bin version failed"
echo "verify-deploy: $version"
go version -m "$bin" | grep -q 'CGO_ENABLED=0' || fail "$bin was not built with CGO_ENABLED=0"
if command -v file >/dev/null 2>&1; then
	desc="$(file -b "$bin")"
	case "$desc" in
	*"statically linked"*) ;;
	*) fail "$bin is not statically linked: $desc" ;;
	esac
fi

if ! command -v systemd-analyze >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ]; then
		fail "systemd-analyze missing: install systemd (apt-get install systemd) or run as root"
	fi
	echo "verify-deploy: installing systemd for systemd-analyze"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends systemd
fi

exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
exec_bin="${exec_start%% *}"
[ "$exec_bin" = /usr/local/bin/calgw ] || fail "$unit: ExecStart runs $exec_bin, want /usr/local/bin/calgw"
case "$exec_start" in
*" run "*) ;;
*) fail "$unit: ExecStart does not run calgw run: $exec_start" ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$bin" "$tmp/calgw"
sed "s|^ExecStart=/usr/local/bin/calgw |ExecStart=$tmp/calgw |" "$unit" >"$tmp/calgw.service"
# The unit file must keep its name: verify reads the unit name from it.
if ! out="$(SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$tmp/calgw.service" 2>&1)"; then
	echo "$out" >&2
	fail "systemd-analyze verify $unit failed"
fi
# Warnings about other units on this machine are not ours; any line about ours is.
if ours="$(printf '%s\n' "$out" | grep -F 'calgw')"; then
	echo "$ours" >&2
	fail "systemd-analyze verify $unit is not clean"
fi
if [ -n "$out" ]; then
	echo "verify-deploy: systemd-analyze said, about other units on this machine:"
	printf '%s\n' "$out"
fi
echo "verify-deploy: systemd-analyze verify $unit: clean"

grep -Eq '^COPY[[:space:]]+(--[^[:space:]]+[[:space:]]+)*bin/calgw[[:space:]]' "$dockerfile" ||
	fail "$dockerfile does not COPY bin/calgw"
user="$(sed -n 's/^USER[[:space:]]\{1,\}//p' "$dockerfile" | tail -n 1)"
[ -n "$user" ] || fail "$dockerfile sets no USER"
case "${user%%:*}" in
0 | root) fail "$dockerfile runs as root (USER $user)" ;;
esac
grep -Eq '^ENTRYPOINT[[:space:]]+\[[^]]*"[^"]*calgw",[[:space:]]*"run"' "$dockerfile" ||
	fail "$dockerfile does not run calgw run"
echo "verify-deploy: $dockerfile: COPY bin/calgw, USER $user, ENTRYPOINT calgw run"
