//! The setup wizard's engine: discovery of server settings, probes, the advisor.
#![forbid(unsafe_code)]

pub mod advisor;
pub mod autoconfig;
pub mod discover;
pub mod doctor;
pub mod network;
pub mod probe;
pub mod providers;
pub mod trust;

pub use discover::discover;
pub use network::{Network, PortPlan};
