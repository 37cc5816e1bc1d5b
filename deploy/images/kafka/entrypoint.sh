#!/bin/bash
# Writes server.properties from the environment the way the apache/kafka image does
# (KAFKA_FOO_BAR -> foo.bar, __ -> _, ___ -> -), formats the storage once, runs the broker.
# Unset values default to one node on 127.0.0.1:9092 (controller 9093): loopback only.
set -euo pipefail

: "${CLUSTER_ID:=MkU3OEVBNTcwNTJENDM2Qk}"
: "${KAFKA_NODE_ID:=1}"
: "${KAFKA_PROCESS_ROLES:=broker,controller}"
: "${KAFKA_LISTENERS:=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093}"
: "${KAFKA_ADVERTISED_LISTENERS:=PLAINTEXT://127.0.0.1:9092}"
: "${KAFKA_LISTENER_SECURITY_PROTOCOL_MAP:=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT}"
: "${KAFKA_CONTROLLER_LISTENER_NAMES:=CONTROLLER}"
: "${KAFKA_INTER_BROKER_LISTENER_NAME:=PLAINTEXT}"
: "${KAFKA_CONTROLLER_QUORUM_VOTERS:=1@127.0.0.1:9093}"
: "${KAFKA_LOG_DIRS:=/var/lib/kafka/data}"
: "${KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR:=1}"
: "${KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR:=1}"
: "${KAFKA_TRANSACTION_STATE_LOG_MIN_ISR:=1}"
: "${KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS:=0}"
export "${!KAFKA_@}"

# JVM and logging options, not broker properties (the apache/kafka image skips the same).
not_a_property() {
  case "$1" in
    KAFKA_VERSION | KAFKA_HEAP_OPTS | KAFKA_LOG4J_OPTS | KAFKA_OPTS | KAFKA_JMX_OPTS | \
      KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_GC_LOG_OPTS | KAFKA_LOG4J_ROOT_LOGLEVEL | \
      KAFKA_LOG4J_LOGGERS | KAFKA_TOOLS_LOG4J_LOGLEVEL) return 0 ;;
    *) return 1 ;;
  esac
}

properties=/opt/kafka/config/server.properties
: > "$properties"
for name in "${!KAFKA_@}"; do
  not_a_property "$name" && continue
  key=${name#KAFKA_}
  key=${key//___/-}
  key=${key//__/@}
  key=${key//_/.}
  key=${key//@/_}
  printf '%s=%s\n' "${key,,}" "${!name}" >> "$properties"
done

# The *_OPTS variables are lists of JVM flags: split on purpose.
# shellcheck disable=SC2206
java_argv=(java ${KAFKA_HEAP_OPTS:-} -XX:+UseG1GC -Djava.awt.headless=true
  -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.xml ${KAFKA_OPTS:-} -cp '/opt/kafka/libs/*')

# A static quorum (controller.quorum.voters) is formatted as is; a dynamic one standalone.
standalone=()
grep -q '^controller.quorum.voters=' "$properties" || standalone=(--standalone)
# The super user exists from the first start (it provisions every other principal):
# IMS_KAFKA_ADMIN_PASSWORD, not a KAFKA_* variable, so it is no server property.
scram=()
if [[ -n "${IMS_KAFKA_ADMIN_PASSWORD:-}" ]]; then
  scram=(--add-scram "SCRAM-SHA-512=[name=admin,password=${IMS_KAFKA_ADMIN_PASSWORD}]")
fi
"${java_argv[@]}" kafka.tools.StorageTool format --ignore-formatted "${standalone[@]}" \
  "${scram[@]}" -t "$CLUSTER_ID" -c "$properties"
unset IMS_KAFKA_ADMIN_PASSWORD
exec "${java_argv[@]}" kafka.Kafka "$properties"
