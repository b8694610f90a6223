//! The bundled demo: an upstream shaped like elastic/connectors and a fork that does what
//! forks do — a copied-and-renamed connector with its tests, a connector edited in place, a
//! framework edit and a registration line — built from `fixtures/demo.toml`.

use crate::error::Result;
use crate::scenario::{self, Built, Scenario};
use std::path::Path;

pub const SCENARIO: &str = "demo";

pub fn build(dest: &Path) -> Result<Built> {
    scenario::build(&Scenario::embedded(SCENARIO)?, dest)
}
