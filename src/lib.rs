//! forkdrift: audit a fork against its upstream.
//!
//! Data flows one way: `cli` resolves the arguments into a [`Config`]; `repo::collect` reads
//! the repository once into [`facts::Facts`]; the pure steps of `analysis` reason over them;
//! `commands` compose the steps into a typed [`Outcome`]; `render` formats it. The library
//! computes; it never prints. `main.rs` renders and maps outcomes to exit codes.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod analysis;
pub mod baseline;
pub mod catalog;
pub mod check;
pub mod cleanup;
pub mod cli;
pub mod commands;
pub mod config;
pub mod embedded;
pub mod error;
pub mod facts;
pub mod fixtures;
pub mod history;
pub mod ids;
pub mod model;
pub mod outcome;
pub mod progress;
pub mod render;
pub mod repo;
pub mod rules;
#[cfg(test)]
mod test_support;
pub mod time;

pub use cli::Config;
pub use error::{Error, Result};
pub use outcome::{Outcome, run};
