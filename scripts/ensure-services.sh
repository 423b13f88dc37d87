#!/usr/bin/env bash
# Make sure the real services the tests use are present and running on this machine:
# Postgres (127.0.0.1:5432) and Redis (127.0.0.1:6379) are started from installed binaries when down;
# Dovecot and Chromium are installed from Debian's packages when missing (tests start Dovecot themselves).
set -uo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

apt_install() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing ${missing[*]} from Debian's packages"
    as_root apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || echo "warning: could not install ${missing[*]}" >&2
}

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    echo "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "starting Redis"
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /tmp --logfile /tmp/redis-ci.log || true
fi
apt_install dovecot-imapd chromium chromium-driver
# Dovecot's package starts a system instance on 143/993; the tests run their own on a free port.
for i in 1 2 3 4 5 6 7 8 9 10; do
    pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break
    sleep 1
done
echo "services: postgres $(pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 && echo up || echo DOWN)," \
     "redis $(redis-cli -h 127.0.0.1 ping 2>/dev/null || echo DOWN)," \
     "dovecot $(command -v dovecot >/dev/null && echo installed || echo MISSING)," \
     "chromium $(command -v chromium >/dev/null && echo installed || echo MISSING)"
