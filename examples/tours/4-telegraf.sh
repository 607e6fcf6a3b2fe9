# Tour 4: Telegraf writing to InfluxDB over HTTPS (after tours 1 and 2).

# A drop-in for telegraf.d: the output trusts InfluxDB's certificate instead of skipping
# verification; the password comes from Telegraf's environment (INFLUX_PASSWORD).
sudo mkdir -p /etc/telegraf/telegraf.d
sudo certtool config telegraf --url https://localhost:8086 --ca /etc/ssl/influxdb/influxdb.crt \
     --database telegraf --username telegraf | sudo tee /etc/telegraf/telegraf.d/influxdb.conf
# Or, in the main telegraf.conf: its [[outputs.influxdb]] is switched to https in place.
#   sudo certtool config telegraf --url https://localhost:8086 \
#        --ca /etc/ssl/influxdb/influxdb.crt --in-place /etc/telegraf/telegraf.conf
