//! The integration suite: real repositories built from `fixtures/`, the real binary.

mod support;

mod audit;
mod check;
mod cli;
mod conflicts;
mod deps;
mod generic;
mod matrix;
mod pr_branches;
mod protocol;
mod report;
mod robustness;
mod sarif_schema;
mod snapshots;
mod trust;
mod upstream;
