#!/usr/bin/env bash
# Whole-process comparisons: certtool against the openssl commands it replaces, and against a
# trivial `fn main(){}` binary (the floor for process start-up). Medians of paired runs with
# hyperfine; results go to stdout as a Markdown table for README.md.
#
#   benches/compare.sh            # builds release, needs hyperfine, openssl, rustc
#   RUNS=40 benches/compare.sh    # more runs (RSA always uses at least 40)
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
    python3 -c 'import sys; a,b=float(sys.argv[2]),float(sys.argv[3]); print("| %s | %.2f ms | %.2f ms (%s) | %.2fx |" % (sys.argv[1],a,b,sys.argv[4],a/b))' "$@"
}

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
a=$(median_ms version "$RUNS" "$bin --version"); b=$(median_ms trivial "$RUNS" "$work/trivial")
row "certtool --version vs fn main(){}" "$a" "$b" "trivial binary"
