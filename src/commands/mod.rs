//! The commands: each composes facts, analysis steps and a typed outcome.

pub mod accept;
pub mod audit;
pub mod candidates;
pub mod check;
pub mod init;
pub mod plan;
pub mod report;
