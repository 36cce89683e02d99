//! Logs and colour: a tracing subscriber writing to stderr (RUST_LOG, `-v`, `-vv`), the panic
//! hook, and when output may be coloured.
//!
//! **Invariant:** no credential reaches a log. The SDK and the HTTP crates dump whole requests
//! at TRACE level (the `Authorization` header with its signature, `X-Amz-Security-Token`, the
//! canonical request, bodies with property values): TRACE events and spans of those crates
//! are dropped whatever RUST_LOG asks; their DEBUG level and above carry no secret.

use std::io::IsTerminal;

use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// Crates (target prefixes) whose TRACE output may hold credentials or request bodies.
const REQUEST_DUMPERS: &[&str] = &["aws_", "hyper", "h2", "rustls", "tower", "http"];

/// True when `stream` may be coloured: it is a terminal and NO_COLOR is unset or empty
/// (<https://no-color.org>).
pub fn colour(stream: &impl IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// True when something is logged beyond warnings, so a live progress view would be garbled.
pub fn verbose(verbose: u8) -> bool {
    verbose > 0 || std::env::var_os("RUST_LOG").is_some_and(|v| !v.is_empty())
}

/// The SDK crates ironplan uses: each names its operations' spans (`EC2.CreateVpc{...}`).
const SDK_CRATES: &[&str] = &[
    "aws_sdk_applicationautoscaling",
    "aws_sdk_apigateway",
    "aws_sdk_cloudwatch",
    "aws_sdk_cloudwatchlogs",
    "aws_sdk_ec2",
    "aws_sdk_ecs",
    "aws_sdk_efs",
    "aws_sdk_elasticache",
    "aws_sdk_iam",
    "aws_sdk_kinesis",
    "aws_sdk_kms",
    "aws_sdk_rds",
    "aws_sdk_secretsmanager",
    "aws_sdk_sts",
];

/// The filter of `-v` counts, when RUST_LOG is not set.
fn default_filter(verbose: u8) -> String {
    match verbose {
        0 => "warn".into(),
        // ironplan's own steps, and the SDK's request log: each attempt of each call, inside its
        // operation's span (service, operation), with retries and their delays.
        1 => {
            let mut f = String::from(
                "warn,ironplan=info,aws_smithy_runtime::client::orchestrator=debug,\
                 aws_smithy_runtime::client::orchestrator::endpoints=info",
            );
            for c in SDK_CRATES {
                f.push_str(&format!(",{c}=debug"));
            }
            f
        }
        _ => "debug".into(),
    }
}

/// Whether an event or span may be logged at all (see the module's invariant).
fn safe(meta: &tracing::Metadata<'_>) -> bool {
    *meta.level() != tracing::Level::TRACE || !REQUEST_DUMPERS.iter().any(|p| meta.target().starts_with(p))
}

/// Installs the stderr subscriber and the panic hook. Called once, first thing.
pub fn init(verbose: u8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::builder().parse(&spec).unwrap_or_else(|e| {
            eprintln!("warning: RUST_LOG=`{spec}` is not a log filter ({e}); using the default");
            EnvFilter::new(default_filter(verbose))
        }),
        _ => EnvFilter::new(default_filter(verbose)),
    };
    let layer = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(colour(&std::io::stderr()))
        .with_filter(filter.and(filter_fn(safe)));
    // Fails only if a subscriber is already installed (never, in the binary).
    let _ = tracing_subscriber::registry().with(layer).try_init();
    std::panic::set_hook(Box::new(|info| {
        eprintln!("{}", describe_panic(info.payload(), info.location()));
        let bt = std::backtrace::Backtrace::capture();
        if bt.status() == std::backtrace::BacktraceStatus::Captured {
            eprintln!("{bt}");
        }
    }));
}

/// The message a panic prints: what and where, that it is a bug, and what to do.
fn describe_panic(payload: &dyn std::any::Any, location: Option<&std::panic::Location<'_>>) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    let at = location.map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column())).unwrap_or_default();
    format!(
        "error: ironplan panicked{at}: {what}\n\
         help: this is a bug in ironplan; the state file records what exists, so running the command again is safe; \
         please report it with the output of RUST_BACKTRACE=1"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_says_what_where_and_what_to_do() {
        let here = std::panic::Location::caller();
        let msg = describe_panic(&"index out of bounds", Some(here));
        assert!(msg.starts_with("error: ironplan panicked at src/cli/logging.rs:"), "{msg}");
        assert!(msg.contains(": index out of bounds\nhelp: this is a bug"), "{msg}");
        let owned = describe_panic(&String::from("state vanished"), None);
        assert!(owned.starts_with("error: ironplan panicked: state vanished\n"), "{owned}");
        assert!(describe_panic(&42u8, None).contains("(no message)"));
    }
}
