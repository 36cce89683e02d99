//! The command line: parses arguments, calls the library, prints, and picks the exit code.
//! The only module that prints or exits.
//!
//! Exit codes (stable, documented in the README):
//! 0 success · 1 a deploy or teardown failed (AWS said no) · 2 bad usage ·
//! 3 invalid plan (nothing was called) · 4 state refused (locked, corrupt, or a change deploy
//! will not make without being told) · 5 changes pending (`plan --detailed-exitcode`) · 130 interrupted.

mod logging;
mod run;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::check::{self, Checked, Options};
use crate::diag::Problems;
use crate::plan::LoadError;
use crate::report::PlanReport;

pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_INVALID_PLAN: u8 = 3;
pub const EXIT_STATE: u8 = 4;
/// `plan --detailed-exitcode`: deploy would change something.
pub const EXIT_CHANGES: u8 = 5;
pub const EXIT_INTERRUPTED: u8 = 130;

const DEFAULT_PLAN: &str = "plans/healthcare-pipeline.toml";
const DEFAULT_STATE_DIR: &str = ".ironplan";

#[derive(Debug, Parser)]
#[command(
    name = "ironplan",
    version,
    about = "Provision AWS infrastructure from an explicit dependency graph, straight through the AWS SDK",
    long_about = "ironplan reads a plan (TOML), checks it completely before any AWS call, and creates, \
                  changes or tears down every resource in dependency order, as much in parallel as the graph \
                  allows. With a stack's state, `plan` shows the change before `deploy` makes it.",
    after_help = "Exit codes: 0 ok, 1 deploy/teardown failed, 2 bad usage, 3 invalid plan, 4 state refused, 5 changes pending (plan --detailed-exitcode), 130 interrupted.\n\
                  Credentials and region come from the standard AWS chain (env, profiles, SSO); \
                  AWS_ENDPOINT_URL or --endpoint-url points at another endpoint, such as a local emulator.\n\
                  RUST_LOG sets the log filter (stderr); NO_COLOR turns colour off."
)]
pub struct Cli {
    /// Log to stderr: -v the AWS SDK's request log, -vv everything at debug level (RUST_LOG
    /// overrides; credentials and signatures are never logged)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a plan and show what deploy would do, in what order, and why: for a stack with a
    /// state, the change (create, update in place, replace, delete); no AWS call unless --refresh
    Plan {
        #[command(flatten)]
        plan: PlanArgs,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Text format: list each resource's properties, deploy-time values marked
        #[arg(long)]
        detail: bool,
        /// Where the state is: when the stack has one, the plan is compared with it and the
        /// change shown (create, update in place, replace, delete)
        #[command(flatten)]
        state: StateArgs,
        /// Exit 0 when deploy would change nothing, 5 when it would change something (for
        /// scripts; errors keep their codes)
        #[arg(long)]
        detailed_exitcode: bool,
        /// Read every resource of the state in AWS first (read-only calls): the change is shown
        /// against what is there, drift included
        #[arg(long)]
        refresh: bool,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Bring the stack to the plan: create what is missing, update or replace what changed,
    /// delete what left the plan (dependents first), then print the outputs
    Deploy {
        #[command(flatten)]
        plan: PlanArgs,
        #[command(flatten)]
        aws: AwsArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Delete every resource the stack's state records, dependents first
    Teardown {
        #[command(flatten)]
        plan: PlanArgs,
        #[command(flatten)]
        aws: AwsArgs,
        #[command(flatten)]
        run: RunArgs,
        /// First find the plan's resources in AWS (by name, parent and the stack's tags) and
        /// add them to the state: for a lost or partial state file
        #[arg(long)]
        discover: bool,
    },
    /// Read every resource of the stack's state in AWS and report what changed outside
    /// ironplan: properties that differ from what ironplan set, resources deleted (exit 5 when
    /// there is drift)
    Drift {
        #[command(flatten)]
        plan: PlanArgs,
        #[command(flatten)]
        aws: AwsArgs,
        #[command(flatten)]
        state: StateArgs,
        /// Print the report as one JSON document
        #[arg(long)]
        json: bool,
    },
    /// Print the outputs recorded by the last deploy (no AWS call)
    Outputs {
        #[command(flatten)]
        plan: PlanArgs,
        /// Print them as a JSON object
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        state: StateArgs,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Break the S3 lock of the plan's stack, given its lock ID (printed by the refused run and
    /// here): only when its holder is gone; its holder is printed first
    Unlock {
        /// The lock ID, as a refused run printed it
        lock_id: String,
        #[command(flatten)]
        plan: PlanArgs,
        #[command(flatten)]
        state: StateArgs,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// The stack's state itself
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// List the resource types ironplan knows, with their properties and attributes
    Types {
        /// Show one type in full
        name: Option<String>,
        /// Output format (JSON: every type, or the one named, with its properties, attributes,
        /// typical durations and the names other tools give it)
        #[arg(long, value_enum, default_value_t = TypesFormat::Text)]
        format: TypesFormat,
    },
    /// List the HIPAA policy rules and their IDs (for --allow)
    Rules,
}

#[derive(Debug, Subcommand)]
enum StateCommand {
    /// Move the stack's state to another location (`s3://BUCKET/PREFIX` or a directory), under
    /// both locks: the destination is written and read back before the source is deleted
    Migrate {
        #[command(flatten)]
        plan: PlanArgs,
        /// Where the state goes
        #[arg(long, value_name = "LOCATION")]
        to: String,
        /// Where it is now
        #[command(flatten)]
        state: StateArgs,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

/// Where the stack's state lives.
#[derive(Debug, Args)]
struct StateArgs {
    /// The state's location: `s3://BUCKET/PREFIX` (shared by a team: a leased lock and
    /// compare-and-swap writes) or a directory. Default: the plan's `[state] location`, else
    /// --state-dir
    #[arg(long = "state", value_name = "LOCATION", env = "IRONPLAN_STATE")]
    location: Option<String>,
    /// Directory of the local state files, when neither --state nor the plan names a location
    #[arg(long, default_value = DEFAULT_STATE_DIR, env = "IRONPLAN_STATE_DIR")]
    state_dir: PathBuf,
    /// S3 state: seconds the lock is leased for, renewed every quarter of it while the run
    /// lasts; a holder killed without releasing blocks others this long
    #[arg(long, value_name = "SECS", env = "IRONPLAN_LOCK_LEASE", default_value_t = crate::state::s3::DEFAULT_LEASE_SECS,
          value_parser = clap::value_parser!(u64).range(2..=3600))]
    lock_lease: u64,
}

impl StateArgs {
    /// --state, else the plan's `[state]`, else --state-dir.
    fn location(&self, plan: Option<&str>) -> Result<crate::state::Location, ExitCode> {
        match self.location.as_deref().or(plan) {
            Some(text) => crate::state::Location::parse(text).map_err(|why| {
                eprintln!("error: {why}");
                ExitCode::from(EXIT_USAGE)
            }),
            None => Ok(crate::state::Location::Dir(self.state_dir.clone())),
        }
    }
}

#[derive(Debug, Args)]
struct PlanArgs {
    /// The plan file
    #[arg(default_value = DEFAULT_PLAN)]
    plan: PathBuf,
    /// Set a plan variable, e.g. --var environment_suffix=staging (repeatable)
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// Waive one policy rule for this run (repeatable); `ironplan rules` lists them
    #[arg(long = "allow", value_name = "RULE_ID")]
    allow: Vec<String>,
}

#[derive(Debug, Args)]
struct AwsArgs {
    /// AWS region (default: the standard chain: AWS_REGION, the profile)
    #[arg(long, env = "AWS_REGION")]
    region: Option<String>,
    /// Named profile from ~/.aws/config (SSO profiles work)
    #[arg(long, env = "AWS_PROFILE")]
    profile: Option<String>,
    /// Send every AWS call to this endpoint (a local emulator, for example)
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    /// Seconds to open a connection to AWS before the attempt fails and is retried
    #[arg(long, value_name = "SECS", env = "IRONPLAN_CONNECT_TIMEOUT", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    connect_timeout: u64,
    /// Seconds to wait for an AWS answer before the attempt fails and is retried
    #[arg(long, value_name = "SECS", env = "IRONPLAN_READ_TIMEOUT", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    read_timeout: u64,
    /// Tests and the demo: the endpoint is this local emulator, whose documented gaps the
    /// adapters may then accept (refused unless the endpoint is a loopback address)
    #[arg(long, value_enum, env = "IRONPLAN_EMULATOR", hide = true)]
    emulator: Option<EmulatorArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum EmulatorArg {
    Moto,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    state: StateArgs,
    /// Progress output: a live view on a terminal, lines otherwise, or one JSON event per line
    #[arg(long, value_enum, default_value_t = Output::Auto)]
    output: Output,
    /// deploy only: when a create fails, delete what this run created (rollback) or keep it
    /// so the next deploy resumes (keep)
    #[arg(long, value_enum, default_value_t = FailurePolicy::Rollback)]
    on_failure: FailurePolicy,
    /// deploy only: read every resource in AWS first and apply the plan against what is there
    /// (drift put back where the type can change it in place; what was deleted outside
    /// ironplan created again)
    #[arg(long)]
    refresh: bool,
    /// deploy only: accept replacing this resource although it holds data (a database, cache,
    /// file system, stream or KMS key), losing it (repeatable)
    #[arg(long = "allow-replace", value_name = "NAME")]
    allow_replace: Vec<String>,
    /// deploy only: accept deleting this resource, gone from the plan, although it holds data
    /// (repeatable)
    #[arg(long = "allow-delete", value_name = "NAME")]
    allow_delete: Vec<String>,
    /// At most this many resources in flight at once (default: as many as the graph allows;
    /// the longest remaining chain starts first)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    parallelism: Option<u16>,
    /// Benchmarks: the waiter's policy (ironplan's adaptive one, or a Terraform-like model)
    #[arg(long, value_enum, default_value_t = WaiterArg::Adaptive, hide = true)]
    waiter: WaiterArg,
    /// Benchmarks: the latency model's time scale (typical durations and poll delays are
    /// multiplied by it, as the emulator's latency model does)
    #[arg(long, default_value_t = 1.0, hide = true)]
    time_scale: f64,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum WaiterArg {
    Adaptive,
    TerraformLike,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum FailurePolicy {
    Rollback,
    Keep,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum TypesFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Dot,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Output {
    Auto,
    Plain,
    Json,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose);
    match cli.command {
        Command::Plan { plan, format, detail, state, detailed_exitcode, refresh, aws } => {
            cmd_plan(&plan, format, detail, &state, detailed_exitcode, &aws, refresh)
        }
        Command::Deploy { plan, aws, run } => run::deploy(&plan, &aws, &run, cli.verbose),
        Command::Teardown { plan, aws, run, discover } => run::teardown(&plan, &aws, &run, discover, cli.verbose),
        Command::Outputs { plan, json, state, aws } => run::outputs(&plan, json, &state, &aws),
        Command::Drift { plan, aws, state, json } => run::drift(&plan, &aws, &state, json),
        Command::Unlock { lock_id, plan, state, aws } => run::unlock(&lock_id, &plan, &state, &aws),
        Command::State { command: StateCommand::Migrate { plan, to, state, aws } } => {
            run::migrate(&plan, &to, &state, &aws)
        }
        Command::Types { name, format } => cmd_types(name.as_deref(), format),
        Command::Rules => cmd_rules(),
    }
}

/// Loads and checks a plan; prints the problems (text or JSON) and returns the exit code on failure.
fn load_checked(args: &PlanArgs, json: bool) -> Result<Checked, ExitCode> {
    let opts = Options {
        vars: args.vars.iter().cloned().collect::<BTreeMap<_, _>>(),
        allow: args.allow.iter().cloned().collect::<BTreeSet<_>>(),
    };
    match check::load(&args.plan, &opts) {
        Ok(c) => Ok(c),
        Err(e @ LoadError::Io { .. }) => {
            eprintln!("error: {e}");
            if !args.plan.exists() && args.plan.as_os_str() == DEFAULT_PLAN {
                eprintln!("help: run ironplan from the project directory, or pass the plan file");
            }
            Err(ExitCode::from(EXIT_USAGE))
        }
        Err(e @ LoadError::TooLarge { .. }) => {
            eprintln!("error: {e}; nothing of it was checked");
            eprintln!("help: pass the plan file itself (a plan is a TOML file of at most that size)");
            Err(ExitCode::from(EXIT_USAGE))
        }
        Err(LoadError::Invalid(problems)) => Err(report_problems(&problems, json)),
    }
}

fn report_problems(problems: &Problems, json: bool) -> ExitCode {
    if json {
        let doc = serde_json::json!({ "schema_version": 1, "valid": false, "problems": problems.to_json() });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        let theme = if logging::colour(&std::io::stderr()) {
            miette::GraphicalTheme::unicode()
        } else {
            miette::GraphicalTheme::unicode_nocolor()
        };
        let handler = miette::GraphicalReportHandler::new_themed(theme).with_links(false);
        eprint!("{}", problems.render_with(&handler));
    }
    ExitCode::from(EXIT_INVALID_PLAN)
}

fn cmd_plan(
    args: &PlanArgs,
    format: Format,
    detail: bool,
    state_args: &StateArgs,
    exitcode: bool,
    aws: &AwsArgs,
    refresh: bool,
) -> ExitCode {
    let checked = match load_checked(args, matches!(format, Format::Json)) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let report = PlanReport::new(&checked);
    let location = match state_args.location(checked.plan.state.as_deref()) {
        Ok(l) => l,
        Err(code) => return code,
    };
    // A stack that exists: what deploy would change in it (no AWS call but reading an S3 state).
    let state = match run::read_state(&location, &checked.stack(), aws) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}\nhelp: {}", e.hint());
            return ExitCode::from(EXIT_STATE);
        }
    };
    let refresh = refresh.then_some(aws);
    let state = match refresh.filter(|_| !state.resources.is_empty()) {
        Some(aws) => {
            let rt = match run::runtime() {
                Ok(rt) => rt,
                Err(code) => return code,
            };
            match run::refresh(&rt, aws, &state) {
                Ok(s) => s,
                Err(code) => return code,
            }
        }
        None => state,
    };
    let change = (!state.resources.is_empty()).then(|| crate::diff::diff(&checked, &state));
    let refusals = change.as_ref().map(|d| d.refusals(&Default::default(), &Default::default())).unwrap_or_default();
    match format {
        Format::Text => match &change {
            Some(d) => {
                println!(
                    "plan {} · stack {} · compared with {}\n",
                    checked.plan.name,
                    checked.stack(),
                    if refresh.is_some() {
                        "what AWS has (every resource read)".to_string()
                    } else {
                        match &location {
                            crate::state::Location::Dir(d) => format!(
                                "{} (no AWS call)",
                                crate::state::StateStore::path_for(d, &checked.stack()).display()
                            ),
                            crate::state::Location::S3(l) => {
                                format!("{} (no call but reading it)", l.url(&l.key(&checked.stack(), "json")))
                            }
                        }
                    }
                );
                print!("{}", d.render_text(&refusals));
                if detail {
                    print!("\n{}", report.render_text(true));
                }
            }
            None => print!("{}", report.render_text(detail)),
        },
        Format::Json => {
            let mut doc = serde_json::to_value(&report).unwrap_or_default();
            if let (Some(o), Some(d)) = (doc.as_object_mut(), &change) {
                let mut v = serde_json::to_value(d).unwrap_or_default();
                if let Some(c) = v.as_object_mut() {
                    c.insert("has_changes".into(), d.has_changes().into());
                    c.insert("counts".into(), serde_json::to_value(d.counts()).unwrap_or_default());
                    c.insert("refusals".into(), serde_json::to_value(&refusals).unwrap_or_default());
                }
                o.insert("changes".into(), v);
            }
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Dot => print!("{}", report.to_dot()),
    }
    // Without a state, deploy would create everything: that is a change too.
    let changes = change.as_ref().is_none_or(crate::diff::Diff::has_changes);
    if exitcode && changes { ExitCode::from(EXIT_CHANGES) } else { ExitCode::SUCCESS }
}

fn cmd_types(name: Option<&str>, format: TypesFormat) -> ExitCode {
    use crate::schema;
    let chosen: Vec<&'static schema::TypeSpec> = match name {
        None => schema::all().to_vec(),
        Some(n) => match schema::find(n) {
            Some(t) => vec![t],
            None => {
                eprintln!("error: unknown resource type `{n}`");
                if let Some(h) = schema::type_hint(n) {
                    eprintln!("help: {h}");
                }
                return ExitCode::from(EXIT_USAGE);
            }
        },
    };
    if format == TypesFormat::Json {
        let doc = serde_json::json!({
            "schema_version": 1,
            "types": chosen.iter().map(|t| type_json(t)).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    let [t] = chosen.as_slice() else {
        for t in &chosen {
            println!("{:40} {}", t.name, t.summary);
        }
        return ExitCode::SUCCESS;
    };
    println!("{}: {}", t.name, t.summary);
    println!("calls: {}", t.calls);
    println!("typical AWS duration: create ~{}s, delete ~{}s", t.create_secs, t.delete_secs);
    if !t.aliases.is_empty() {
        println!("other tools call it: {}", t.aliases.join(", "));
    }
    println!("\nproperties:");
    print_props(t.name, t.props, 1);
    println!("\nattributes (use as ${{name.attr}}):");
    for a in t.attrs {
        println!("  {:28} {}", a.name, a.doc);
    }
    if !t.implied.is_empty() {
        println!("\nimplied dependencies:");
        for i in t.implied {
            println!("  {}", i.why);
        }
    }
    ExitCode::SUCCESS
}

/// A type as `ironplan types --format json` shows it (a documented schema: fields are only
/// ever added).
fn type_json(t: &crate::schema::TypeSpec) -> serde_json::Value {
    fn props(type_name: &str, ps: &[crate::schema::Prop]) -> Vec<serde_json::Value> {
        use crate::schema::Kind;
        ps.iter()
            .map(|p| {
                let mut v = serde_json::json!({
                    "name": p.name,
                    "kind": p.kind.describe(),
                    "required": p.required,
                    "sensitive": p.sensitive,
                    "in_place": p.changes_in_place(),
                    "ironplan_updates": crate::aws::registry::updates(type_name, p.name),
                    "doc": p.doc,
                    "check": p.check.map(|c| c.describe()),
                });
                if let Kind::Struct(fields) | Kind::List(&Kind::Struct(fields)) = p.kind {
                    v["fields"] = serde_json::Value::Array(props(type_name, fields));
                }
                v
            })
            .collect()
    }
    serde_json::json!({
        "name": t.name,
        "service": t.service(),
        "summary": t.summary,
        "aliases": t.aliases,
        "create_secs": t.create_secs,
        "delete_secs": t.delete_secs,
        "taggable": t.taggable,
        "props": props(t.name, t.props),
        "attrs": t.attrs.iter().map(|a| serde_json::json!({"name": a.name, "doc": a.doc})).collect::<Vec<_>>(),
        "implied": t.implied.iter().map(|i| i.why).collect::<Vec<_>>(),
    })
}

fn print_props(type_name: &str, props: &[crate::schema::Prop], depth: usize) {
    use crate::schema::Kind;
    for p in props {
        let req = if p.required { "required" } else { "optional" };
        println!("{}{:28} {:9} {} — {}", "  ".repeat(depth), p.name, req, p.kind.describe(), p.doc);
        if let Some(check) = p.check {
            println!("{}{:28} {:9} checked: {}", "  ".repeat(depth), "", "", check.describe());
        }
        if depth == 1 {
            let change = match (p.changes_in_place(), crate::aws::registry::updates(type_name, p.name)) {
                (true, true) => "in place",
                (true, false) => "in place in AWS; ironplan cannot yet (deploy refuses it)",
                (false, _) => "replaces the resource",
            };
            println!("{}{:28} {:9} a change: {change}", "  ".repeat(depth), "", "");
        }
        match p.kind {
            Kind::Struct(fields) | Kind::List(&Kind::Struct(fields)) => print_props(type_name, fields, depth + 1),
            _ => {}
        }
    }
}

fn cmd_rules() -> ExitCode {
    for r in check::policy::RULES {
        println!("{:26} {}\n{:26} fix: {}\n", r.id, r.title, "", r.fix);
    }
    ExitCode::SUCCESS
}
