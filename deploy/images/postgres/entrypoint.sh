#!/bin/bash
# initdb on first start (scram passwords, the superuser named by POSTGRES_USER), then the
# server in the foreground. Listens on localhost unless told otherwise (-c listen_addresses).
set -euo pipefail

if [ "${1:-}" = postgres ]; then shift; fi
user=${POSTGRES_USER:-postgres}
database=${POSTGRES_DB:-$user}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set for the first start}"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 > /dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ "$database" != postgres ]; then
    echo "CREATE DATABASE \"$database\"" | postgres --single -j -D "$PGDATA" postgres > /dev/null
  fi
  echo "ims-postgres: initialised $PGDATA (superuser $user)"
fi

exec postgres -D "$PGDATA" "$@"
