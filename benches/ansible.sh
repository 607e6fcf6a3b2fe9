#!/usr/bin/env bash
# The Ansible comparison (issue 14, section 6): a local CA, a server certificate and InfluxDB's
# [http] keys for one host, first run and second (idempotent) run, with certtool (one task,
# benches/ansible/certtool.yml) and with the incumbent community.crypto modules (7 tasks,
# benches/ansible/community-crypto.yml), against localhost. Target: certtool <= 0.3x, both runs.
# Medians over ROUNDS fresh directories; each run's PLAY RECAP is checked (the first run
# changes something, the second nothing), so a failed or non-idempotent run is not timed as fast.
#
#   benches/ansible.sh                 # makes a venv with Ansible from PyPI in target/bench-tools
#   ROUNDS=9 benches/ansible.sh
#   ANSIBLE_VENV=/path/to/venv benches/ansible.sh   # a venv that has ansible (>= 12) and cryptography
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
venv=${ANSIBLE_VENV:-$PWD/target/bench-tools/ansible}
if [ ! -x "$venv/bin/ansible-playbook" ]; then
    # The `ansible` package carries the community.crypto and community.general collections;
    # community.crypto's modules need the cryptography package.
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'ansible>=12,<13' cryptography >&2
fi
cargo build --release --quiet
bin=$PWD/target/release/certtool
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run_play PLAYBOOK DIR EXPECT: runs the play, prints its wall time in seconds, and fails unless
# the recap's changed= count is EXPECT ("some" or "0") with failed=0.
run_play() {
    local play=$1 dir=$2 expect=$3 start end recap changed
    start=$(date +%s.%N)
    recap=$("$venv/bin/ansible-playbook" -i localhost, "benches/ansible/$play" \
        -e "dir=$dir" -e "certtool=$bin" -e "ansible_python_interpreter=$venv/bin/python" 2>&1) \
        || { echo "$recap" >&2; exit 1; }
    end=$(date +%s.%N)
    changed=$(echo "$recap" | sed -n 's/^localhost .*changed=\([0-9]*\).*failed=0 .*/\1/p')
    if [ -z "$changed" ] || { [ "$expect" = 0 ] && [ "$changed" != 0 ]; } || { [ "$expect" = some ] && [ "$changed" = 0 ]; }; then
        echo "ansible.sh: $play did not change $expect things:" >&2; echo "$recap" >&2; exit 1
    fi
    python3 -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$start" "$end"
}

for play in certtool community-crypto; do
    : > "$work/$play.first"; : > "$work/$play.second"
done
for r in $(seq 1 "$ROUNDS"); do
    for play in certtool community-crypto; do
        dir=$work/$play.$r
        mkdir -p "$dir/ca" "$dir/out"
        printf '[http]\n  # https-enabled = false\n' > "$dir/influxdb.conf"
        run_play "$play.yml" "$dir" some >> "$work/$play.first"
        run_play "$play.yml" "$dir" 0 >> "$work/$play.second"
    done
done
python3 - "$work" "$ROUNDS" <<'PY'
import statistics, sys
work, rounds = sys.argv[1], sys.argv[2]
med = lambda name: statistics.median(float(x) for x in open(f"{work}/{name}").read().split())
print("| what | certtool | community.crypto | ratio |")
print("|---|---|---|---|")
for run in ("first", "second"):
    a, b = med(f"certtool.{run}"), med(f"community-crypto.{run}")
    print("| Ansible, CA + server certificate + config, %s run (median of %s) | %.2f s (1 task) | %.2f s (7 tasks) | %.2fx |" % (run, rounds, a, b, a / b))
PY
