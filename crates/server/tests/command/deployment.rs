//! What docs/DEPLOYMENT.md ships: the systemd unit in contrib/ passes
//! `systemd-analyze verify` (where systemd's tools are installed).

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
