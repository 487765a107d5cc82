#!/usr/bin/env bash
# Local native services for AssureHub (no Docker): PostgreSQL 15, Kafka (KRaft, single
# node) and Redis 7, each on loopback and its own port, all state under var/.
#
#   scripts/services.sh up     [postgres] [kafka] [redis]   start (idempotent; restarts crashed ones)
#   scripts/services.sh down   [postgres] [kafka] [redis]   stop (idempotent)
#   scripts/services.sh status [postgres] [kafka] [redis]   exit 0 if all running, 3 otherwise
#   scripts/services.sh env                                 KEY=VALUE lines for the app
#
# Environment: ASSUREHUB_VAR_DIR (default <repo>/var), PG_PORT (55432), KAFKA_PORT (59092),
# KAFKA_CONTROLLER_PORT (59093), REDIS_PORT (56379), KAFKA_HEAP_OPTS (-Xms256m -Xmx768m),
# ASSUREHUB_PG_OS_USER (when root: OS user that runs postgres; default postgres, else
# assurehub-svc, created if missing).
#
# Missing tools are installed with apt-get (postgresql-15, redis-server, and if needed
# openjdk-17-jre-headless / maven); Kafka jars come from Maven Central via scripts/kafka/pom.xml.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd -P)
VAR_DIR=${ASSUREHUB_VAR_DIR:-$ROOT/var}
PG_PORT=${PG_PORT:-55432}
KAFKA_PORT=${KAFKA_PORT:-59092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-59093}
REDIS_PORT=${REDIS_PORT:-56379}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}

PG_TIMEOUT=60
KAFKA_TIMEOUT=90
KAFKA_STOP_TIMEOUT=30
REDIS_TIMEOUT=20

ALL_SERVICES=(postgres kafka redis)
DB_ROLE=assurehub
DB_NAME=assurehub
DB_TEST_NAME=assurehub_test
HOST=127.0.0.1

KAFKA_POM=$SCRIPT_DIR/kafka/pom.xml
KAFKA_LOG4J=$SCRIPT_DIR/kafka/log4j2.yaml
KAFKA_PROBE=$SCRIPT_DIR/kafka/probe.py

# ---------------------------------------------------------------------------- helpers

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

check_port_var() {
  local name=$1 value=$2
  if ! [[ $value =~ ^[0-9]+$ ]] || [ "$value" -lt 1 ] || [ "$value" -gt 65535 ]; then die "$name=$value is not a port"; fi
}

set_paths() {
  mkdir -p "$VAR_DIR"
  VAR_DIR=$(cd "$VAR_DIR" && pwd -P)
  LOG_DIR=$VAR_DIR/log
  RUN_DIR=$VAR_DIR/run
  SECRETS_DIR=$VAR_DIR/secrets
  ENV_FILE=$VAR_DIR/services.env

  PG_PASSWORD_FILE=$SECRETS_DIR/postgres.password
  pg_paths

  KAFKA_DIR=$VAR_DIR/kafka
  KAFKA_LIBS=$KAFKA_DIR/libs
  KAFKA_DATA=$KAFKA_DIR/data
  KAFKA_PROPS=$KAFKA_DIR/server.properties
  KAFKA_CLUSTER_ID_FILE=$KAFKA_DIR/cluster.id
  KAFKA_PID=$RUN_DIR/kafka.pid
  KAFKA_LOG=$LOG_DIR/kafka.log
  KAFKA_STDOUT=$LOG_DIR/kafka.stdout.log

  REDIS_DIR=$VAR_DIR/redis
  REDIS_CONF=$REDIS_DIR/redis.conf
  REDIS_PID=$RUN_DIR/redis.pid
  REDIS_LOG=$LOG_DIR/redis.log

  mkdir -p "$LOG_DIR" "$RUN_DIR"
}

# Lock so that two concurrent up/down calls don't race each other. Every command that leaves a
# daemon behind gets 9>&- so that the daemon does not inherit (and keep holding) the lock.
take_lock() {
  exec 9>"$RUN_DIR/services.lock"
  flock -w 900 9 || die "another services.sh is still running (lock $RUN_DIR/services.lock)"
}

