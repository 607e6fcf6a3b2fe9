#!/bin/bash
# Stands in for systemd when tests/cli/readme.rs runs the README tours: `systemctl restart
# influxdb|prometheus|prometheus-node-exporter` (re)starts the command of Debian's unit — its EnvironmentFile, its
# config, its user — from $ROOT instead of /, on the test's free loopback ports, and waits
# until it listens. Not for use outside the test.
set -euo pipefail
case "$1" in
  daemon-reload) exit 0 ;;
  restart | reload) ;;
  *) echo "systemctl (test stand-in): '$*' is not supported" >&2; exit 1 ;;
esac
service=$2
mkdir -p "$ROOT/run" "$ROOT/log"
pidfile=$ROOT/run/$service.pid
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
case $service in
  influxdb)
    port=$INFLUX_PORT
    (
      set -a
      # shellcheck disable=SC1091
      [ -f "$ROOT/etc/default/influxdb" ] && . "$ROOT/etc/default/influxdb"
      set +a
      exec > "$ROOT/log/influxdb.log" 2>&1
      exec setpriv --reuid=influxdb --regid="$(id -g influxdb)" --init-groups -- \
        influxd -config "$ROOT/etc/influxdb/influxdb.conf"
    ) &
    ;;
  prometheus)
    port=$PROM_PORT
    (
      # shellcheck disable=SC1091
      . "$ROOT/etc/default/prometheus"
      exec > "$ROOT/log/prometheus.log" 2>&1
      # shellcheck disable=SC2086
      exec setpriv --reuid=prometheus --regid="$(id -g prometheus)" --init-groups -- \
        prometheus --config.file="$ROOT/etc/prometheus/prometheus.yml" \
        --web.listen-address="127.0.0.1:$port" --storage.tsdb.path="$ROOT/var/lib/prometheus" $ARGS
    ) &
    ;;
  prometheus-node-exporter)
    port=$NODE_PORT
    (
      # shellcheck disable=SC1091
      . "$ROOT/etc/default/prometheus-node-exporter"
      exec > "$ROOT/log/$service.log" 2>&1
      # shellcheck disable=SC2086
      exec setpriv --reuid=prometheus --regid="$(id -g prometheus)" --init-groups -- \
        prometheus-node-exporter --web.listen-address="127.0.0.1:$port" $ARGS
    ) &
    ;;
  *) echo "systemctl (test stand-in): unknown service $service" >&2; exit 1 ;;
esac
echo $! > "$pidfile"
for _ in $(seq 300); do
  if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then exit 0; fi
  sleep 0.1
done
echo "$service did not start listening on $port:" >&2
tail -n 20 "$ROOT/log/$service.log" >&2
exit 1
