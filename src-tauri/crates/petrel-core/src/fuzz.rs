//! Settings shared by the property-based tests of every parser Petrel owns (feature
//! `fuzz`, enabled only by the crates' dev-dependencies). A fixed seed and a few thousand
//! cases in `npm test`; `PETREL_FUZZ_CASES` and `PETREL_FUZZ_SEED` for longer runs:
//!
//! ```sh
//! PETREL_FUZZ_CASES=200000 cargo test --release -p petrel-render --test hostile_input
//! ```

use proptest::test_runner::{Config, RngSeed};

/// Cases per property in a normal run.
pub const DEFAULT_CASES: u32 = 2_000;
/// The seed of a normal run: every run tries the same inputs (a failure reproduces).
pub const DEFAULT_SEED: u64 = 0x5045_5452_454c; // "PETREL"

/// The proptest configuration for one property.
pub fn config() -> Config {
    let cases = std::env::var("PETREL_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let seed = std::env::var("PETREL_FUZZ_SEED")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        // Failures are reported with their input; no files written into the source tree.
        failure_persistence: None,
        ..Config::default()
    }
}

/// Prints what a property tried, for the closing report ("cases tried, failures").
pub fn report(property: &str) {
    eprintln!(
        "fuzz: {property}: {} cases, seed {}",
        config().cases,
        match config().rng_seed {
            RngSeed::Fixed(s) => s.to_string(),
            RngSeed::Random => "random".into(),
        }
    );
}
