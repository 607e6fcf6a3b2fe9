# Tour 8: a certificate from your company's CA for InfluxDB (after tours 1 to 3).
# 1. A key that never leaves this host, and a request for it (CN and SANs from --host).
sudo certtool csr --host influx.example.com --host localhost --subject 'O=Example Corp,C=DE' \
     --out-dir /etc/ssl/influxdb --name influxdb-corp --owner influxdb:influxdb
certtool inspect /etc/ssl/influxdb/influxdb-corp.csr

# 2. Send influxdb-corp.csr to the CA. (Here tour 3's local CA stands in for it.)
sudo certtool ca sign /etc/ssl/influxdb/influxdb-corp.csr --ca-cert /etc/ssl/metrics-ca/ca.crt \
     --ca-key /etc/ssl/metrics-ca/ca.key --out /etc/ssl/influxdb/from-the-ca.crt

# 3. Install what came back: the key must match, the hosts be covered, the chain reach the
#    root (--root, or one the system trusts); the chain is written in order beside the key.
sudo certtool import --cert /etc/ssl/influxdb/from-the-ca.crt \
     --key /etc/ssl/influxdb/influxdb-corp.key --host influx.example.com --host localhost \
     --root /etc/ssl/metrics-ca/ca.crt --owner influxdb:influxdb

# 4. influxd serves it; clients that trust the company root trust the server.
sudo certtool config influxdb --cert /etc/ssl/influxdb/influxdb-corp.crt \
     --key /etc/ssl/influxdb/influxdb-corp.key --in-place /etc/influxdb/influxdb.conf
sudo systemctl restart influxdb
certtool verify --url https://localhost:8086 --ca /etc/ssl/metrics-ca/ca.crt
