//! Helpers for the unit tests.

/// A small deterministic generator (xorshift64) of numbers below a bound: generated inputs
/// that compare a fast path with its plain reading stay the same on every run.
pub fn xorshift(seed: u64) -> impl FnMut(usize) -> usize {
    let mut state = seed;
    move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    }
}
