#!/usr/bin/env bash
# Whole-process comparisons: certtool against the openssl commands it replaces, and against a
# trivial `fn main(){}` binary (the floor for process start-up). Medians of paired runs with
# hyperfine; results go to stdout as a Markdown table for README.md.
#
#   benches/compare.sh            # builds release, needs hyperfine, openssl, rustc
#   RUNS=40 benches/compare.sh    # more runs (RSA always uses at least 40)
#   ROUNDS=15 benches/compare.sh  # more rounds for the rows against the trivial binary
#   STATIC=1 benches/compare.sh   # also a static glibc build (an experiment, not shipped)
#
# Optional baselines, each row skipped with a note when missing: cfssl (apt-get install
# golang-cfssl) and jwt-cli (installed here with `cargo install jwt-cli` into
# target/bench-tools, once).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
RSA_RUNS=$(( RUNS > 40 ? RUNS : 40 ))

for tool in hyperfine openssl rustc; do
    command -v "$tool" >/dev/null || { echo "compare.sh: $tool is required (apt-get install hyperfine openssl)" >&2; exit 2; }
done
cargo build --release --quiet
bin=$PWD/target/release/certtool
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo 'fn main() {}' > "$work/trivial.rs"
rustc -O -C strip=symbols -o "$work/trivial" "$work/trivial.rs"

# median_ms NAME COMMAND...: median wall time in milliseconds from hyperfine's JSON export.
median_ms() {
    local name=$1 runs=$2; shift 2
    hyperfine --style none --warmup 3 --runs "$runs" -N \
        --prepare "rm -f $work/out.crt $work/out.key" \
        --export-json "$work/$name.json" "$@" >/dev/null 2>"$work/$name.err" || { cat "$work/$name.err" >&2; exit 1; }
    python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$work/$name.json"
}

row() { # label certtool_ms other_ms other_label
    python3 -c 'import sys; a,b=float(sys.argv[2]),float(sys.argv[3]); print("| %s | %.2f ms | %.2f ms (%s) | %.3gx |" % (sys.argv[1],a,b,sys.argv[4],a/b))' "$@"
}

# startup_row LABEL CMD...: CMD against the trivial binary, in ROUNDS rounds that each run both
# (hyperfine runs one command's batch, then the other's). Prints the medians over rounds and the
# median of the per-round ratios, so drift between rounds cancels out of the ratio.
ROUNDS=${ROUNDS:-9}
startup_row() {
    local label=$1; shift
    local name=startup$((++startup_seq))
    for r in $(seq 1 "$ROUNDS"); do
        hyperfine --style none --warmup 3 --runs "$RUNS" -N --export-json "$work/$name.$r.json" \
            "$*" "$work/trivial" >/dev/null 2>"$work/$name.err" || { cat "$work/$name.err" >&2; exit 1; }
    done
    python3 - "$work/$name" "$ROUNDS" "$label" <<'PY'
import json, statistics, sys
base, rounds, label = sys.argv[1], int(sys.argv[2]), sys.argv[3]
a, b, r = [], [], []
for i in range(1, rounds + 1):
    res = json.load(open(f"{base}.{i}.json"))["results"]
    a.append(res[0]["median"]); b.append(res[1]["median"]); r.append(res[0]["median"] / res[1]["median"])
print("| %s | %.2f ms | %.2f ms (trivial binary) | %.3gx (rounds %.2f-%.2f) |" % (
    label, statistics.median(a) * 1000, statistics.median(b) * 1000, statistics.median(r), min(r), max(r)))
PY
}
startup_seq=0

ss() { echo "$bin selfsigned --host localhost --host 127.0.0.1 --days 365 --cert-out $work/out.crt --key-out $work/out.key --key-type $1"; }
req() { echo "openssl req -x509 -nodes -newkey $* -days 365 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout $work/out.key -out $work/out.crt"; }

echo "| what | certtool | baseline | ratio |"
echo "|---|---|---|---|"
a=$(median_ms ss-p256 "$RUNS" "$(ss ecdsa-p256)"); b=$(median_ms req-p256 "$RUNS" "$(req ec -pkeyopt ec_paramgen_curve:P-256)")
row "selfsigned ecdsa-p256 vs openssl req" "$a" "$b" "openssl req"
a=$(median_ms ss-ed "$RUNS" "$(ss ed25519)"); b=$(median_ms req-ed "$RUNS" "$(req ed25519)")
row "selfsigned ed25519 vs openssl req" "$a" "$b" "openssl req"
a=$(median_ms ss-rsa "$RSA_RUNS" "$(ss rsa-2048)"); b=$(median_ms req-rsa "$RSA_RUNS" "$(req rsa:2048)")
row "selfsigned rsa-2048 vs openssl req ($RSA_RUNS runs)" "$a" "$b" "openssl req"
startup_row "certtool --version vs fn main(){}" "$bin --version"

