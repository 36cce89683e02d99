//! ironplan: provision AWS infrastructure from an explicit dependency graph, straight through
//! the AWS SDK for Rust. See ARCHITECTURE.md for the map.

pub mod aws;
pub mod check;
pub mod cli;
pub mod diag;
pub mod diff;
#[cfg(any(test, feature = "testing"))]
pub mod emulator;
pub mod engine;
pub mod exec;
pub mod graph;
pub mod plan;
pub mod report;
pub mod schema;
pub mod state;
pub mod waiter;
