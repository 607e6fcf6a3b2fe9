# Tour 7: node exporter in one command, with TLS and basic auth (after tours 3 and 6).
# The password Prometheus sends, readable by Prometheus; node exporter stores only its bcrypt hash.
sudo certtool secret generate --out /etc/prometheus/node.password --owner prometheus:prometheus
# The pair from the local CA, the web config, --web.config.file in ARGS of Debian's
# /etc/default/prometheus-node-exporter, Prometheus's node job over https with the password,
# the restarts, and the proof: 401 without the password, 200 with it.
sudo certtool provision node-exporter --host localhost --host 127.0.0.1 \
     --ca-dir /etc/ssl/metrics-ca --out-dir /etc/ssl/node-exporter \
     --owner prometheus:prometheus --web-config /etc/prometheus/node-web.yml \
     --env-file /etc/default/prometheus-node-exporter \
     --basic-auth-user prometheus --secret-file /etc/prometheus/node.password \
     --config /etc/prometheus/prometheus.yml --job node --port 9100 \
     --reload 'systemctl restart prometheus-node-exporter && systemctl reload prometheus' \
     --verify

# What Prometheus sees (after a scrape interval, 15 s in Debian's config): the node job is up.
sleep 16
curl --silent --cacert /etc/ssl/metrics-ca/ca.crt --get \
     --data-urlencode 'query=up{job="node"}' https://localhost:9090/api/v1/query