# --- A local CA: issuing an ECDSA P-256 leaf from an existing CA ---------------------------
"$bin" ca init --out-dir "$work" --name ca >/dev/null 2>&1
issue() { echo "$bin ca issue --ca-cert $work/ca.crt --ca-key $work/ca.key --host localhost --host 127.0.0.1 --days 365 --cert-out $work/out.crt --key-out $work/out.key"; }
req_ca() { echo "openssl req -x509 -CA $work/ca.crt -CAkey $work/ca.key -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 365 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -addext basicConstraints=CA:FALSE -keyout $work/out.key -out $work/out.crt"; }
a=$(median_ms issue "$RUNS" "$(issue)"); b=$(median_ms req-ca "$RUNS" "$(req_ca)")
row "ca issue ecdsa-p256 vs openssl req -x509 -CA" "$a" "$b" "openssl req -CA"
if command -v cfssl >/dev/null; then
    echo '{"CN":"localhost","hosts":["localhost","127.0.0.1"],"key":{"algo":"ecdsa","size":256}}' > "$work/csr.json"
    b=$(median_ms cfssl "$RUNS" "cfssl gencert -loglevel 5 -ca $work/ca.crt -ca-key $work/ca.key $work/csr.json")
    row "ca issue ecdsa-p256 vs cfssl gencert -ca (cfssl writes no files)" "$a" "$b" "cfssl gencert"
else
    echo "| ca issue vs cfssl gencert | skipped: apt-get install golang-cfssl | | |"
fi

# --- check over 1,000 certificates vs a shell loop of openssl x509 -checkend ----------------
mkdir -p "$work/many"
for i in $(seq 1 1000); do
    "$bin" selfsigned --host "host$i.test" --days $(( 20 + i % 400 )) --out-dir "$work/many" >/dev/null 2>&1
