//! ironplan: provision AWS infrastructure from an explicit dependency graph, straight through
//! the AWS SDK for Rust. See ARCHITECTURE.md for the map.

pub mod aws;
pub mod diag;
pub mod plan;
pub mod schema;
pub mod emulator;
