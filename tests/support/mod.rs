//! Helpers shared by the integration tests. Each test binary includes this
//! module with `mod support;` and uses only the parts it needs.

pub mod data;
pub mod fake_discord;