done
rm -f "$work"/many/*.key
loop="for f in $work/many/*.crt; do openssl x509 -checkend 2592000 -noout -in \$f >/dev/null || bad=1; done"
a=$(median_ms check 10 "bash -c '$bin check --within 30d $work/many >/dev/null; true'")
b=$(median_ms checkend 3 "bash -c \"$loop\"")
row "check 1,000 certificates vs openssl x509 -checkend loop" "$a" "$b" "bash loop"

# --- check at scale: 1,000 and 100,000 certificates, one bundle and one directory ------------
# Target: 100,000 in at most 2 s, and the time per certificate at 100,000 within 1.3x of that at
# 1,000, for text, --json and --prometheus. SCALE=0 skips this section (it writes ~130 MB).
if [ "${SCALE:-1}" != 0 ]; then
    "$bin" selfsigned --host scale.test --name scale --out-dir "$work" >/dev/null 2>&1
    python3 - "$work" <<'PY'
import os, sys
work = sys.argv[1]
cert = open(f"{work}/scale.crt").read()
for n in (1000, 100000):
    open(f"{work}/bundle{n}.pem", "w").write(cert * n)
    os.makedirs(f"{work}/dir{n}")
    for i in range(n):
        open(f"{work}/dir{n}/c{i:06}.crt", "w").write(cert)
PY
    for shape in bundle dir; do
        for fmt in text json prometheus; do
            case $fmt in
                text) flags="check" ;; json) flags="--json check" ;; prometheus) flags="check --prometheus" ;;
            esac
            small=$work/${shape}1000; big=$work/${shape}100000
            [ "$shape" = bundle ] && { small=$small.pem; big=$big.pem; }
            a=$(median_ms "s-$shape-$fmt" 10 "bash -c '$bin $flags $small >/dev/null'")
            b=$(median_ms "b-$shape-$fmt" 3 "bash -c '$bin $flags $big >/dev/null'")
            python3 -c 'import sys; a,b=float(sys.argv[2]),float(sys.argv[3]); print("| check %s: 100,000 certificates in %.0f ms (1,000 in %.1f ms) | per certificate %.1f us at 100,000, %.1f us at 1,000 | %.2fx |" % (sys.argv[1],b,a,b/100,a,(b/100000)/(a/1000)))' "$shape, $fmt" "$a" "$b"
        done
    done
    rm -rf "$work"/bundle* "$work"/dir*
fi

# --- JWT: one token, whole process ------------------------------------------------------------
jwt=$PWD/target/bench-tools/bin/jwt
if [ ! -x "$jwt" ]; then
    cargo install --quiet --locked jwt-cli --root "$PWD/target/bench-tools" >&2 || true
fi
head -c 32 /dev/urandom | base64 | tr -d '\n' > "$work/secret"
mint="$bin jwt mint --user telegraf --ttl 1h --secret-file $work/secret"
a=$(median_ms mint "$RUNS" "$mint")
if [ -x "$jwt" ]; then
    b=$(median_ms jwt-cli "$RUNS" "$jwt encode -S @$work/secret -P username=telegraf --exp=+1h --no-iat")
    row "jwt mint vs jwt encode (jwt-cli)" "$a" "$b" "jwt-cli"
else
    echo "| jwt mint vs jwt-cli | skipped: cargo install jwt-cli failed | | |"
fi
startup_row "jwt mint vs fn main(){}" "$mint"

# --- verify: the integrated server and client vs the client side of an openssl check ---------
"$bin" selfsigned --host localhost --name lh --out-dir "$work" >/dev/null 2>&1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl s_server -www -accept "127.0.0.1:$port" -cert "$work/lh.crt" -key "$work/lh.key" >/dev/null 2>&1 &
s_server=$!
trap 'kill $s_server 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.5
# hyperfine gives each command /dev/null as stdin, so s_client makes its handshake and quits.
verify="$bin verify --cert $work/lh.crt --key $work/lh.key"
sc="openssl s_client -verify_return_error -CAfile $work/lh.crt -servername localhost -verify_hostname localhost -connect 127.0.0.1:$port"
a=$(median_ms verify "$RUNS" "$verify")
b=$(median_ms s_client "$RUNS" "$sc")
row "verify --cert --key (2 handshakes) vs openssl s_client -verify_return_error" "$a" "$b" "s_client"
b13=$(median_ms s_client13 "$RUNS" "$sc -tls1_3"); b12=$(median_ms s_client12 "$RUNS" "$sc -tls1_2")
b2=$(python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) + float(sys.argv[2])))" "$b13" "$b12")
row "verify --cert --key vs the same two handshakes with s_client (-tls1_3, -tls1_2)" "$a" "$b2" "2x s_client"
startup_row "verify --cert --key vs fn main(){}" "$verify"

# --- Fleet verification: 100 TLS endpoints on loopback (openssl s_server on 100 ports) --------
: > "$work/targets"
fleet_pids=""
for i in $(seq 100); do
    p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    openssl s_server -quiet -accept "127.0.0.1:$p" -cert "$work/lh.crt" -key "$work/lh.key" -www >/dev/null 2>&1 &
    fleet_pids="$fleet_pids $!"
    echo "https://localhost:$p" >> "$work/targets"
done
sleep 2
loop="$work/s_client_loop.sh"
{ echo '#!/bin/sh'; while read -r u; do
    echo "openssl s_client -connect 127.0.0.1:${u##*:} -servername localhost -CAfile $work/lh.crt -verify_return_error </dev/null >/dev/null 2>&1"
  done < "$work/targets"; } > "$loop"; chmod +x "$loop"
a=$(median_ms fleet 10 "$bin verify --targets $work/targets --ca $work/lh.crt --kind tls")
b=$(median_ms s_client_loop 5 "$loop")
row "verify --targets, 100 endpoints vs a loop of openssl s_client -verify_return_error" "$a" "$b" "s_client loop"
kill $fleet_pids

# --- provision influxdb: the second (no-op) run, whole process; target <= 15 ms --------------
printf '[http]\n  # https-enabled = false\n' > "$work/influxdb.conf"
prov="$bin provision influxdb --host localhost --host 127.0.0.1 --out-dir $work/prov --config $work/influxdb.conf --auth"
$prov >/dev/null 2>&1
a=$(median_ms provision-noop "$RUNS" "$prov")
echo "| provision influxdb, second (no-op) run | $a ms | 15 ms (target) | $(python3 -c "import sys; print('%.3gx' % (float(sys.argv[1]) / 15))" "$a") |"

# --- With STATIC=1: the start-up rows again for a static glibc build (static-pie, x86_64) ------
# No dynamic loader: no libraries to map, no symbols to bind. Not shipped: README.md says why.
if [ "${STATIC:-0}" = 1 ] && [ "$(uname -m)" = x86_64 ]; then
    RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --quiet \
        --target x86_64-unknown-linux-gnu --target-dir target/static
    sbin=$PWD/target/static/x86_64-unknown-linux-gnu/release/certtool
    startup_row "static build: jwt mint vs fn main(){}" "$sbin jwt mint --user telegraf --ttl 1h --secret-file $work/secret"
    startup_row "static build: verify --cert --key vs fn main(){}" "$sbin verify --cert $work/lh.crt --key $work/lh.key"
    startup_row "static build: certtool --version vs fn main(){}" "$sbin --version"
fi
