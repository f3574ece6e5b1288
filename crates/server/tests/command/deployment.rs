//! What docs/DEPLOYMENT.md ships and says: the systemd unit in contrib/ passes
//! `systemd-analyze verify`, and the guide's nginx sub-path configuration
//! serves Tollgate's documents with the client's own address.

use std::path::Path;
use std::process::Command;

use crate::support::*;

const UNIT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../contrib/systemd/tollgate.service"
);

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let found = Command::new("systemd-analyze").arg("--version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        // CI installs systemd's tools when it can; without them there is nothing to ask.
        assert!(
            std::env::var_os("CI").is_none(),
            "systemd-analyze is missing under CI"
        );
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    }
    let unit = std::fs::read_to_string(UNIT).unwrap();
    assert!(
        unit.contains("ExecStart=/usr/local/bin/tollgate serve"),
        "{unit}"
    );
    // verify checks that the binary exists: point the unit at the one just built.
    let unit = unit.replace("/usr/local/bin/tollgate", env!("CARGO_BIN_EXE_tollgate"));
    let dir = TempDir::new();
    let path = dir.0.join("tollgate.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .unwrap();
    // Unknown or misspelt directives are only warned about: any word on stderr fails.
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "systemd-analyze verify {}: {}",
        Path::new(UNIT).display(),
        stderr(&out)
    );
}

#[test]
fn the_unit_keeps_its_hardening_and_reads_the_secret_key_as_a_credential() {
    let unit = std::fs::read_to_string(UNIT).unwrap();
    for line in [
        "DynamicUser=yes",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=tollgate",
        "LoadCredential=secret_key:/etc/tollgate/secret_key",
        "Environment=TOLLGATE_SECRET_KEY_FILE=%d/secret_key",
        "KillSignal=SIGTERM",
    ] {
        assert!(
            unit.lines().any(|l| l == line),
            "{line} missing from the unit"
        );
    }
}

/// nginx, configured as docs/DEPLOYMENT.md's sub-path section says, in front
/// of `tollgate serve`; `None` (said on stderr) where nginx is not installed.
struct Nginx {
    child: std::process::Child,
    base: String,
}

impl Nginx {
    fn start_on(dir: &Path, upstream: &str, port: u16) -> Option<Nginx> {
        if Command::new("nginx").arg("-v").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "nginx is missing under CI"
            );
            eprintln!("skipped: nginx is not installed");
            return None;
        }
        let prefix = dir.join("nginx");
        std::fs::create_dir_all(&prefix).unwrap();
        let conf = format!(
            r#"worker_processes 1;
pid {prefix}/nginx.pid;
events {{}}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    server {{
        listen 127.0.0.1:{port};
        location /auth/ {{
            proxy_pass http://{upstream}/;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
        location = /.well-known/oauth-authorization-server/auth {{
            proxy_pass http://{upstream};
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"#,
            prefix = prefix.display()
        );
        std::fs::write(prefix.join("nginx.conf"), conf).unwrap();
        let child = Command::new("nginx")
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(prefix.join("nginx.conf"))
            .args(["-e", "stderr", "-g", "daemon off;"])
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "nginx did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Some(Nginx {
            child,
            base: format!("http://127.0.0.1:{port}"),
        })
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // TERM, not KILL: the master then stops its workers, which a KILL would orphan.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_nginx_on_a_sub_path_as_the_guide_says() {
    let dir = TempDir::new();
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}/auth");
    // Tollgate first (its port is only known once it listens), then the proxy in front.
    let server = Server::start(
        &dir.0,
        &[
            ("TOLLGATE_ISSUER", issuer.as_str()),
            ("TOLLGATE_PUBLIC_PATH", "/auth"),
            ("TOLLGATE_TRUSTED_PROXIES", "[\"127.0.0.1\"]"),
        ],
    );
    let upstream = server.base.trim_start_matches("http://").to_owned();
    let Some(nginx) = Nginx::start_on(&dir.0, &upstream, port) else {
        return;
    };
    // The browser is at 127.0.0.3, the proxy reaches Tollgate from 127.0.0.1.
    let http = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 3]))
        .build()
        .unwrap();
    let get = |path: &str| http.get(format!("{}{path}", nginx.base)).send();

    let discovery: serde_json::Value = get("/auth/.well-known/openid-configuration")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], issuer.as_str());
    assert_eq!(
        discovery["authorization_endpoint"],
        format!("{issuer}/o/authorize/").as_str()
    );
    let metadata = get("/.well-known/oauth-authorization-server/auth")
        .await
        .unwrap();
    assert_eq!(metadata.status(), 200);
    let metadata: serde_json::Value = metadata.json().await.unwrap();
    assert_eq!(metadata["issuer"], issuer.as_str());
    let jwks = get("/auth/o/.well-known/jwks.json").await.unwrap();
    assert_eq!(jwks.status(), 200);

    // A client cannot name itself: the address nginx saw is the one logged.
    let ready = http
        .get(format!("{}/auth/health/ready", nginx.base))
        .header("x-forwarded-for", "198.51.100.1")
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let logs = server.log_text();
    let line = logs
        .lines()
        .find(|l| l.contains("/health/ready") && l.contains("finished processing request"))
        .unwrap_or_else(|| panic!("no request line:\n{logs}"));
    assert!(line.contains("\"127.0.0.3\""), "{line}");
    assert!(!line.contains("198.51.100.1"), "{line}");
}
