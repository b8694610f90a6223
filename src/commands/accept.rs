//! `forkdrift accept-protocol`: record that a person reviewed the target's protocol, with
//! who, why and when, so that the gate lets exactly that protocol pass. The one command that
//! writes a file — `.forkdrift.toml`, for the user to commit — and never anything of git's.

use crate::analysis::gate;
use crate::analysis::protocol::Verdict;
use crate::config::{self, Acceptance};
use crate::error::{Error, Result};
use crate::model::Acceptance as Accepted;
use crate::repo::Repo;
use crate::repo::collect::{self, Selection};
use crate::repo::git::Git;
use std::path::Path;

pub fn accept(
    repo: &Repo,
    git: &Git,
    selection: &Selection,
    why: &str,
    by: Option<String>,
    file: Option<&Path>,
) -> Result<Accepted> {
    if why.trim().is_empty() {
        return Err(Error::Usage {
            message: "an acceptance needs a reason".into(),
            help: "say why the protocol change is safe for this fork: --why \"…\"".into(),
        });
    }
    let facts = collect::collect(repo, git, selection)?;
    let (verdict, report) = gate::compare(&facts, repo, facts.fork_point, facts.target.id)?;
    let target = facts.target.name.clone();
    if verdict != Verdict::Schema {
        return Ok(Accepted::NothingToAccept {
            target,
            verdict: verdict.as_str().into(),
        });
    }
    if report.accepted {
        return Ok(Accepted::Already {
            target,
            fingerprint: report.fingerprint,
        });
    }
    let by = match by {
        Some(by) => by,
        None => repo.user().ok_or_else(|| Error::Usage {
            message: "who accepts the protocol is unknown".into(),
            help: "pass --by \"Name <email>\", or set git's user.name and user.email".into(),
        })?,
    };
    let path = config::path(repo.workdir(), file)?;
    // The gate reads acceptances from the fork's tree and work tree only: a `--file` elsewhere
    // may already hold this one, and a second identical entry would say nothing new.
    if let Ok(text) = std::fs::read_to_string(&path) {
        if config::acceptances(&text, &path)?
            .iter()
            .any(|a| a.fingerprint == report.fingerprint)
        {
            return Ok(Accepted::Already {
                target,
                fingerprint: report.fingerprint,
            });
        }
    }
    let acceptance = Acceptance {
        fingerprint: report.fingerprint.clone(),
        pack: facts.pack.name.clone(),
        target: target.clone(),
        commit: facts.target.id.to_string(),
        by,
        why: why.trim().to_string(),
        at: crate::time::format_iso(crate::time::now()),
    };
    config::record(&path, &acceptance)?;
    Ok(Accepted::Recorded {
        target,
        changes: report.anchors.iter().map(|a| a.changes.len()).sum(),
        fingerprint: report.fingerprint,
        file: path,
    })
}
