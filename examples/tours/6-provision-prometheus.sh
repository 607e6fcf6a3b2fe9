# Tour 6: tour 3's Prometheus as one command (after tour 3 every step finds its work done).
# On a bare host it makes the pair from the local CA, writes the web config, turns the
# self-scrape job to https, reloads Prometheus when something changed, and installs a timer.
sudo certtool provision prometheus --host prometheus.example.com --host localhost \
     --host 127.0.0.1 --ca-dir /etc/ssl/metrics-ca --out-dir /etc/ssl/prometheus \
     --owner prometheus:prometheus --web-config /etc/prometheus/web-config.yml \
     --config /etc/prometheus/prometheus.yml --job prometheus \
     --reload 'systemctl reload prometheus' --renew-timer --systemd-dir /etc/systemd/system
certtool verify --url https://localhost:9090 --ca /etc/ssl/metrics-ca/ca.crt
