//! Integration tests, in one binary (the AWS SDK makes every test binary slow to link).
//!
//! - `fixtures`: every bad plan under tests/fixtures/invalid gives its diagnostic (snapshots).
//! - `plan_cli`: `ironplan plan` on the healthcare pipeline, as a user runs it.
//! - `e2e`: deploy, redeploy, changes in place and teardown against moto started by the harness.
//! - `drift`: changes made outside ironplan, reported by `drift`, put back by `deploy --refresh`.
//! - `faults`: injected failures, crashes, throttling, locks and broken state files.
//! - `ownership`: look-alike resources made outside ironplan are never adopted or deleted.
//! - `secrets`: sensitive values reach AWS, never the state, the output or the dry run.
//! - `connect`: which credentials go where, the emulator signal, an endpoint that never answers.
//! - `output`: logs (RUST_LOG, -v) without credentials, colour only on a terminal, NO_COLOR.
//! - `shared_state`: the state on S3: one run at a time from many directories, leases, takeover,
//!   unlock, stale writers, S3 faults, `state migrate`.
//! - `state_bucket`: `plans/state-bucket.toml` deployed, checked through the SDK, torn down.
//! - `state_files`: the state directory as a hostile place: links, modes, OS errors, and the
//!   way out of a corrupt state that its hint gives.

mod common;
mod connect;
mod drift;
mod e2e;
mod faults;
mod fixtures;
mod inventory;
mod output;
mod ownership;
mod plan_cli;
mod secrets;
mod shared_state;
mod state_bucket;
mod state_files;
