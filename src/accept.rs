//! `forkdrift accept-protocol`: record that a person reviewed the target's protocol, with
//! who, why and when, so that the gate lets exactly that protocol pass. The one command that
//! writes a file — `.forkdrift.toml`, for the user to commit — and never anything of git's.

use crate::analysis::protocol::Verdict;
use crate::error::{Error, Result};
use crate::gate::{self, Acceptance};
use crate::repo::Repo;
use crate::session::{Selection, Session};
use std::path::Path;

pub fn accept(
    repo: &Repo,
    selection: &Selection,
    why: &str,
    by: Option<String>,
    file: Option<&Path>,
) -> Result<String> {
    if why.trim().is_empty() {
        return Err(Error::Usage {
            message: "an acceptance needs a reason".into(),
            help: "say why the protocol change is safe for this fork: --why \"…\"".into(),
        });
    }
    let session = Session::open(repo, selection)?;
    let (verdict, report) =
        gate::Gate::new(repo, &session)?.compare(repo, session.fork_point, session.target.id)?;
    if verdict != Verdict::Schema {
        return Ok(format!(
            "nothing to accept: the protocol verdict between the fork point and {} is `{}`\n",
            session.target.name,
            verdict.as_str()
        ));
    }
    if report.accepted {
        return Ok(format!(
            "the protocol of {} is already accepted (fingerprint {})\n",
            session.target.name,
            &report.fingerprint[..16]
        ));
    }
    let by = match by {
        Some(by) => by,
        None => repo.user().ok_or_else(|| Error::Usage {
            message: "who accepts the protocol is unknown".into(),
            help: "pass --by \"Name <email>\", or set git's user.name and user.email".into(),
        })?,
    };
    let path = gate::config_path(repo, file)?;
    let acceptance = Acceptance {
        fingerprint: report.fingerprint.clone(),
        pack: session.pack.name.clone(),
        target: session.target.name.clone(),
        commit: session.target.id.to_string(),
        by,
        why: why.trim().to_string(),
        at: crate::time::format_iso(crate::time::now()),
    };
    gate::record(&path, &acceptance)?;
    let count: usize = report.anchors.iter().map(|a| a.changes.len()).sum();
    Ok(format!(
        "accepted the protocol of {} ({count} schema changes, fingerprint {}) in {}\ncommit it, so that CI runs see the acceptance\n",
        session.target.name,
        &report.fingerprint[..16],
        path.display()
    ))
}