# pid_alive PID [CMDLINE-SUBSTRING...]: process exists (not a zombie) and its cmdline contains each substring
pid_alive() {
  local pid=$1 cmd state; shift
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  state=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ "$state" != Z ] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
  local s
  for s in "$@"; do [[ $cmd == *"$s"* ]] || return 1; done
  return 0
}

read_pidfile() { if [ -s "$1" ]; then head -n1 "$1" | tr -dc '0-9'; fi; }

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

wait_pid_exit() { # PID SECONDS
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null && pid_alive "$pid"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
  return 0
}

show_tail() { # FILE...
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    printf -- '----- last lines of %s -----\n' "$f" >&2
    tail -n 40 "$f" >&2
  done
}

print_line() { # NAME STATE PID ADDRESS LOG
  printf '%-9s %-16s pid %-8s %-22s log %s\n' "$1" "$2" "${3:--}" "$4" "$5"
}

# write_if_changed FILE MODE: content from stdin; returns 0 if the file changed
write_if_changed() {
  local file=$1 mode=$2 tmp
  tmp=$(mktemp "$file.XXXXXX")
  cat >"$tmp"
  chmod "$mode" "$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    return 1
  fi
  mv -f "$tmp" "$file"
  return 0
}

random_secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

python_bin() {
  if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3
  elif command -v python3 >/dev/null 2>&1; then command -v python3
  else return 1
  fi
}

# apt_install PKG...: one-time install; the packages' own service instances are not started.
apt_install() {
  local sudo=() created_policy=0 rc=0 aptlog
  if ! is_root; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      die "need root (or passwordless sudo) to install: $*"
    fi
  fi
  aptlog=$LOG_DIR/apt.log
  log "installing $* with apt-get (one-time; output in $aptlog)"
  # policy-rc.d exit 101 = "do not start services from maintainer scripts": we run our own
  # instances on our own ports, the distribution's default instances are not wanted.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
  } >>"$aptlog" 2>&1 || rc=$?
  if [ "$created_policy" = 1 ]; then "${sudo[@]}" rm -f /usr/sbin/policy-rc.d; fi
  if [ "$rc" != 0 ]; then
    show_tail "$aptlog"
    die "apt-get install $* failed"
  fi
}

# ---------------------------------------------------------------------------- postgres

PG_BIN=
PG_OS_USER=

pg_find_bin() {
  local d cand=()
  if command -v pg_ctl >/dev/null 2>&1; then cand+=("$(dirname "$(readlink -f "$(command -v pg_ctl)")")"); fi
  cand+=(/usr/lib/postgresql/15/bin)
  for d in "${cand[@]}"; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] &&
      "$d/pg_ctl" --version 2>/dev/null | grep -q ' 15\.'; then
      PG_BIN=$d
      return 0
    fi
  done
  return 1
}

pg_psql_bin() {
  if [ -x "$PG_BIN/psql" ]; then echo "$PG_BIN/psql"; else command -v psql; fi
}

pg_ensure_installed() {
  [ -n "$PG_BIN" ] && return 0
  pg_find_bin && return 0
  apt_install postgresql-15
  pg_find_bin || die "PostgreSQL 15 binaries not found after installing postgresql-15"
}

pg_ensure_user() {
  is_root || { PG_OS_USER=$(id -un); return 0; }
  if [ -n "${ASSUREHUB_PG_OS_USER:-}" ]; then
    PG_OS_USER=$ASSUREHUB_PG_OS_USER
  elif id -u postgres >/dev/null 2>&1; then
    PG_OS_USER=postgres
  else
    PG_OS_USER=assurehub-svc
  fi
  if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
    log "creating system user $PG_OS_USER (PostgreSQL refuses to run as root)"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$PG_OS_USER"
  fi
}

# run a command as the PostgreSQL OS user (from / so that an unreadable cwd doesn't matter)
as_pg() {
  if is_root; then
    (cd / && runuser -u "$PG_OS_USER" -- "$@" 9>&-)
  else
    (cd / && "$@" 9>&-)
  fi
}

