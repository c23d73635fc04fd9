#!/usr/bin/env bash
# A three-node Akka.WriteBehind cluster on this machine against a local PostgreSQL, for trying the cluster out.
#
#   scripts/cluster.sh start          build the Host, start PostgreSQL and three nodes, wait until each is up
#   scripts/cluster.sh stop           stop the three nodes (SIGTERM: each hands its keys off and flushes), then PostgreSQL
#   scripts/cluster.sh status         which processes run, and the cluster's members as node 1 sees them
#   scripts/cluster.sh start-node N   (re)start node N (1-3) alone, e.g. after `kill -9 $(cat .cluster/node2.pid)`
#   scripts/cluster.sh psql [args]    psql on the cluster's database, e.g. scripts/cluster.sh psql -c 'SELECT * FROM counters'
#
# Everything lives under ./.cluster (gitignored): PostgreSQL's data directory and log (.cluster/pg), each node's log and
# pid file (.cluster/nodeN.log, .cluster/nodeN.pid). PostgreSQL listens on 127.0.0.1 only, port 55432 (WB_PG_PORT), with
# trust authentication for local connections: a development server, never one to expose. It comes from the machine's
# binaries (/usr/lib/postgresql/<version>/bin, `apt-get install postgresql`); it refuses to run as root, so under root its
# commands run as the postgres user.
#
# Node N: HTTP on 127.0.0.1:508N, Akka on 127.0.0.1:405(2+N), --store postgres --durability journal, every node listing all
# three as seed nodes (a restarted node rejoins the running cluster through the others).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
state="$root/.cluster"
pg_dir="$state/pg"
pg_data="$pg_dir/data"
pg_port="${WB_PG_PORT:-55432}"
database="writebehind"
nodes=(1 2 3)
connection_string="Host=127.0.0.1;Port=$pg_port;Database=$database;Username=postgres"
host_dll="$root/src/Host/bin/Release/net10.0/Akka.WriteBehind.Host.dll"

http_port() { echo $((5080 + $1)); }
akka_port() { echo $((4052 + $1)); }
seed_nodes() {
  local seeds=() n
  for n in "${nodes[@]}"; do seeds+=("akka.tcp://writebehind@127.0.0.1:$(akka_port "$n")"); done
  (IFS=,; echo "${seeds[*]}")
}

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
    echo "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: apt-get install -y postgresql" >&2
    exit 1
  fi
  echo "$bin"
}

# runs a server binary, as the postgres user when we are root
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_running() { [ -f "$pg_data/postmaster.pid" ] && as_pg "$(pg_bin)/pg_ctl" -D "$pg_data" status > /dev/null 2>&1; }

start_pg() {
  local bin
  bin=$(pg_bin)
  mkdir -p "$pg_dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$pg_dir"; fi
  if [ ! -f "$pg_data/PG_VERSION" ]; then
    echo "initdb $pg_data"
    as_pg "$bin/initdb" -D "$pg_data" -U postgres --auth=trust --encoding=UTF8 --no-locale > "$pg_dir/initdb.log"
  fi
  if pg_running; then
    echo "PostgreSQL already running on 127.0.0.1:$pg_port"
  else
    # three nodes take up to 3 x 35 connections (postgres.conf): more than the default max_connections of 100
    as_pg "$bin/pg_ctl" -D "$pg_data" -l "$pg_dir/server.log" -w -t 60 \
      -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=200" start > /dev/null
    echo "PostgreSQL started on 127.0.0.1:$pg_port (data $pg_data, log $pg_dir/server.log)"
  fi
  if [ "$(psql_cmd -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" != "1" ]; then
    psql_cmd -d postgres -qc "CREATE DATABASE $database"
    echo "database $database created"
  fi
}

psql_cmd() { "$(pg_bin)/psql" -h 127.0.0.1 -p "$pg_port" -U postgres "$@"; }

node_pid() { cat "$state/node$1.pid" 2>/dev/null || true; }

