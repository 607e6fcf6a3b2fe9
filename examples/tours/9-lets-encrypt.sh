# Tour 9: a certificate from Let's Encrypt for InfluxDB, renewed when due.
# The CA checks that influx.example.com resolves to this host and that port 80 answers there:
# certtool listens on it for the second the exchange takes (--webroot for a running web server).
sudo certtool acme issue --directory letsencrypt --email ops@example.com \
     --host influx.example.com --out-dir /etc/ssl/influxdb --name influxdb-le \
     --owner influxdb:influxdb
sudo certtool config influxdb --cert /etc/ssl/influxdb/influxdb-le.crt \
     --key /etc/ssl/influxdb/influxdb-le.key --in-place /etc/influxdb/influxdb.conf
sudo systemctl restart influxdb

# Daily from cron or a timer: quiet and quick until it is due (30 days before expiry, or
# earlier if the CA's renewal information says so), then a new certificate and the restart.
sudo certtool acme renew /etc/ssl/influxdb/influxdb-le.crt --directory letsencrypt \
     --exec 'systemctl restart influxdb'