# var/postgres is normally a directory; it is a symlink when the cluster had to live elsewhere
# because the PostgreSQL OS user cannot reach the var dir (see pg_relocate_if_unreachable).
pg_paths() {
  if [ -L "$VAR_DIR/postgres" ]; then
    PG_DIR=$(readlink -f "$VAR_DIR/postgres")
    PG_SOCK_DIR=$PG_DIR/run
    PG_LOG=$PG_DIR/postgres.log
  else
    PG_DIR=$VAR_DIR/postgres
    PG_SOCK_DIR=$RUN_DIR/postgres
    PG_LOG=$LOG_DIR/postgres.log
  fi
  PG_DATA=$PG_DIR/data
}

# As root, postgres runs as $PG_OS_USER, which must be able to reach the var dir. A checkout
# under e.g. /root (mode 700) is not reachable: then the cluster lives in
# /var/lib/assurehub/pg-<hash of var dir>, linked from var/postgres (log: var/log/postgres.log).
pg_relocate_if_unreachable() {
  is_root || return 0
  [ ! -e "$VAR_DIR/postgres" ] && [ ! -L "$VAR_DIR/postgres" ] || return 0
  as_pg test -x "$VAR_DIR" && return 0
  local alt
  alt=/var/lib/assurehub/pg-$(printf '%s' "$VAR_DIR" | sha256sum | cut -c1-12)
  log "postgres: user $PG_OS_USER cannot reach $VAR_DIR; the cluster lives in $alt (symlinked from var/postgres)"
  mkdir -p "$alt"
  chmod 755 /var/lib/assurehub
  chown "$PG_OS_USER:" "$alt"
  ln -s "$alt" "$VAR_DIR/postgres"
  ln -sfn "$alt/postgres.log" "$LOG_DIR/postgres.log"
  pg_paths
}

pg_pid() {
  local pid
  pid=$(read_pidfile "$PG_DATA/postmaster.pid")
  [ -n "$pid" ] && pid_alive "$pid" postgres && echo "$pid"
}

pg_prepare() {
  pg_ensure_installed
  pg_ensure_user
  pg_relocate_if_unreachable
  mkdir -p "$PG_DIR" "$PG_SOCK_DIR"
  touch "$PG_LOG"
  if is_root; then
    chown "$PG_OS_USER:" "$PG_DIR" "$PG_SOCK_DIR" "$PG_LOG"
    if [ -d "$PG_DATA" ] && [ "$(stat -c %U "$PG_DATA")" != "$PG_OS_USER" ]; then chown -R "$PG_OS_USER:" "$PG_DATA"; fi
  fi
  chmod 755 "$PG_SOCK_DIR"
  as_pg test -w "$PG_DIR" ||
    die "user $PG_OS_USER cannot write $PG_DIR (is a parent directory not searchable by others?); set ASSUREHUB_VAR_DIR to another place"
  local sock="$PG_SOCK_DIR/.s.PGSQL.$PG_PORT"
  [ "${#sock}" -lt 100 ] || die "socket path $sock is too long for a unix socket; use a shorter ASSUREHUB_VAR_DIR"

  # password: generated once, never in the repo
  if [ ! -s "$PG_PASSWORD_FILE" ]; then
    mkdir -p "$SECRETS_DIR"
    chmod 700 "$SECRETS_DIR"
    (umask 077 && random_secret >"$PG_PASSWORD_FILE.tmp" && mv -f "$PG_PASSWORD_FILE.tmp" "$PG_PASSWORD_FILE")
  fi
  chmod 600 "$PG_PASSWORD_FILE"

  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    log "postgres: initdb $PG_DATA"
    rm -rf "$PG_DATA"
    mkdir -p "$PG_DATA"
    chmod 700 "$PG_DATA"
    is_root && chown "$PG_OS_USER:" "$PG_DATA"
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" --encoding=UTF8 --no-locale \
      --auth-local=peer --auth-host=scram-sha-256 --no-instructions \
      >"$LOG_DIR/postgres-initdb.log" 2>&1 || { show_tail "$LOG_DIR/postgres-initdb.log"; die "initdb failed"; }
  fi

  PG_CONF_CHANGED=0
  as_pg tee "$PG_DATA/assurehub.conf.new" >/dev/null <<EOF
# written by scripts/services.sh on every 'up'; included from postgresql.conf
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK_DIR'
max_connections = 200
shared_buffers = 128MB
password_encryption = scram-sha-256
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
log_connections = off
log_disconnections = off
EOF
  if cmp -s "$PG_DATA/assurehub.conf.new" "$PG_DATA/assurehub.conf" 2>/dev/null; then
    rm -f "$PG_DATA/assurehub.conf.new"
  else
    as_pg mv -f "$PG_DATA/assurehub.conf.new" "$PG_DATA/assurehub.conf"
    PG_CONF_CHANGED=1
  fi
  if ! grep -q "^include_if_exists = 'assurehub.conf'" "$PG_DATA/postgresql.conf"; then
    printf "\ninclude_if_exists = 'assurehub.conf'\n" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
    PG_CONF_CHANGED=1
  fi
  as_pg tee "$PG_DATA/pg_hba.conf.new" >/dev/null <<EOF
# written by scripts/services.sh: local socket by OS user, TCP (loopback only) by password
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 peer
host    all       all   $HOST/32  scram-sha-256
EOF
  if cmp -s "$PG_DATA/pg_hba.conf.new" "$PG_DATA/pg_hba.conf"; then
    rm -f "$PG_DATA/pg_hba.conf.new"
  else
    as_pg mv -f "$PG_DATA/pg_hba.conf.new" "$PG_DATA/pg_hba.conf"
    PG_CONF_CHANGED=1
  fi
}

