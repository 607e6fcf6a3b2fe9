# Tour 5: tours 1 and 2 as one command, for scripts and configuration management.
# On the host of tours 1 and 2 every step finds its work done; on a bare host it does it all:
# the pair, the [http] config, the secret in /etc/default/influxdb, the restart (only when
# something influxd reads changed), the first admin user, a daily renewal timer, and the proof.
sudo mkdir -p /etc/systemd/system
sudo certtool provision influxdb --host influx.example.com --host localhost --host 127.0.0.1 \
     --days 825 --out-dir /etc/ssl/influxdb --owner influxdb:influxdb \
     --config /etc/influxdb/influxdb.conf --auth --env-file /etc/default/influxdb \
     --admin-user admin --admin-password-file /etc/influxdb/admin.password \
     --reload 'systemctl restart influxdb' --renew-timer --systemd-dir /etc/systemd/system \
     --verify

# Run it again: nothing changes, nothing restarts ("changed": false with --json, exit 0).
sudo certtool provision influxdb --host influx.example.com --host localhost --host 127.0.0.1 \
     --days 825 --out-dir /etc/ssl/influxdb --owner influxdb:influxdb \
     --config /etc/influxdb/influxdb.conf --auth --env-file /etc/default/influxdb \
     --admin-user admin --admin-password-file /etc/influxdb/admin.password \
     --reload 'systemctl restart influxdb' --renew-timer --systemd-dir /etc/systemd/system \
     --verify --json | grep '"changed": false'
