//! Pure reasoning over data read from the repository: no git access here.

pub mod classify;
pub mod conflicts;
pub mod copies;
pub mod diff3;
pub mod findings;
pub mod patches;
pub mod protocol;
pub mod relocate;
pub mod risk;
pub mod similarity;
pub mod versions;
