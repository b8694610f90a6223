//! forkdrift: audit a fork against its upstream.
//!
//! The library computes; it never prints. `main.rs` renders and maps outcomes to exit codes.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod accept;
pub mod analysis;
pub mod audit;
pub mod candidates;
pub mod cli;
pub mod demo;
pub mod error;
pub mod gate;
pub mod hops;
pub mod model;
pub mod plan;
pub mod render;
pub mod repo;
pub mod rules;
pub mod scenario;
pub mod session;
pub mod stale;
pub mod time;
pub mod upstream;

pub use error::{Error, Result};
