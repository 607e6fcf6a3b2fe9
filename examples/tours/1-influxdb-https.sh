# Tour 1: HTTPS for InfluxDB 1.x with a self-signed certificate (Debian's influxdb package).

# 1. Key and certificate, owned by the service user, for every name clients use.
sudo certtool selfsigned --host influx.example.com --host localhost --host 127.0.0.1 \
     --days 825 --out-dir /etc/ssl/influxdb --name influxdb --owner influxdb:influxdb

# 2. What you have: names, expiry, and that the key belongs to the certificate (exit 1 if not).
sudo certtool inspect /etc/ssl/influxdb/influxdb.crt --key /etc/ssl/influxdb/influxdb.key

# 3. The 644/600 rule as a command: exit 1 when a mode or owner is wrong (--fix corrects it).
sudo certtool perms --owner influxdb:influxdb /etc/ssl/influxdb

# 4. HTTPS in the packaged config: --dry-run shows the diff; then the edit (old file kept as .bak).
sudo certtool config influxdb --cert /etc/ssl/influxdb/influxdb.crt \
     --key /etc/ssl/influxdb/influxdb.key --in-place /etc/influxdb/influxdb.conf --dry-run
sudo certtool config influxdb --cert /etc/ssl/influxdb/influxdb.crt \
     --key /etc/ssl/influxdb/influxdb.key --in-place /etc/influxdb/influxdb.conf
sudo systemctl restart influxdb

# 5. Prove it: TLS with hostname verification, the served chain, InfluxDB's /ping.
certtool verify --url https://localhost:8086 --ca /etc/ssl/influxdb/influxdb.crt
curl --fail --silent --show-error --cacert /etc/ssl/influxdb/influxdb.crt \
     --write-out '%{http_code}\n' https://localhost:8086/ping