pg_start() {
  local pid state
  if pid=$(pg_pid); then
    if [ "$PG_CONF_CHANGED" = 1 ]; then
      log "postgres: configuration changed, restarting"
      as_pg "$PG_BIN/pg_ctl" restart -D "$PG_DATA" -l "$PG_LOG" -m fast -w -t "$PG_TIMEOUT" -s ||
        { show_tail "$PG_LOG"; die "postgres failed to restart"; }
      state=restarted
    else
      state="already running"
    fi
  else
    if port_open "$PG_PORT"; then die "postgres: port $HOST:$PG_PORT is in use by another process"; fi
    [ -e "$PG_DATA/postmaster.pid" ] && state=restarted || state=started
    as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$PG_TIMEOUT" -s ||
      { show_tail "$PG_LOG"; die "postgres did not become ready within ${PG_TIMEOUT}s"; }
  fi
  pg_ensure_databases
  PG_STATE=$state
}

# role and databases; the role's password is (re)set from var/secrets on every up
pg_ensure_databases() {
  local pw psql
  pw=$(cat "$PG_PASSWORD_FILE")
  [[ $pw =~ ^[A-Za-z0-9]+$ ]] || die "unexpected characters in $PG_PASSWORD_FILE"
  psql=$(pg_psql_bin)
  # the password travels on stdin, never on a command line
  as_pg "$psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK_DIR" -p "$PG_PORT" -d postgres >/dev/null <<EOF || die "postgres: creating role/databases failed"
SET client_min_messages = warning;
SELECT 'CREATE ROLE $DB_ROLE LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_ROLE')\gexec
ALTER ROLE $DB_ROLE WITH LOGIN CREATEDB PASSWORD '$pw';
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_ROLE' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')\gexec
SELECT 'CREATE DATABASE $DB_TEST_NAME OWNER $DB_ROLE' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_TEST_NAME')\gexec
EOF
}

pg_up() {
  pg_prepare
  pg_start
  print_line postgres "$PG_STATE" "$(pg_pid || true)" "$HOST:$PG_PORT" "$PG_LOG"
}

pg_down() {
  local pid
  if pid=$(pg_pid); then
    pg_find_bin || die "pg_ctl not found"
    pg_ensure_user
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 -s || {
      log "postgres: fast shutdown failed, sending SIGQUIT"
      kill -QUIT "$pid" 2>/dev/null || true
      wait_pid_exit "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
    }
    print_line postgres stopped "" "$HOST:$PG_PORT" "$PG_LOG"
  else
    print_line postgres "already stopped" "" "$HOST:$PG_PORT" "$PG_LOG"
  fi
}

