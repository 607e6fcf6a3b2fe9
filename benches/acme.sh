#!/usr/bin/env bash
# Issue 15, section 6: whole-process `certtool acme issue` against the same pebble as lego and
# certbot (Debian packages), with real HTTP-01 validation (PEBBLE_VA_NOSLEEP=1, and
# PEBBLE_AUTHZREUSE=0 so that no run skips its challenge), on loopback. Target: certtool at
# most 0.2x lego's median and 0.05x certbot's over at least 10 issuances each, and no slower
# than lego's fastest; `acme renew` when not due at most 5 ms.
#
#   benches/acme.sh              # needs pebble, lego, certbot, hyperfine (apt-get install)
#   RUNS=20 benches/acme.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
for tool in pebble lego certbot hyperfine curl; do
    command -v "$tool" >/dev/null || { echo "acme.sh: $tool is required (apt-get install pebble lego certbot hyperfine curl)" >&2; exit 2; }
done
cargo build --release --quiet
bin=$PWD/target/release/certtool
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port); management=$(free_port); http=$(free_port); tls=$(free_port)
"$bin" selfsigned --host 127.0.0.1 --host localhost --name pebble --out-dir "$work" >/dev/null 2>&1
cat > "$work/pebble.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$port", "managementListenAddress": "127.0.0.1:$management",
 "certificate": "$work/pebble.crt", "privateKey": "$work/pebble.key", "httpPort": $http,
 "tlsPort": $tls, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 pebble -config "$work/pebble.json" -strict=false >"$work/pebble.log" 2>&1 &
pebble_pid=$!
trap 'kill $pebble_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -s --cacert "$work/pebble.crt" "https://127.0.0.1:$port/dir" >/dev/null && break; sleep 0.1; done
dir="https://127.0.0.1:$port/dir"

# The account is registered once (each tool keeps and reuses its own), then RUNS issuances.
certtool="$bin acme issue --directory $dir --ca-bundle $work/pebble.crt --account-dir $work/acct --host localhost --http-port $http --bind 127.0.0.1 --out-dir $work/ct --force --quiet"
lego="env LEGO_CA_CERTIFICATES=$work/pebble.crt lego --server $dir --email x@example.com --domains localhost --accept-tos --http --http.port 127.0.0.1:$http --path $work/lego run"
certbot="env REQUESTS_CA_BUNDLE=$work/pebble.crt certbot certonly --standalone --non-interactive --agree-tos -m x@example.com --server $dir --http-01-port $http --http-01-address 127.0.0.1 -d localhost --config-dir $work/cb --work-dir $work/cb --logs-dir $work/cb --force-renewal"
for cmd in "$certtool" "$lego" "$certbot"; do $cmd >/dev/null 2>&1; done

measure() { # name command: prints "median min max" in ms
    hyperfine -N --style none --runs "$RUNS" --export-json "$work/$1.json" "$2" >/dev/null 2>"$work/$1.err" || { cat "$work/$1.err" >&2; exit 1; }
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f %.1f %.1f" % (r["median"]*1000, r["min"]*1000, r["max"]*1000))' "$work/$1.json"
}
read -r c_med c_min c_max < <(measure certtool "$certtool")
read -r l_med l_min l_max < <(measure lego "$lego")
read -r b_med b_min b_max < <(measure certbot "$certbot")
renew="$bin acme renew $work/ct/localhost.crt --directory $dir --ca-bundle $work/pebble.crt --account-dir $work/acct --quiet"
$renew >/dev/null 2>&1
read -r r_med r_min r_max < <(RUNS=30 measure renew "$renew")

echo "| acme issue, pebble, real HTTP-01 ($RUNS issuances each) | median | fastest | slowest | certtool's median as a ratio |"
echo "|---|---|---|---|---|"
echo "| certtool acme issue | $c_med ms | $c_min ms | $c_max ms | |"
python3 -c 'import sys; m,lo,hi,c=map(float,sys.argv[1:5]); print("| lego run (%s) | %.1f ms | %.1f ms | %.1f ms | %.3gx (target <= 0.2x; vs its fastest %.3gx, target <= 1x) |" % (sys.argv[5],m,lo,hi,c/m,c/lo))' "$l_med" "$l_min" "$l_max" "$c_med" "lego $(dpkg-query -W -f='${Version}' lego 2>/dev/null)"
python3 -c 'import sys; m,lo,hi,c=map(float,sys.argv[1:5]); print("| certbot certonly --standalone (%s) | %.1f ms | %.1f ms | %.1f ms | %.3gx (target <= 0.05x) |" % (sys.argv[5],m,lo,hi,c/m))' "$b_med" "$b_min" "$b_max" "$c_med" "certbot $(certbot --version 2>&1 | awk '{print $2}')"
echo "| certtool acme renew, not due (30 runs) | $r_med ms | $r_min ms | $r_max ms | target <= 5 ms |"
