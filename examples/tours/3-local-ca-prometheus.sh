# Tour 3: a local CA for several servers, and Prometheus scraping itself over TLS.

# 1. Once: the CA. Name constraints keep a leaked CA key from signing for other domains.
sudo certtool ca init --out-dir /etc/ssl/metrics-ca --cn "Metrics CA" \
     --permitted-dns example.com --permitted-dns localhost --permitted-ip 127.0.0.0/8

# 2. Per server: a leaf whose .crt holds the chain (leaf, then CA), owned by its service.
sudo certtool ca issue --ca-cert /etc/ssl/metrics-ca/ca.crt --ca-key /etc/ssl/metrics-ca/ca.key \
     --host prometheus.example.com --host localhost --host 127.0.0.1 --name prometheus \
     --out-dir /etc/ssl/prometheus --owner prometheus:prometheus
#    A wildcard for a whole subdomain, checked for a name under it with the integrated server:
sudo certtool ca issue --ca-cert /etc/ssl/metrics-ca/ca.crt --ca-key /etc/ssl/metrics-ca/ca.key \
     --host '*.metrics.example.com' --name wildcard --out-dir /etc/ssl/metrics-ca/leaves
sudo certtool verify --cert /etc/ssl/metrics-ca/leaves/wildcard.crt \
     --key /etc/ssl/metrics-ca/leaves/wildcard.key --ca /etc/ssl/metrics-ca/ca.crt \
     --host grafana.metrics.example.com

# 3. Prometheus's own TLS (web-config.yml), and its self-scrape job switched to https.
sudo certtool config prometheus --cert /etc/ssl/prometheus/prometheus.crt \
     --key /etc/ssl/prometheus/prometheus.key --out /etc/prometheus/web-config.yml
sudo certtool config prometheus-scrape --ca /etc/ssl/metrics-ca/ca.crt --job prometheus \
     --in-place /etc/prometheus/prometheus.yml
sudo sed -i 's|^ARGS=""|ARGS="--web.config.file=/etc/prometheus/web-config.yml"|' \
     /etc/default/prometheus
sudo systemctl restart prometheus

# 4. Prove it: the chain leads to the CA, /-/healthy answers, and (after one scrape interval,
#    5 s in Debian's job) the self-scrape job is up over https.
certtool verify --url https://localhost:9090 --ca /etc/ssl/metrics-ca/ca.crt
sleep 6
curl --silent --cacert /etc/ssl/metrics-ca/ca.crt --get \
     --data-urlencode 'query=up{job="prometheus"}' https://localhost:9090/api/v1/query

# 5. Monitoring and renewal, e.g. daily from cron: exit 1 if anything expires within 30 days.
sudo certtool check /etc/ssl/prometheus /etc/ssl/influxdb --within 30d
sudo certtool renew /etc/ssl/prometheus/prometheus.crt --within 30d \
     --ca-cert /etc/ssl/metrics-ca/ca.crt --ca-key /etc/ssl/metrics-ca/ca.key \
     --exec 'systemctl reload prometheus'