pg_status() {
  local pid
  if pid=$(pg_pid); then
    print_line postgres running "$pid" "$HOST:$PG_PORT" "$PG_LOG"
  else
    print_line postgres stopped "" "$HOST:$PG_PORT" "$PG_LOG"
    return 1
  fi
}

# ---------------------------------------------------------------------------- kafka

JAVA=
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM" | head -n1)

java_major() { "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }

kafka_ensure_java() {
  local cand major
  for cand in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java 2>/dev/null || true)" /usr/lib/jvm/java-17-openjdk-amd64/bin/java; do
    if [ -z "$cand" ] || [ ! -x "$cand" ]; then continue; fi
    major=$(java_major "$cand")
    if [ -n "$major" ] && [ "$major" -ge 17 ]; then JAVA=$cand; return 0; fi
  done
  apt_install openjdk-17-jre-headless
  JAVA=/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)/bin/java
  [ -x "$JAVA" ] || JAVA=$(command -v java) || die "java 17 not found after installing openjdk-17-jre-headless"
}

kafka_libs_marker() {
  printf 'kafka=%s pom-sha256=%s\n' "$KAFKA_VERSION" "$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)"
}

kafka_ensure_libs() {
  local marker=$KAFKA_LIBS/.assurehub-libs want tmp mvnlog
  want=$(kafka_libs_marker)
  if [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ]; then return 0; fi
  if [ -d "$KAFKA_LIBS" ] && kafka_pid >/dev/null; then
    log "kafka: $KAFKA_LIBS is stale but the broker is running; run 'down kafka' then 'up kafka' to refresh"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || apt_install maven
  log "kafka: resolving Kafka $KAFKA_VERSION jars from Maven Central (one-time, cached in ~/.m2)"
  mvnlog=$LOG_DIR/kafka-mvn.log
  tmp=$KAFKA_DIR/libs.tmp
  rm -rf "$tmp"
  mkdir -p "$KAFKA_DIR"
  (cd "$KAFKA_DIR" && mvn -q -B -Dstyle.color=never -f "$KAFKA_POM" \
    dependency:copy-dependencies -DoutputDirectory="$tmp") >"$mvnlog" 2>&1 ||
    { show_tail "$mvnlog"; die "kafka: mvn dependency:copy-dependencies failed"; }
  [ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || die "kafka: kafka_2.13-$KAFKA_VERSION.jar missing after mvn (see $mvnlog)"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  printf '%s\n' "$want" >"$marker"
}

kafka_write_config() {
  write_if_changed "$KAFKA_PROPS" 644 <<EOF || return 1
# written by scripts/services.sh on every 'up': single-node KRaft broker+controller
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=$HOST:$KAFKA_CONTROLLER_PORT
log.dirs=$KAFKA_DATA
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# after a crash (kill -9) the restarted node may only re-register once the old broker session
# has expired: 3 s instead of the default 9 s keeps such restarts short
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=3000
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=268435456
EOF
}

kafka_pid() {
  local pid
  pid=$(read_pidfile "$KAFKA_PID")
  [ -n "$pid" ] && pid_alive "$pid" kafka.Kafka "$KAFKA_PROPS" && echo "$pid"
}

kafka_probe() { "$PYTHON" "$KAFKA_PROBE" "$HOST:$KAFKA_PORT" --timeout 2 "$@"; }

# Phase 1 (fast, no waiting): jars, config, storage format, spawn the JVM.
# Phase 2 (kafka_wait) is done after postgres/redis so that the JVM starts in parallel.
KAFKA_STATE=
kafka_start() {
  local changed=0 cid pid
  PYTHON=$(python_bin) || die "python3 is needed for the Kafka readiness probe"
  kafka_ensure_java
  mkdir -p "$KAFKA_DIR" "$KAFKA_DATA"
  kafka_ensure_libs
  kafka_write_config && changed=1

  if [ ! -s "$KAFKA_CLUSTER_ID_FILE" ]; then
    if [ -f "$KAFKA_DATA/meta.properties" ]; then
      sed -n 's/^cluster.id=//p' "$KAFKA_DATA/meta.properties" >"$KAFKA_CLUSTER_ID_FILE"
    else
      "$JAVA" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1 >"$KAFKA_CLUSTER_ID_FILE.tmp"
      mv -f "$KAFKA_CLUSTER_ID_FILE.tmp" "$KAFKA_CLUSTER_ID_FILE"
    fi
  fi
  cid=$(tr -d '[:space:]' <"$KAFKA_CLUSTER_ID_FILE")
  [[ $cid =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka: bad cluster id '$cid' in $KAFKA_CLUSTER_ID_FILE"

  if pid=$(kafka_pid); then
    if [ "$changed" = 0 ]; then KAFKA_STATE="already running"; return 0; fi
    log "kafka: configuration changed, restarting"
    kafka_stop_pid "$pid"
    KAFKA_STATE=restarted
  elif [ -e "$KAFKA_PID" ]; then
    KAFKA_STATE=restarted # pid file left by a crashed broker
  else
    KAFKA_STATE=started
  fi
  rm -f "$KAFKA_PID"

  if [ ! -f "$KAFKA_DATA/meta.properties" ]; then
    log "kafka: formatting storage $KAFKA_DATA (cluster id $cid)"
    "$JAVA" -cp "$KAFKA_LIBS/*" -Dlog4j2.configurationFile="$KAFKA_LOG4J" -Dkafka.logs.dir="$LOG_DIR" \
      kafka.tools.StorageTool format --standalone -t "$cid" -c "$KAFKA_PROPS" \
      >"$LOG_DIR/kafka-format.log" 2>&1 || { show_tail "$LOG_DIR/kafka-format.log"; die "kafka: storage format failed"; }
  fi

  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$p"; then die "kafka: port $HOST:$p is in use by another process"; fi
  done

  # the pid file gets the pid of the sh that execs java, whether or not setsid had to fork
  # shellcheck disable=SC2086,SC2016 # KAFKA_HEAP_OPTS is a list of JVM flags; $$ is for sh
  setsid nohup sh -c 'echo $$ >"$0"; exec "$@"' "$KAFKA_PID" \
    "$JAVA" $KAFKA_HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_LOG4J" -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS" \
    >>"$KAFKA_STDOUT" 2>&1 </dev/null 9>&- &
  KAFKA_SPAWNED=$!
}

kafka_wait() {
  [ "$KAFKA_STATE" = "already running" ] && {
    kafka_probe --quiet || log "kafka: broker process is running but does not answer a metadata request"
    print_line kafka "$KAFKA_STATE" "$(kafka_pid || true)" "$HOST:$KAFKA_PORT" "$KAFKA_LOG"
    return 0
  }
  local deadline=$((SECONDS + KAFKA_TIMEOUT)) pid=
  while :; do
    [ -n "$pid" ] || pid=$(read_pidfile "$KAFKA_PID")
    if ! kill -0 "${pid:-$KAFKA_SPAWNED}" 2>/dev/null; then
      show_tail "$KAFKA_LOG" "$KAFKA_STDOUT"
      die "kafka: broker process exited during startup"
    fi
    if kafka_probe --quiet; then break; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      show_tail "$KAFKA_LOG" "$KAFKA_STDOUT"
      die "kafka: broker did not answer a metadata request within ${KAFKA_TIMEOUT}s"
    fi
    sleep 0.3
  done
  print_line kafka "$KAFKA_STATE" "$(kafka_pid || true)" "$HOST:$KAFKA_PORT" "$KAFKA_LOG"
}

kafka_stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_pid_exit "$pid" "$KAFKA_STOP_TIMEOUT"; then
    log "kafka: broker did not stop within ${KAFKA_STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_pid_exit "$pid" 10 || true
  fi
  rm -f "$KAFKA_PID"
}

kafka_down() {
  local pid
  if pid=$(kafka_pid); then
    kafka_stop_pid "$pid"
    print_line kafka stopped "" "$HOST:$KAFKA_PORT" "$KAFKA_LOG"
  else
    rm -f "$KAFKA_PID"
    print_line kafka "already stopped" "" "$HOST:$KAFKA_PORT" "$KAFKA_LOG"
  fi
}

kafka_status() {
  local pid
  if pid=$(kafka_pid); then
    print_line kafka running "$pid" "$HOST:$KAFKA_PORT" "$KAFKA_LOG"
  else
    print_line kafka stopped "" "$HOST:$KAFKA_PORT" "$KAFKA_LOG"
    return 1
  fi
}

# ---------------------------------------------------------------------------- redis

redis_ensure_installed() {
  if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then return 0; fi
  apt_install redis-server redis-tools
  command -v redis-server >/dev/null 2>&1 || die "redis-server not found after installing it"
  local v
  v=$(redis-server --version | sed -n 's/.* v=\([0-9]*\).*/\1/p')
  [ "${v:-0}" -ge 7 ] || log "redis: warning: redis-server major version ${v:-?} < 7"
}

redis_pid() {
  local pid
  pid=$(read_pidfile "$REDIS_PID")
  [ -n "$pid" ] && pid_alive "$pid" redis-server "$HOST:$REDIS_PORT" && echo "$pid"
}

redis_cli() { timeout 3 redis-cli -h "$HOST" -p "$REDIS_PORT" "$@"; }

redis_up() {
  local pid state changed=0
  redis_ensure_installed
  mkdir -p "$REDIS_DIR"
  write_if_changed "$REDIS_CONF" 644 <<EOF && changed=1
# written by scripts/services.sh on every 'up'
bind $HOST
port $REDIS_PORT
protected-mode yes
daemonize yes
supervised no
pidfile "$REDIS_PID"
logfile "$REDIS_LOG"
dir "$REDIS_DIR"
loglevel notice
databases 16
save ""
appendonly no
EOF
  if pid=$(redis_pid); then
    if [ "$changed" = 0 ]; then
      state="already running"
    else
      log "redis: configuration changed, restarting"
      redis_stop_pid "$pid"
      state=restarted
    fi
  else
    [ -e "$REDIS_PID" ] && state=restarted || state=started
  fi
  if [ "$state" != "already running" ]; then
    rm -f "$REDIS_PID"
    if port_open "$REDIS_PORT"; then die "redis: port $HOST:$REDIS_PORT is in use by another process"; fi
    redis-server "$REDIS_CONF" >/dev/null 2>&1 9>&- || { show_tail "$REDIS_LOG"; die "redis-server failed to start"; }
  fi
  local deadline=$((SECONDS + REDIS_TIMEOUT))
  until [ "$(redis_cli ping 2>/dev/null)" = PONG ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      show_tail "$REDIS_LOG"
      die "redis did not answer PING within ${REDIS_TIMEOUT}s"
    fi
    sleep 0.1
  done
  until pid=$(redis_pid); do # the pid file is written right after the socket opens
    [ "$SECONDS" -lt "$deadline" ] || die "redis: no live pid in $REDIS_PID"
    sleep 0.1
  done
  print_line redis "$state" "$pid" "$HOST:$REDIS_PORT" "$REDIS_LOG"
}

redis_stop_pid() {
  local pid=$1
  redis_cli shutdown nosave >/dev/null 2>&1 || true
  if ! wait_pid_exit "$pid" 10; then
    kill -TERM "$pid" 2>/dev/null || true
    wait_pid_exit "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$REDIS_PID"
}

redis_down() {
  local pid
  if pid=$(redis_pid); then
    redis_stop_pid "$pid"
    print_line redis stopped "" "$HOST:$REDIS_PORT" "$REDIS_LOG"
  else
    print_line redis "already stopped" "" "$HOST:$REDIS_PORT" "$REDIS_LOG"
  fi
}

redis_status() {
  local pid
  if pid=$(redis_pid); then
    print_line redis running "$pid" "$HOST:$REDIS_PORT" "$REDIS_LOG"
  else
    print_line redis stopped "" "$HOST:$REDIS_PORT" "$REDIS_LOG"
    return 1
  fi
}

# ---------------------------------------------------------------------------- env

# A random key of $2 bytes, as hex, kept under var/secrets (created once), for the
# local stack only.
app_secret() {
  local file=$SECRETS_DIR/$1
  if [ ! -s "$file" ]; then
    mkdir -p "$SECRETS_DIR"
    (umask 077 && od -An -N"$2" -tx1 /dev/urandom | tr -d ' \n' >"$file.tmp" && mv -f "$file.tmp" "$file")
  fi
  cat "$file"
}

env_lines() {
  [ -s "$PG_PASSWORD_FILE" ] || die "no PostgreSQL password yet ($PG_PASSWORD_FILE); run: $0 up"
  local pw
  pw=$(cat "$PG_PASSWORD_FILE")
  cat <<EOF
ASSUREHUB_DATABASE_URL=postgresql://$DB_ROLE:$pw@$HOST:$PG_PORT/$DB_NAME
ASSUREHUB_TEST_DATABASE_URL=postgresql://$DB_ROLE:$pw@$HOST:$PG_PORT/$DB_TEST_NAME
ASSUREHUB_KAFKA_BOOTSTRAP_SERVERS=$HOST:$KAFKA_PORT
ASSUREHUB_REDIS_URL=redis://$HOST:$REDIS_PORT/0
ASSUREHUB_JWT_SIGNING_KEY=$(app_secret jwt.key 32)
ASSUREHUB_TOTP_ENCRYPTION_KEYS=1:$(app_secret totp.key 32)
ASSUREHUB_RECOVERY_CODE_KEY=$(app_secret recovery.key 32)
ASSUREHUB_LOG_SIGNING_KEYS=local-1:$(app_secret log-signing.key 32)
ASSUREHUB_PERSON_KEY_WRAPPING_KEYS=local-1:$(app_secret person-key-wrapping.key 32)
EOF
}

write_env_file() {
  [ -s "$PG_PASSWORD_FILE" ] || return 0
  (umask 077 && env_lines >"$ENV_FILE.tmp" && mv -f "$ENV_FILE.tmp" "$ENV_FILE")
  chmod 600 "$ENV_FILE"
}

# ---------------------------------------------------------------------------- main

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

# select_services ARGS...: sets SELECTED (in canonical order)
select_services() {
  SELECTED=()
  local s a want
  if [ $# = 0 ]; then SELECTED=("${ALL_SERVICES[@]}"); return; fi
  for a in "$@"; do
    case $a in postgres | kafka | redis) ;; *) die "unknown service '$a' (expected: ${ALL_SERVICES[*]})" ;; esac
  done
  for s in "${ALL_SERVICES[@]}"; do
    for want in "$@"; do
      if [ "$want" = "$s" ]; then SELECTED+=("$s"); break; fi
    done
  done
}

selected() { local s; for s in "${SELECTED[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

main() {
  [ $# -ge 1 ] || usage
  local cmd=$1 rc=0 s
  shift
  check_port_var PG_PORT "$PG_PORT"
  check_port_var KAFKA_PORT "$KAFKA_PORT"
  check_port_var KAFKA_CONTROLLER_PORT "$KAFKA_CONTROLLER_PORT"
  check_port_var REDIS_PORT "$REDIS_PORT"
  set_paths
  case $cmd in
    up)
      select_services "$@"
      take_lock
      # Kafka's JVM is spawned first and waited for last, so it boots while postgres/redis start.
      if selected kafka; then kafka_start; fi
      if selected postgres; then pg_up; fi
      if selected redis; then redis_up; fi
      if selected kafka; then kafka_wait; fi
      write_env_file
      ;;
    down)
      select_services "$@"
      take_lock
      for s in redis kafka postgres; do
        if selected "$s"; then "${s/postgres/pg}_down"; fi
      done
      ;;
    status)
      select_services "$@"
      for s in "${SELECTED[@]}"; do
        "${s/postgres/pg}_status" || rc=3
      done
      exit "$rc"
      ;;
    env)
      [ $# = 0 ] || die "env takes no arguments"
      env_lines
      ;;
    -h | --help | help) usage ;;
    *) die "unknown command '$cmd' (expected: up, down, status, env)" ;;
  esac
}

main "$@"
