#!/bin/sh
# `<service> [command ...]`: run each command of one IMS service in turn, the last one in
# place of this shell (e.g. `catalog migrate run`); `provision ...`: `ims-stack provision`
# (topics, database, roles on the Kafka and PostgreSQL it is pointed at); else: exec it.
set -eu

case "${1:-}" in
  capture | catalog | sharing | notifier)
    service=$1
    shift
    [ "$#" -gt 0 ] || set -- run
    while [ "$#" -gt 1 ]; do
      python -m "services.$service" "$1"
      shift
    done
    exec python -m "services.$service" "$1"
    ;;
  provision)
    shift
    exec ims-stack provision "$@"
    ;;
  "" | -h | --help)
    echo "usage: <capture|catalog|sharing|notifier> [migrate] [run] | provision --help | <command>"
    ;;
  *)
    exec "$@"
    ;;
esac
