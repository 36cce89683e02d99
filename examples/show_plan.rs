//! Loads a plan through the library, checks it, and prints its dry run: the resources in
//! waves, why each waits, the critical path and the policy summary.
//!
//!     cargo run --example show_plan -- examples/audited-network.toml

use std::process::ExitCode;

use ironplan::check::{self, Options};
use ironplan::plan::LoadError;
use ironplan::report::PlanReport;

fn main() -> ExitCode {
    let path = std::env::args().nth(1).unwrap_or_else(|| "examples/audited-network.toml".into());
    match check::load(path.as_ref(), &Options::default()) {
        Ok(checked) => {
            let report = PlanReport::new(&checked);
            print!("{}", report.to_text());
            println!("\nstack {} has {} resources; the first to start:", checked.stack(), report.resource_count);
            for name in report.waves.first().into_iter().flatten() {
                println!("  {name}");
            }
            ExitCode::SUCCESS
        }
        Err(LoadError::Invalid(problems)) => {
            eprint!("{}", problems.render_plain());
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
