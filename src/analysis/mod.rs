//! Pure reasoning over [`Facts`](crate::facts::Facts): every step is a function of the facts,
//! the rule pack and a read-only object store. No git access here.

mod arity;
pub mod attribution;
pub mod backports;
pub mod candidates;
pub mod changes;
pub mod churn;
pub mod classify;
pub mod conflicts;
pub mod copies;
pub mod copying;
pub mod deps;
pub mod diff3;
pub mod explain;
pub mod findings;
mod fork_names;
pub mod gate;
pub mod gemfile;
pub mod hops;
mod markers;
pub mod patches;
pub mod pins;
pub mod placement;
pub mod plan;
pub mod protocol;
pub mod releases;
pub mod relocate;
pub mod risk;
pub mod similarity;
pub mod stale;
pub mod summary;
pub mod upstream;
pub mod versions;
