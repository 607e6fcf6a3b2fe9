//! The README tours run, in order, as written (issue 13): they live in `examples/tours/`,
//! README.md includes each verbatim, and this test runs them with bash (`set -e`: a command
//! that fails fails the test) against a temporary root standing in for `/`, with Debian's own
//! influxdb.conf, prometheus.yml and /etc/default/prometheus, and the real influxd and
//! prometheus started as their users on free loopback ports by a stand-in for `systemctl`.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{TestEnv, bin, free_port, require, require_tool, stderr, stdout};

fn tours_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tours")
}

/// The tours, in order.
fn tours() -> Vec<(String, String)> {
    let mut tours: Vec<(String, String)> = fs::read_dir(tours_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "sh")
                && p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(char::is_numeric)
        })
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            (name, fs::read_to_string(&p).unwrap())
        })
        .collect();
    tours.sort();
    tours
}

#[test]
fn readme_includes_every_tour_verbatim() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let tours = tours();
    assert!(tours.len() >= 4);
    let mut last = 0;
    for (name, script) in tours {
        let block = format!("```sh\n{script}```\n");
        let at = readme
            .find(&block)
            .unwrap_or_else(|| panic!("README.md does not include examples/tours/{name} verbatim"));
        assert!(at > last, "{name} is out of order in README.md");
        last = at;
    }
}

/// Kills what the systemctl stand-in started, whatever happens to the test.
struct Services(PathBuf);

impl Drop for Services {
    fn drop(&mut self) {
        for service in ["influxdb", "prometheus", "prometheus-node-exporter"] {
            if let Ok(pid) = fs::read_to_string(self.0.join(format!("run/{service}.pid"))) {
                let _ = Command::new("kill").arg(pid.trim()).status();
            }
        }
    }
}

/// pebble standing in for Let's Encrypt, with an /etc/hosts of its own where
/// influx.example.com is 127.0.0.1, so that its http-01 validation reaches the tour's certtool
/// on loopback; and what replaces `--directory letsencrypt` in the tours.
fn lets_encrypt(root: &Path) -> (crate::support::Pebble, String) {
    let dir = root.join("pebble");
    fs::create_dir_all(&dir).unwrap();
    let pebble =
        crate::support::Pebble::start(&dir, &[], Some("127.0.0.1 localhost influx.example.com\n"));
    let flags = format!(
        "--directory {} --ca-bundle {} --bind 127.0.0.1 --http-port {} --account-dir {}/var/lib/certtool/acme",
        pebble.directory,
        pebble.bundle.display(),
        pebble.http_port,
        root.display()
    );
    (pebble, flags)
}

