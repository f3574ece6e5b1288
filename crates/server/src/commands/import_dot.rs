//! `tollgate import-dot`: reads a django-oauth-toolkit database, writes what
//! it holds into Tollgate's in one transaction, and says what it did and what
//! it left behind. The summary goes to stdout; progress to stderr, on a terminal.

use std::collections::{BTreeMap, HashSet};
use std::io::{IsTerminal, Write};
use std::time::Instant;

use tollgate::core::Clock;
use tollgate::dot_import::{Plan, Skip, plan};
use tollgate::keys::import_rsa;
use tollgate::store::dot::{DotExport, DotSource};
use tollgate::store::{ImportCounts, ImportedKey, Tally};
use tollgate::system::SystemClock;

use super::{Failure, fail, open_store, redact};
use crate::cli::ImportDot;
use crate::config::Config;

pub async fn run(config: &Config, args: ImportDot) -> Result<(), Failure> {
    let started = Instant::now();
    let shown = redact(&args.source);
    let now = SystemClock.now();
    let settings = &config.provider;
    let key = match &args.oidc_rsa_private_key {
        Some(path) => {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
            let key = import_rsa(&pem, now, settings.sealer().as_ref())
                .map_err(|e| fail(format!("{}: {e}", path.display())))?;
            let superseded_for =
                i64::try_from(settings.id_token_expire_seconds).unwrap_or(i64::MAX);
            Some(ImportedKey {
                key,
                retire_superseded_at: now.saturating_add(superseded_for),
            })
        }
        None => None,
    };
    let mut source = DotSource::open(&args.source)
        .await
        .map_err(|e| fail(format!("{shown}: {e}")))?;
    let export = source
        .read()
        .await
        .map_err(|e| fail(format!("{shown}: {e}")))?;
    let version = export.migrations.last().cloned().unwrap_or_default();
    let store = open_store(config).await?;
    let users_here: HashSet<i64> = store.users().await?.iter().map(|u| u.id).collect();
    // Secrets DOT kept in clear are hashed now: argon2id for short ones, off the executor.
    let (mut planned, export) = {
        let settings = settings.clone();
        tokio::task::spawn_blocking(move || {
            plan(&export, &settings, &users_here, now).map(|p| (p, export))
        })
        .await
        .map_err(|e| fail(format!("import planning stopped: {e}")))??
    };
    planned.import.key = key;
    let mut progress = ProgressLine::new(std::io::stderr().is_terminal());
    let counts = store
        .import(
            &planned.import,
            args.dry_run,
            now,
            &mut |kind, done, total| progress.show(kind, done, total),
        )
        .await
        .map_err(|e| fail(format!("nothing was imported: {e}")))?;
    progress.finish();
    print!(
        "{}",
        summary(&shown, &version, &export, &planned, &counts, args.dry_run)
    );
    println!("Took {:.3} s.", started.elapsed().as_secs_f64());
    Ok(())
}

/// What was read, written, found already here and left behind.
fn summary(
    source: &str,
    version: &str,
    export: &DotExport,
    planned: &Plan,
    counts: &ImportCounts,
    dry_run: bool,
) -> String {
    let mut out = format!("django-oauth-toolkit database {source} (migration {version}).\n");
    if dry_run {
        out.push_str("Dry run: nothing was written. A real run would write:\n");
    } else if !counts.changed() {
        out.push_str("Nothing changed: everything in it was imported before.\n");
    }
    let read = [
        export.users.as_ref().map_or(0, Vec::len),
        export.applications.len(),
        export.access_tokens.len(),
        export.refresh_tokens.len(),
        export.grants.len(),
        export.id_tokens.len(),
        usize::from(planned.import.key.is_some()),
    ];
    let kinds = [
        ("users", counts.users),
        ("applications", counts.applications),
        ("access tokens", counts.access_tokens),
        ("refresh tokens", counts.refresh_tokens),
        ("authorization codes", counts.codes),
        ("ID tokens", counts.id_tokens),
        ("signing keys", counts.keys),
    ];
    for ((kind, tally), read) in kinds.into_iter().zip(read) {
        out.push_str(&format!("  {kind:<20} {}\n", tally_line(read, tally)));
    }
    if let Some(key) = planned
        .import
        .key
        .as_ref()
        .filter(|_| counts.keys.added > 0)
    {
        out.push_str(&format!(
            "  The RS256 ID tokens are signed with DOT's key from now on (kid {}).\n",
            key.key.kid
        ));
    }
    if !planned.skipped.is_empty() {
        out.push_str("Left behind, or brought with a caveat:\n");
        out.push_str(&skipped(&planned.skipped));
    }
    out
}

fn tally_line(read: usize, tally: Tally) -> String {
    let mut line = format!(
        "{read} read, {} added, {} already here",
        tally.added, tally.present
    );
    if tally.revoked > 0 {
        line.push_str(&format!(", {} revoked since", tally.revoked));
    }
    if tally.gone > 0 {
        line.push_str(&format!(
            ", {} imported before and deleted here since (left deleted)",
            tally.gone
        ));
    }
    line
}

/// Named records one per line; counted reasons (expired, …) once each with their count.
fn skipped(skips: &[Skip]) -> String {
    let mut counted: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut out = String::new();
    for skip in skips {
        if skip.what.is_empty() {
            *counted.entry((skip.kind, &skip.why)).or_default() += 1;
        } else {
            out.push_str(&format!("  {} {}: {}\n", skip.kind, skip.what, skip.why));
        }
    }
    for ((kind, why), count) in counted {
        let plural = if count == 1 { "" } else { "s" };
        out.push_str(&format!("  {count} {kind}{plural}: {why}\n"));
    }
    out
}

/// One line on stderr rewritten as records are written, when it is a terminal.
struct ProgressLine {
    terminal: bool,
    shown: Option<&'static str>,
}

impl ProgressLine {
    fn new(terminal: bool) -> Self {
        ProgressLine {
            terminal,
            shown: None,
        }
    }

    fn show(&mut self, kind: &'static str, done: usize, total: usize) {
        let step = (total / 100).max(1);
        if !self.terminal || (!done.is_multiple_of(step) && done != total) {
            return;
        }
        if self.shown.is_some_and(|k| k != kind) {
            eprintln!();
        }
        self.shown = Some(kind);
        let width = 30;
        let filled = done * width / total.max(1);
        eprint!(
            "\r  {kind:<20} [{}{}] {done}/{total}",
            "#".repeat(filled),
            " ".repeat(width - filled)
        );
        let _ = std::io::stderr().flush();
    }

    fn finish(&self) {
        if self.shown.is_some() {
            eprintln!();
        }
    }
}
