# Tour 2: token authentication for InfluxDB 1.x (after tour 1).

# 1. A shared secret (0600, never replaced without --force), and auth-enabled in the config;
#    the secret goes to /etc/default/influxdb, which Debian's influxdb service reads.
sudo certtool secret generate --out /etc/influxdb/shared.secret
sudo certtool config influxdb --cert /etc/ssl/influxdb/influxdb.crt \
     --key /etc/ssl/influxdb/influxdb.key --auth --secret-file /etc/influxdb/shared.secret \
     --env-file /etc/default/influxdb --in-place /etc/influxdb/influxdb.conf
sudo systemctl restart influxdb

# 2. With auth on and no users, influxd refuses everything but creating the first admin
#    (certtool verify says so). The password comes from a file, not from argv.
sudo certtool secret generate --out /etc/influxdb/admin.password
sudo cat /etc/influxdb/admin.password \
     | sed "s/.*/CREATE USER admin WITH PASSWORD '&' WITH ALL PRIVILEGES/" \
     | curl --silent --cacert /etc/ssl/influxdb/influxdb.crt --data-urlencode q@- \
            https://localhost:8086/query

# 3. A token for admin, signed with the secret (the env file works as well as the secret file).
TOKEN=$(sudo certtool jwt mint --user admin --ttl 1h --secret-file /etc/default/influxdb)
curl --silent --cacert /etc/ssl/influxdb/influxdb.crt -H "Authorization: Bearer $TOKEN" \
     https://localhost:8086/query --data-urlencode 'q=SHOW DATABASES'
printf '%s\n' "$TOKEN" | sudo certtool jwt verify - --user admin \
     --secret-file /etc/influxdb/shared.secret

# 4. Prove it: the token is accepted, and a query without credentials is refused (exit 1 if not).
sudo certtool verify --url https://localhost:8086 --ca /etc/ssl/influxdb/influxdb.crt \
     --user admin --secret-file /etc/influxdb/shared.secret --require-auth
