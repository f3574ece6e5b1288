//! `tollgate check [--deploy]`: the configuration loads and the database
//! answers; with `--deploy`, every security weakness of the deployment
//! (`tollgate::core::deploy_check`), and a failure if any is an error.

use tollgate::core::Clock;
use tollgate::core::deploy_check::{self, Deployment, KeyFacts, Severity, Strict};
use tollgate::keys::{KeyStatus, rsa_modulus_bits};
use tollgate::system::SystemClock;

use serde_json::{Value, json};

use super::output::print_json;
use super::{Failure, fail, open_store};
use crate::cli::Output;
use crate::config::Config;

pub async fn run(config: &Config, deploy: bool, output: Output) -> Result<(), Failure> {
    let store = open_store(config).await?;
    store.ping().await?;
    if !deploy {
        if output.json {
            print_json(&json!({ "issues": [], "errors": 0 }));
        } else {
            println!("System check identified no issues.");
        }
        return Ok(());
    }
    let settings = &config.provider;
    let now = SystemClock.now();
    let clients = store.applications(None).await?;
    let keys = store.signing_keys(now).await?;
    let keys: Vec<KeyFacts> = keys
        .iter()
        .map(|k| KeyFacts {
            kid: k.kid.clone(),
            algorithm: k.algorithm,
            created_at: k.created_at,
            signing: KeyStatus::of(k, &keys, now) == KeyStatus::Signing,
            rsa_bits: rsa_modulus_bits(&k.public_jwk),
        })
        .collect();
    let findings = deploy_check::check(&Deployment {
        issuer: &settings.issuer,
        pkce_required: settings.pkce_always_required(),
        refresh_token_reuse_protection: settings.refresh_token_reuse_protection,
        allowed_redirect_uri_schemes: &settings.allowed_redirect_uri_schemes,
        front_channel_access_tokens: settings.front_channel_access_tokens(),
        password_grant_allowed: settings.password_grant_allowed(),
        clients: &clients,
        keys: &keys,
        key_max_age_seconds: i64::try_from(
            settings.signing_key_max_age_days.saturating_mul(86_400),
        )
        .unwrap_or(i64::MAX),
        now,
        strict: Strict {
            refresh_token: settings.compliant_bcp_rfc9700_refresh_token,
            redirect_uri_scheme: settings.compliant_bcp_rfc9700_redirect_uri_scheme,
            redirect_uri_matching: settings.compliant_bcp_rfc9700_redirect_uri_matching,
            pkce_required: settings.compliant_bcp_rfc9700_pkce_required,
        },
        fapi2: settings.fapi2_security_profile,
        code_lifetime_seconds: settings.authorization_code_expire_seconds,
    });
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    if output.json {
        let issues: Vec<Value> = findings
            .iter()
            .map(
                |f| json!({ "id": f.id, "severity": f.severity.to_string(), "message": f.message }),
            )
            .collect();
        print_json(&json!({ "issues": issues, "errors": errors }));
    } else {
        print_findings(&findings, errors);
    }
    if errors > 0 {
        return Err(fail(format!("{errors} deployment check(s) failed")));
    }
    Ok(())
}

fn print_findings(findings: &[deploy_check::Finding], errors: usize) {
    for finding in findings {
        println!("{} {}: {}", finding.severity, finding.id, finding.message);
    }
    println!(
        "System check identified {} issue{} ({errors} error{}).",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        if errors == 1 { "" } else { "s" }
    );
}