node_running() {
  local pid
  pid=$(node_pid "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

start_node() {
  local n=$1
  if node_running "$n"; then
    echo "node $n already running (pid $(node_pid "$n"))"
    return
  fi
  mkdir -p "$state/node$n"
  : > "$state/node$n.log"
  nohup dotnet "$host_dll" \
    --http-port "$(http_port "$n")" --akka-port "$(akka_port "$n")" --seed-nodes "$(seed_nodes)" \
    --store postgres --connection-string "$connection_string" --durability journal \
    --data-dir "$state/node$n" >> "$state/node$n.log" 2>&1 &
  echo $! > "$state/node$n.pid"
}

wait_up() {
  local n=$1 waited=0
  until grep -q "Akka.WriteBehind node up" "$state/node$n.log" 2>/dev/null; do
    if ! node_running "$n"; then
      echo "node $n exited before it was up; last lines of $state/node$n.log:" >&2
      tail -n 20 "$state/node$n.log" >&2
      exit 1
    fi
    if [ "$waited" -ge 120 ]; then
      echo "node $n is not up after 120s; see $state/node$n.log" >&2
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  grep "Akka.WriteBehind node up" "$state/node$n.log" | tail -n 1
}

build() {
  echo "building the Host (Release)"
  dotnet build "$root/src/Host" -c Release --nologo -v quiet > "$state/build.log" 2>&1 || {
    tail -n 30 "$state/build.log" >&2
    exit 1
  }
}

cmd_start() {
  mkdir -p "$state"
  start_pg
  build
  local n
  for n in "${nodes[@]}"; do start_node "$n"; done
  for n in "${nodes[@]}"; do wait_up "$n"; done
  echo
  echo "cluster up:"
  for n in "${nodes[@]}"; do echo "  node $n: http://127.0.0.1:$(http_port "$n")  akka.tcp://writebehind@127.0.0.1:$(akka_port "$n")  pid $(node_pid "$n")  log .cluster/node$n.log"; done
  echo "  PostgreSQL: psql -h 127.0.0.1 -p $pg_port -U postgres $database   (or scripts/cluster.sh psql)"
}

cmd_start_node() {
  local n=${1:-}
  case "$n" in 1|2|3) ;; *) echo "usage: $0 start-node 1|2|3" >&2; exit 2 ;; esac
  mkdir -p "$state"
  pg_running || { echo "PostgreSQL is not running: scripts/cluster.sh start" >&2; exit 1; }
  [ -f "$host_dll" ] || build
  start_node "$n"
  wait_up "$n"
}

cmd_stop() {
  local n pid stopping=()
  for n in "${nodes[@]}"; do
    if node_running "$n"; then
      pid=$(node_pid "$n")
      kill -TERM "$pid"
      stopping+=("$n")
      echo "node $n (pid $pid): SIGTERM"
    fi
  done
  for n in "${stopping[@]}"; do
    pid=$(node_pid "$n")
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "node $n (pid $pid) still running after 120s; stop it yourself: kill -9 $pid" >&2
    else
      echo "node $n stopped"
    fi
  done
  rm -f "$state"/node*.pid
  if pg_running; then
    as_pg "$(pg_bin)/pg_ctl" -D "$pg_data" -m fast -w -t 60 stop > /dev/null
    echo "PostgreSQL stopped (its data stays in $pg_data)"
  fi
}

cmd_status() {
  local n
  if pg_running; then echo "PostgreSQL: running on 127.0.0.1:$pg_port"; else echo "PostgreSQL: stopped"; fi
  for n in "${nodes[@]}"; do
    if node_running "$n"; then
      echo "node $n: running (pid $(node_pid "$n")), http://127.0.0.1:$(http_port "$n") $(curl -fsS "http://127.0.0.1:$(http_port "$n")/health" 2>/dev/null || echo '(no answer)')"
    else
      echo "node $n: stopped"
    fi
  done
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  start-node) shift; cmd_start_node "$@" ;;
  psql) shift; psql_cmd -d "$database" "$@" ;;
  *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
