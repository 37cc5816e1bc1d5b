#!/usr/bin/env bash
# Idempotent machine setup for IMS: Python venv with the project, Java + Maven, PostgreSQL,
# and the Kafka jars. Safe to run again: every step checks first and skips what is done.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "bootstrap: need root for: $*" >&2; exit 1
  fi
}

APT_UPDATED=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: no apt-get; install these yourself: $*" >&2; exit 1
  fi
  if [ "$APT_UPDATED" -eq 0 ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

find_python() {
  local c
  for c in python3.13 python3.12 python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

# -- Python --------------------------------------------------------------------------------
if ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  step "python: creating .venv"
  PY=$(find_python) || { apt_install python3 python3-venv; PY=$(find_python); }
  if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then apt_install python3-venv; fi
  rm -rf .venv
  "$PY" -m venv .venv
fi

STAMP=.venv/.ims-pyproject.sha256
WANT=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ] || [ ! -x .venv/bin/ims-stack ]; then
  step "python: pip install -e '.[dev]'"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
  echo "$WANT" > "$STAMP"
else
  step "python: .venv up to date"
fi

# -- Java and Maven (Kafka runs from Maven-resolved jars) ------------------------------------
if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
  step "java: installing default-jre-headless and maven"
  apt_install default-jre-headless maven
fi
JAVA_MAJOR=$(java -XshowSettings:properties -version 2>&1 |
             sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
if [ "${JAVA_MAJOR:-0}" -lt 17 ]; then
  echo "bootstrap: Kafka 4 needs Java 17 or newer (found ${JAVA_MAJOR:-none})" >&2; exit 1
fi

# -- PostgreSQL ------------------------------------------------------------------------------
if [ -z "${IMS_PG_BIN:-}" ] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  step "postgres: installing"
  apt_install postgresql-common
  # The stack runs its own server; keep the package from creating and starting one on 5432.
  as_root sed -i 's/^#\? *create_main_cluster.*/create_main_cluster = false/' \
    /etc/postgresql-common/createcluster.conf
  if apt-cache show postgresql-15 >/dev/null 2>&1; then apt_install postgresql-15
  else apt_install postgresql
  fi
fi

# -- Disk tools of capture: qemu-img (K3: qcow2 conversion), and for the guest preflight (K4)
# sfdisk (partition tables), blkid and debugfs (ext2/3/4 read without mounting) -------------
have_tool() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }
if ! have_tool qemu-img; then
  step "qemu-utils: installing"
  apt_install qemu-utils
fi
if ! have_tool sfdisk; then
  step "fdisk (sfdisk): installing"
  apt_install fdisk
fi
if ! have_tool debugfs || ! have_tool mkfs.ext4; then
  step "e2fsprogs: installing"
  apt_install e2fsprogs
fi
if ! have_tool blkid || ! have_tool setpriv; then
  step "util-linux: installing"
  apt_install util-linux
fi

# -- kcat and curl: the clients of the README's "Try it" lines (kcat: also the contract tests) ---
if ! command -v kcat >/dev/null 2>&1; then
  step "kcat: installing"
  apt_install kcat
fi
# Debian bookworm's librdkafka (2.0.2) fails every SCRAM login to Kafka 4 ("invalid
# credentials"; fixed in librdkafka 2.6.1): .venv/bin/kcat runs Debian's kcat on the newer
# librdkafka that the confluent-kafka wheel carries (same ABI, librdkafka.so.1).
rdkafka=$(ls .venv/lib/python3*/site-packages/confluent_kafka.libs/librdkafka-*.so.1 2>/dev/null | head -n 1)
[ -n "$rdkafka" ] || { echo "bootstrap: no librdkafka in the confluent-kafka wheel" >&2; exit 1; }
mkdir -p .venv/lib/kcat
ln -sfn "$(realpath "$rdkafka")" .venv/lib/kcat/librdkafka.so.1
cat > .venv/bin/kcat <<'KCAT'
#!/bin/sh
# Debian's kcat on the confluent-kafka wheel's librdkafka (deploy/bootstrap.sh says why).
lib="$(cd "$(dirname "$0")/../lib/kcat" && pwd)"
LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec /usr/bin/kcat "$@"
KCAT
chmod 755 .venv/bin/kcat
if ! command -v curl >/dev/null 2>&1; then
  step "curl: installing"
  apt_install curl
fi

# -- The gateway (nginx), and Chromium with a CJK font for the console's browser tests -----
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  step "nginx: installing"
  apt_install nginx-light 2>/dev/null || apt_install nginx
fi
if ! command -v chromium >/dev/null 2>&1; then
  step "chromium: installing"
  apt_install chromium
fi
if [ ! -d /usr/share/fonts/opentype/noto ] && ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  step "fonts-noto-cjk: installing (Chinese labels in screenshots)"
  apt_install fonts-noto-cjk
fi

# -- Kafka jars ------------------------------------------------------------------------------
step "kafka: jars"
.venv/bin/ims-stack fetch