/// Debian's packaged files, as the packages install them, moved under `root` and onto the
/// test's ports (the tours themselves edit them with certtool).
fn install_packages(root: &Path, influx_port: u16, prom_port: u16, node_port: u16) {
    for dir in [
        "etc/influxdb",
        "etc/prometheus",
        "etc/default",
        "etc/ssl",
        "bin",
    ] {
        fs::create_dir_all(root.join(dir)).unwrap();
    }
    let root_s = root.display().to_string();
    let influxdb = fs::read_to_string("/etc/influxdb/influxdb.conf")
        .unwrap()
        .replace("/var/lib/influxdb", &format!("{root_s}/var/lib/influxdb"))
        .replace("# reporting-disabled = false", "reporting-disabled = true")
        .replace(
            "# bind-address = \"127.0.0.1:8088\"",
            &format!("bind-address = \"127.0.0.1:{}\"", free_port()),
        )
        .replace(
            "  # bind-address = \":8086\"",
            &format!("  bind-address = \"127.0.0.1:{influx_port}\""),
        );
    fs::write(root.join("etc/influxdb/influxdb.conf"), influxdb).unwrap();
    let prometheus = fs::read_to_string("/etc/prometheus/prometheus.yml")
        .unwrap()
        .replace("localhost:9090", &format!("localhost:{prom_port}"))
        .replace("localhost:9100", &format!("localhost:{node_port}"));
    fs::write(root.join("etc/prometheus/prometheus.yml"), prometheus).unwrap();
    for default in ["prometheus", "prometheus-node-exporter"] {
        fs::copy(
            format!("/etc/default/{default}"),
            root.join("etc/default").join(default),
        )
        .unwrap();
    }
    for (dir, user) in [
        ("var/lib/influxdb", "influxdb"),
        ("var/lib/prometheus", "prometheus"),
    ] {
        fs::create_dir_all(root.join(dir)).unwrap();
        let status = Command::new("chown")
            .args([
                "-R",
                &format!("{user}:"),
                &root.join(dir).display().to_string(),
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }
    // What the tours call by name: certtool itself, and stand-ins for sudo and systemctl.
    std::os::unix::fs::symlink(bin(), root.join("bin/certtool")).unwrap();
    fs::write(root.join("bin/sudo"), "#!/bin/sh\nexec \"$@\"\n").unwrap();
    fs::set_permissions(root.join("bin/sudo"), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink(
        tours_dir().join("systemctl-for-tests.sh"),
        root.join("bin/systemctl"),
    )
    .unwrap();
}

#[test]
fn readme_tours_run_in_order_as_written() {
    let root_user = nix::unistd::Uid::effective().is_root();
    let packaged = [
        "/etc/influxdb/influxdb.conf",
        "/etc/prometheus/prometheus.yml",
        "/etc/default/prometheus",
        "/etc/default/prometheus-node-exporter",
    ]
    .iter()
    .all(|p| Path::new(p).exists());
    if !(require(
        root_user,
        "root (the tours use --owner and run services as their users)",
    ) && require_tool("influxd")
        && require_tool("prometheus")
        && require_tool("prometheus-node-exporter")
        && require_tool("curl")
        && require_tool("setpriv")
        && require_tool("pebble")
        && require_tool("unshare")
        && require(
            packaged,
            "Debian's influxdb, prometheus and prometheus-node-exporter packages",
        ))
    {
        return;
    }
    let env = TestEnv::new();
    let root = fs::canonicalize(env.dir.path()).unwrap();
    // The services' users must reach their files, as under /.
    fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
    let (influx_port, prom_port, node_port) = (free_port(), free_port(), free_port());
    install_packages(&root, influx_port, prom_port, node_port);
    let _services = Services(root.clone());
    // Let's Encrypt, stood in for by pebble, which resolves influx.example.com to this host.
    let (pebble, acme_flags) = lets_encrypt(&root);
    let path = format!(
        "{}:{}",
        root.join("bin").display(),
        std::env::var("PATH").unwrap()
    );
    for (name, script) in tours() {
        // The only changes: / is the temporary root, the ports are free ones, and Let's
        // Encrypt is pebble on loopback (with its account directory under the root).
        let script = script
            .replace("--directory letsencrypt", &acme_flags)
            .replace(" /etc/", &format!(" {}/etc/", root.display()))
            .replace("=/etc/", &format!("={}/etc/", root.display()))
            .replace("|/etc/", &format!("|{}/etc/", root.display()))
            .replace(":8086", &format!(":{influx_port}"))
            .replace(":9090", &format!(":{prom_port}"))
            .replace(":9100", &format!(":{node_port}"))
            .replace("--port 9100", &format!("--port {node_port}"));
        assert!(!script.contains(" /etc/"), "{name}: {script}");
        let out = Command::new("bash")
            .args(["-e", "-o", "pipefail", "-c", &script])
            .current_dir(&root)
            .env("PATH", &path)
            .env("ROOT", &root)
            .env("INFLUX_PORT", influx_port.to_string())
            .env("PROM_PORT", prom_port.to_string())
            .env("NODE_PORT", node_port.to_string())
            .env("NO_COLOR", "1")
            .env_remove("INFLUXDB_HTTP_SHARED_SECRET")
            .output()
            .unwrap();
        let log = |service: &str| {
            fs::read_to_string(root.join(format!("log/{service}.log"))).unwrap_or_default()
        };
        assert!(
            out.status.success(),
            "examples/tours/{name} failed ({:?}):\n--- stdout\n{}\n--- stderr\n{}\n--- influxd\n{}\n--- prometheus\n{}\n--- node exporter\n{}",
            out.status,
            stdout(&out),
            stderr(&out),
            log("influxdb"),
            log("prometheus"),
            log("prometheus-node-exporter"),
        );
        let text = stdout(&out);
        eprintln!("--- {name}\n{text}{}", stderr(&out));
        // Notes (what was written) go to stderr, listings to stdout: a tour shows both.
        let shown = format!("{text}{}", stderr(&out));
        what_each_tour_shows(&name, &shown, &root, prom_port);
    }
    // After tour 9, influxd serves the certificate from "Let's Encrypt": curl, trusting
    // pebble's root alone, reaches it by its public name.
    let served = Command::new("curl")
        .args(["--silent", "--show-error", "--fail", "--cacert"])
        .arg(&pebble.root)
        .arg("--resolve")
        .arg(format!("influx.example.com:{influx_port}:127.0.0.1"))
        .arg(format!("https://influx.example.com:{influx_port}/ping"))
        .output()
        .unwrap();
    assert!(served.status.success(), "{}", stderr(&served));
}

/// What a tour must have printed, beyond exiting 0.
fn what_each_tour_shows(name: &str, text: &str, root: &Path, prom_port: u16) {
    match name {
        n if n.starts_with("1-") => assert!(
            text.contains("InfluxDB") && text.contains("answered GET /ping"),
            "{text}"
        ),
        n if n.starts_with("2-") => {
            assert!(text.contains("token for admin was accepted"), "{text}");
            assert!(text.contains("auth enforced"), "{text}");
            assert!(
                text.contains("\"results\""),
                "SHOW DATABASES with the token: {text}"
            );
        }
        n if n.starts_with("5-") => {
            for step in ["certificate", "config", "admin user"] {
                assert!(
                    text.contains(&format!("unchanged  {step:<11}")),
                    "{step}: {text}"
                );
            }
            assert!(
                text.contains("tls ok, service ok, token ok, auth ok"),
                "{text}"
            );
        }
        n if n.starts_with("6-") => {
            for step in ["ca", "certificate", "web config", "scrape job"] {
                assert!(
                    text.contains(&format!("unchanged  {step:<11}")),
                    "{step}: {text}"
                );
            }
            assert!(
                text.contains("Prometheus answered GET /-/healthy"),
                "{text}"
            );
        }
        n if n.starts_with("7-") => {
            for step in ["certificate", "web config", "env file", "scrape job"] {
                assert!(
                    text.contains(&format!("created    {step:<11}"))
                        || text.contains(&format!("changed    {step:<11}")),
                    "{step}: {text}"
                );
            }
            assert!(
                text.contains("401 without credentials, 200 as prometheus"),
                "{text}"
            );
            // Up means Prometheus, as its user, read the password file and scraped over TLS.
            let up = if text.contains(r#","1"]"#) {
                text.to_owned()
            } else {
                let ca = root.join("etc/ssl/metrics-ca/ca.crt");
                crate::support::prometheus_up(&ca, prom_port, "node")
            };
            assert!(
                up.contains(r#""job":"node""#) && up.contains(r#","1"]"#),
                "the node job is up over https with basic auth: {up}\n{}",
                fs::read_to_string(root.join("log/prometheus.log")).unwrap_or_default()
            );
        }
        n if n.starts_with("9-") => {
            for shown in ["Issued by CN=Pebble Intermediate CA", "not due ("] {
                assert!(text.contains(shown), "{shown}: {text}");
            }
        }
        n if n.starts_with("8-") => {
            for shown in [
                "signature:   ecdsa-with-SHA256 (valid: made with this key)",
                "ok    chain     CN=influx.example.com -> root CN=Metrics CA (among the certificates given)",
                "answered GET /ping",
            ] {
                assert!(text.contains(shown), "{shown}: {text}");
            }
        }
        n if n.starts_with("3-") => {
            assert!(
                text.contains("Prometheus answered GET /-/healthy"),
                "{text}"
            );
            assert!(
                text.contains(r#","1"]"#) || prometheus_up_later(root, prom_port),
                "{text}"
            );
        }
        _ => {}
    }
}

/// The self-scrape job may need a scrape interval to come up after the restart.
fn prometheus_up_later(root: &Path, port: u16) -> bool {
    let ca = root.join("etc/ssl/metrics-ca/ca.crt");
    crate::support::prometheus_up(&ca, port, "prometheus").contains(r#","1"]"#)
}
