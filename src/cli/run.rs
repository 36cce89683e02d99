//! `deploy`, `teardown` and `outputs`: open the state, connect to AWS, run the engine, and show
//! progress (live on a terminal, lines otherwise, JSON events with `--output json`).

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use super::{AwsArgs, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_STATE, EXIT_USAGE, Output, PlanArgs, RunArgs, StateArgs};
use crate::aws::{Connect, Ctx, Emulator, Timeouts};
use crate::check::Checked;
use crate::engine::{Engine, Event, OnFailure, RunOptions, RunSummary};
use crate::report::secs;
use crate::state::s3::LockOptions;
use crate::state::{Location, State, StateError, StateStore};

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        ExitCode::from(EXIT_FAILED)
    })
}

fn state_refused(e: &StateError, again: &Again<'_>) -> ExitCode {
    match e {
        StateError::Corrupt { path, .. } if path.starts_with("s3:") => {
            eprintln!("error: {e}");
            eprintln!(
                "help: nothing was called and the object was left as it is. The state bucket keeps versions: \
                 restore the last good one (aws s3api list-object-versions --bucket BUCKET --prefix KEY, then \
                 copy that version back); or delete it and run `ironplan teardown --discover` with the same plan"
            );
        }
        StateError::Corrupt { path, .. } => {
            // The exact commands, so that following the hint works as written.
            let moved = path.with_extension("json.corrupt");
            eprintln!("error: {e}");
            eprintln!(
                "help: nothing was called and the file was left as it is. Restore it from a backup; or, to \
                 delete the stack without it, move it aside and let teardown find the stack's resources in \
                 AWS (by name and tag):"
            );
            eprintln!("  mv {} {}", shell_word(&path.to_string_lossy()), shell_word(&moved.to_string_lossy()));
            eprintln!("  {}", again.teardown_discover());
            eprintln!("then `ironplan deploy` creates the stack anew.");
        }
        _ => eprintln!("error: {e}\nhelp: {}", e.hint()),
    }
    ExitCode::from(EXIT_STATE)
}

/// What a command was run with, to spell out the command a hint asks for.
struct Again<'a> {
    plan: &'a PlanArgs,
    state: &'a StateArgs,
    aws: Option<&'a AwsArgs>,
}

impl Again<'_> {
    fn teardown_discover(&self) -> String {
        let mut words = vec!["ironplan".to_string(), "teardown".into(), shell_word(&self.plan.plan.to_string_lossy())];
        words.push("--discover".into());
        for (k, v) in &self.plan.vars {
            words.push("--var".into());
            words.push(shell_word(&format!("{k}={v}")));
        }
        if let Some(l) = &self.state.location {
            words.push("--state".into());
            words.push(shell_word(l));
        } else if self.state.state_dir != Path::new(super::DEFAULT_STATE_DIR) {
            words.push("--state-dir".into());
            words.push(shell_word(&self.state.state_dir.to_string_lossy()));
        }
        if let Some(aws) = self.aws {
            for (flag, value) in
                [("--region", &aws.region), ("--profile", &aws.profile), ("--endpoint-url", &aws.endpoint_url)]
            {
                if let Some(v) = value {
                    words.push(flag.into());
                    words.push(shell_word(v));
                }
            }
        }
        words.join(" ")
    }
}

/// `s` as one word for a POSIX shell: as it is when that is safe, else single-quoted.
fn shell_word(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-=:,+@%".contains(c);
    if !s.is_empty() && s.chars().all(safe) { s.to_string() } else { format!("'{}'", s.replace('\'', "'\\''")) }
}

fn connect_args(aws: &AwsArgs) -> Connect {
    Connect {
        region: aws.region.clone(),
        profile: aws.profile.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        emulator: aws.emulator.map(|super::EmulatorArg::Moto| Emulator::Moto),
        timeouts: Timeouts {
            connect: Duration::from_secs(aws.connect_timeout),
            read: Duration::from_secs(aws.read_timeout),
        },
    }
}

/// The stack's state wherever it lives, without locking it.
pub(super) fn read_state(loc: &Location, stack: &str, aws: &AwsArgs) -> Result<State, StateError> {
    StateStore::read_at(loc, stack, &connect_args(aws))
}

async fn connect(aws: &AwsArgs) -> Result<Ctx, ExitCode> {
    let connect = connect_args(aws);
    Ctx::new(&connect).await.map_err(|e| {
        eprintln!("error: cannot connect to AWS: {}: {}: {}", e.operation, e.code, e.message);
        if let Some(h) = e.hint {
            eprintln!("help: {h}");
        }
        ExitCode::from(EXIT_FAILED)
    })
}

pub(super) fn deploy(plan: &PlanArgs, aws: &AwsArgs, run: &RunArgs, verbose: u8) -> ExitCode {
    let checked = match super::load_checked(plan, run.output == Output::Json) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let policy = match run.on_failure {
        super::FailurePolicy::Rollback => OnFailure::Rollback,
        super::FailurePolicy::Keep => OnFailure::Keep,
    };
    execute(checked, plan, aws, run, Job::Deploy(policy), verbose)
}

/// The plan checked with every policy rule waived: for what must work whatever the policy says
/// (teardown, unlock, moving the state).
fn load_unpoliced(plan: &PlanArgs, json: bool) -> Result<Checked, ExitCode> {
    let mut args = PlanArgs { plan: plan.plan.clone(), vars: plan.vars.clone(), allow: plan.allow.clone() };
    args.allow.extend(crate::check::policy::RULES.iter().map(|r| r.id.to_string()));
    super::load_checked(&args, json)
}

pub(super) fn teardown(plan: &PlanArgs, aws: &AwsArgs, run: &RunArgs, discover: bool, verbose: u8) -> ExitCode {
    // Teardown must never be blocked by the policy: what exists has to be deletable.
    let checked = match load_unpoliced(plan, run.output == Output::Json) {
        Ok(c) => c,
        Err(code) => return code,
    };
    execute(checked, plan, aws, run, Job::Teardown { discover }, verbose)
}

enum Job {
    Deploy(OnFailure),
    Teardown { discover: bool },
}

fn execute(checked: Checked, plan: &PlanArgs, aws: &AwsArgs, run: &RunArgs, job: Job, verbose: u8) -> ExitCode {
    let again = Again { plan, state: &run.state, aws: Some(aws) };
    let location = match run.state.location(checked.plan.state.as_deref()) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let lock = LockOptions {
        lease: Duration::from_secs(run.state.lock_lease),
        operation: match job {
            Job::Deploy(_) => "deploy",
            Job::Teardown { .. } => "teardown",
        }
        .into(),
    };
    // The state is opened (locked, validated) before any other AWS call.
    let store = match StateStore::open_at(&location, &checked.stack(), &connect_args(aws), &lock) {
        Ok(s) => s,
        Err(e) => return state_refused(&e, &again),
    };
    let lease = store.lease_watch();
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let mut store = store;
    // --refresh: the state as AWS has it, for the diff and the deploy (written only if the
    // deploy goes ahead).
    let mut refreshed = None;
    if let (Job::Deploy(_), true) = (&job, run.refresh) {
        match refresh(&rt, aws, store.state()) {
            Ok(s) => refreshed = Some(s),
            Err(code) => return code,
        }
    }
    // A change deploy will not make is refused before any AWS call: the state has what it
    // needs to tell (a replacement, a resource that holds data, an update ironplan cannot make).
    // (The engine refuses the same on its own, for library callers; here it is before the
    // first AWS call, STS's included, and with the diff printed.)
    let allowed = crate::engine::Allowed {
        replace: run.allow_replace.iter().cloned().collect(),
        delete: run.allow_delete.iter().cloned().collect(),
    };
    if let Job::Deploy(_) = job {
        let change = crate::diff::diff(&checked, refreshed.as_ref().unwrap_or(store.state()));
        let refused = change.refusals(&allowed.replace, &allowed.delete);
        if !refused.is_empty() {
            eprintln!("error: deploy refuses this change; nothing was called:\n");
            eprint!("{}", change.render_text(&[]));
            for f in &refused {
                eprintln!("\nerror: {}: {}\n  help: {}", f.resource, f.why, f.help);
            }
            return ExitCode::from(EXIT_STATE);
        }
    }
    if let Some(state) = refreshed
        && let Err(e) = store.update(|st| *st = state)
    {
        return state_refused(&e, &again);
    }
    rt.block_on(async move {
        let mut ctx = match connect(aws).await {
            Ok(c) => c,
            Err(code) => return code,
        };
        let waiter = match run.waiter {
            super::WaiterArg::Adaptive => crate::waiter::PollPolicy::default(),
            super::WaiterArg::TerraformLike => crate::waiter::PollPolicy::terraform_like(),
        };
        ctx.poll = waiter.with_scale(run.time_scale);
        let opts = RunOptions { parallelism: run.parallelism.map(usize::from), time_scale: run.time_scale };
        let total = match &job {
            Job::Deploy(_) => checked.graph.len(),
            Job::Teardown { discover: false } => store.state().resources.len(),
            Job::Teardown { discover: true } => checked.graph.len(),
        };
        let stack = checked.stack();
        let (tx, rx) = unbounded_channel();
        let engine = Engine::new(ctx, checked, store, tx, opts).allowing(allowed);
        let lease_lost = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        if let Some(mut lease) = lease {
            let (stopper, lost) = (engine.stopper(), lease_lost.clone());
            tokio::spawn(async move {
                if lease.wait_for(|lost| *lost).await.is_ok() {
                    lost.store(true, std::sync::atomic::Ordering::SeqCst);
                    stopper.stop_and_keep();
                    eprintln!(
                        "\nerror: the state lock's lease could not be renewed: no new resource starts; running calls \
                         finish and their results are saved, nothing is rolled back (a write another run made \
                         meanwhile is never overwritten)"
                    );
                }
            });
        }
        tokio::spawn(crate::engine::on_interrupts(
            || async { tokio::signal::ctrl_c().await.is_ok() },
            engine.stopper(),
            || eprintln!("\nstopping: no new resource starts; running calls finish (Ctrl-C again to exit now; the state stays consistent)"),
            || std::process::exit(i32::from(EXIT_INTERRUPTED)),
        ));
        let verb = match job {
            Job::Deploy(_) => "deploy",
            Job::Teardown { .. } => "teardown",
        };
        // Log lines would garble the live view: with logs on, progress is one line per event.
        let live = run.output == Output::Auto && std::io::stderr().is_terminal() && !super::logging::verbose(verbose);
        let renderer = tokio::spawn(render(rx, run.output, live, total, format!("{verb} {stack}")));
        let result = match job {
            Job::Deploy(on_failure) => engine.deploy(on_failure).await,
            Job::Teardown { discover } => {
                if discover {
                    let found = engine.discover().await;
                    if run.output != Output::Json {
                        eprintln!("discovered {} of the plan's resources in AWS", found.found.len());
                        if !found.not_ours.is_empty() {
                            eprintln!(
                                "left as they are, not this stack's: {}\n  help: ironplan deletes only what carries this stack's tags; remove those yourself if they are leftovers",
                                found.not_ours.join(", ")
                            );
                        }
                    }
                }
                engine.teardown().await
            }
        };
        drop(engine); // closes the event channel: the renderer finishes
        let _ = renderer.await;
        match result {
            Ok(summary) if lease_lost.load(std::sync::atomic::Ordering::SeqCst) => {
                let _ = finish(&summary, run.output, verb);
                eprintln!("error: stopped: the state lock was lost\nhelp: run the same command again once the stack's lock is free: it resumes from the state");
                ExitCode::from(EXIT_FAILED)
            }
            Ok(summary) => finish(&summary, run.output, verb),
            Err(e) => state_refused(&e, &again),
        }
    })
}

/// Prints the summary and picks the exit code.
fn finish(s: &RunSummary, output: Output, verb: &str) -> ExitCode {
    if output == Output::Json {
        let mut v = serde_json::to_value(s).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("event".into(), "summary".into());
            o.insert("ok".into(), s.ok().into());
        }
        println!("{v}");
    } else {
        let mut parts = Vec::new();
        for (n, what) in [
            (s.created.len(), "created"),
            (s.replaced.len(), "replaced"),
            (s.updated.len(), "updated"),
            (s.existing.len(), "already existed"),
            (s.deleted.len(), "deleted"),
            (s.rolled_back.len(), "rolled back"),
            (s.restored.len(), "restored"),
            (s.kept.len(), "kept"),
            (s.failed.len(), "failed"),
            (s.not_started.len(), "not started"),
        ] {
            if n > 0 || (what == "created" && verb == "deploy") || (what == "deleted" && verb == "teardown") {
                parts.push(format!("{n} {what}"));
            }
        }
        eprintln!(
            "\n{verb} {}: {} in {}",
            if s.ok() { "done" } else { "failed" },
            parts.join(", "),
            secs(s.elapsed_secs)
        );
        for f in &s.failed {
            eprintln!("error: {} ({}): {} failed: {}: {}", f.resource, f.type_name, f.operation, f.code, f.message);
            if let Some(h) = &f.hint {
                eprintln!("  help: {h}");
            }
        }
        if !s.rolled_back.is_empty() {
            eprintln!("rolled back (deleted again): {}", s.rolled_back.join(", "));
        }
        if !s.restored.is_empty() {
            eprintln!("rolled back (old values put back): {}", s.restored.join(", "));
        }
        if !s.kept.is_empty() {
            eprintln!(
                "kept, recorded in the state: {}\n  help: run `ironplan deploy` to resume, or `ironplan teardown` to remove them",
                s.kept.join(", ")
            );
        }
        if s.interrupted {
            eprintln!("interrupted: the state records exactly what exists");
        }
        for f in &s.refused {
            eprintln!("error: {}: {}\n  help: {}", f.resource, f.why, f.help);
        }
        if !s.outputs.is_empty() {
            println!("outputs:");
            let w = s.outputs.keys().map(String::len).max().unwrap_or(0);
            for (k, v) in &s.outputs {
                println!("  {k:w$} = {}", v.as_str().map_or_else(|| v.to_string(), str::to_string));
            }
        }
    }
    if s.ok() {
        ExitCode::SUCCESS
    } else if !s.refused.is_empty() {
        ExitCode::from(EXIT_STATE)
    } else if s.interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

/// Shows events as they come: a live view on a terminal, one line each otherwise, or JSON.
async fn render(mut rx: UnboundedReceiver<Event>, output: Output, live: bool, total: usize, title: String) {
    let started = Instant::now();
    let mut done = 0usize;
    let mp =
        MultiProgress::with_draw_target(if live { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() });
    let main = mp.add(ProgressBar::new(total as u64));
    main.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} · {elapsed_precise}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    main.set_prefix(title.clone());
    if live {
        main.enable_steady_tick(Duration::from_millis(200));
    }
    let spinner = ProgressStyle::with_template("  {spinner} {prefix:28} {msg} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let mut inflight: std::collections::HashMap<String, ProgressBar> = std::collections::HashMap::new();
    if output != Output::Json && !live {
        eprintln!("{title}: {total} resources");
    }
    while let Some(ev) = rx.recv().await {
        if output == Output::Json {
            if let Ok(line) = serde_json::to_string(&ev) {
                println!("{line}");
            }
            continue;
        }
        let (line, finished) = describe(&ev);
        if finished {
            done += 1;
            main.set_position(done as u64);
        }
        if live {
            let resource = resource_of(&ev).to_string();
            match &ev {
                Event::Started { type_name, .. }
                | Event::Deleting { type_name, .. }
                | Event::Updating { type_name, .. } => {
                    let pb = mp.insert_before(&main, ProgressBar::new_spinner());
                    pb.set_style(spinner.clone());
                    pb.set_prefix(resource.clone());
                    let doing = match ev {
                        Event::Started { .. } => "creating",
                        Event::Updating { .. } => "updating",
                        _ => "deleting",
                    };
                    pb.set_message(format!("{type_name} · {doing}"));
                    pb.enable_steady_tick(Duration::from_millis(120));
                    inflight.insert(resource.clone(), pb);
                }
                Event::Created { type_name, .. } => {
                    if let Some(pb) = inflight.get(&resource) {
                        pb.set_message(format!("{type_name} · waiting until usable"));
                    }
                }
                Event::Retrying { code, .. } => {
                    if let Some(pb) = inflight.get(&resource) {
                        pb.set_message(format!("retrying after {code}"));
                    }
                }
                _ => {}
            }
            if finished || matches!(ev, Event::Failed { .. }) {
                if let Some(pb) = inflight.remove(&resource) {
                    pb.finish_and_clear();
                    mp.remove(&pb);
                }
                let _ = mp.println(line);
            }
        } else {
            eprintln!("[{:>7}] {line}", secs_precise(started.elapsed()));
        }
    }
    main.finish_and_clear();
}

fn secs_precise(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

fn resource_of(ev: &Event) -> &str {
    match ev {
        Event::Started { resource, .. }
        | Event::Created { resource, .. }
        | Event::Ready { resource, .. }
        | Event::Adopted { resource, .. }
        | Event::NotOurs { resource, .. }
        | Event::Exists { resource, .. }
        | Event::Retrying { resource, .. }
        | Event::Failed { resource, .. }
        | Event::Deleting { resource, .. }
        | Event::Updating { resource, .. }
        | Event::Updated { resource, .. }
        | Event::Deleted { resource, .. } => resource,
    }
}

/// One line for an event, and whether it finishes a resource.
fn describe(ev: &Event) -> (String, bool) {
    match ev {
        Event::Started { resource, type_name } => (format!("creating {resource} ({type_name})"), false),
        Event::Created { resource, id, .. } => (format!("created  {resource} = {id}, waiting until usable"), false),
        Event::Ready { resource, type_name, elapsed_secs, .. } => (
            format!("ready    {resource} ({type_name}) in {}", secs_precise(Duration::from_secs_f64(*elapsed_secs))),
            true,
        ),
        Event::Exists { resource, id, .. } => (format!("exists   {resource} = {id}"), true),
        Event::Adopted { resource, id, proof, .. } => (format!("adopted  {resource} = {id}: {proof}"), false),
        Event::NotOurs { resource, type_name, id, why } => {
            (format!("not ours {resource}: {type_name} `{id}` exists but {why}; left as it is"), false)
        }
        Event::Retrying { resource, operation, code, attempt, delay_secs } => (
            format!("retry    {resource}: {operation} answered {code} (attempt {attempt}, next in {delay_secs}s)"),
            false,
        ),
        Event::Failed { resource, type_name, operation, code, message, .. } => {
            (format!("FAILED   {resource} ({type_name}): {operation}: {code}: {message}"), false)
        }
        Event::Deleting { resource, id, .. } => (format!("deleting {resource} = {id}"), false),
        Event::Updating { resource, id, properties, .. } => {
            (format!("updating {resource} = {id}: {}", properties.join(", ")), false)
        }
        Event::Updated { resource, type_name, elapsed_secs, .. } => (
            format!("updated  {resource} ({type_name}) in {}", secs_precise(Duration::from_secs_f64(*elapsed_secs))),
            true,
        ),
        Event::Deleted { resource, type_name, elapsed_secs } => (
            format!("deleted  {resource} ({type_name}) in {}", secs_precise(Duration::from_secs_f64(*elapsed_secs))),
            true,
        ),
    }
}

/// The state as AWS has it (`--refresh`): every resource read; a failed read stops here.
pub(super) fn refresh(
    rt: &tokio::runtime::Runtime,
    aws: &AwsArgs,
    state: &crate::state::State,
) -> Result<crate::state::State, ExitCode> {
    let report = rt.block_on(async {
        let ctx = connect(aws).await?;
        Ok::<_, ExitCode>(crate::engine::drift(std::sync::Arc::new(ctx), state).await)
    })?;
    if report.incomplete() {
        for x in report.resources.iter().filter(|x| x.verdict == crate::engine::Verdict::Unknown) {
            eprintln!("error: cannot read {} ({}): {}", x.name, x.type_name, x.error.as_deref().unwrap_or(""));
        }
        eprintln!("help: nothing was changed; run the same command again, or without --refresh");
        return Err(ExitCode::from(EXIT_FAILED));
    }
    Ok(crate::engine::refreshed(state, &report))
}

pub(super) fn drift(plan: &PlanArgs, aws: &AwsArgs, state_args: &StateArgs, json: bool) -> ExitCode {
    let (checked, location) = match load_located(plan, state_args, false, json) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let state = match read_state(&location, &checked.stack(), aws) {
        Ok(s) => s,
        Err(e) => return state_refused(&e, &Again { plan, state: state_args, aws: Some(aws) }),
    };
    if state.resources.is_empty() {
        eprintln!(
            "error: stack `{}` has no resources in its state\nhelp: run `ironplan deploy` first",
            checked.stack()
        );
        return ExitCode::from(EXIT_FAILED);
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let report = rt.block_on(async {
        let ctx = connect(aws).await?;
        Ok::<_, ExitCode>(crate::engine::drift(std::sync::Arc::new(ctx), &state).await)
    });
    let report = match report {
        Ok(r) => r,
        Err(code) => return code,
    };
    if json {
        let mut v = serde_json::to_value(&report).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("schema_version".into(), 1.into());
            o.insert("drifted".into(), report.drifted().into());
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        use crate::engine::Verdict;
        println!(
            "drift of stack {}: {} resources read · {} in sync, {} drifted, {} deleted outside ironplan{}",
            report.stack,
            report.resources.len(),
            report.count(Verdict::InSync),
            report.count(Verdict::Drifted),
            report.count(Verdict::Deleted),
            match (report.count(Verdict::Unknown), report.count(Verdict::Unfinished)) {
                (0, 0) => String::new(),
                (u, f) => format!(", {u} unreadable, {f} left unfinished by a run"),
            }
        );
        for r in &report.resources {
            match r.verdict {
                Verdict::InSync => {}
                Verdict::Drifted => {
                    println!("  ~ {} ({}) {}", r.name, r.type_name, r.id);
                    for p in &r.properties {
                        println!("      {}: ironplan set {}, AWS has {}", p.property, p.expected, p.actual);
                    }
                }
                Verdict::Deleted => println!("  - {} ({}) {}: deleted outside ironplan", r.name, r.type_name, r.id),
                Verdict::Unknown => {
                    println!(
                        "  ? {} ({}) {}: {}",
                        r.name,
                        r.type_name,
                        r.id,
                        r.error.as_deref().unwrap_or("unreadable")
                    )
                }
                Verdict::Unfinished => {
                    println!(
                        "  … {} ({}): a run did not finish with it; `ironplan deploy` resumes it",
                        r.name, r.type_name
                    )
                }
            }
        }
        if report.drifted() {
            println!(
                "help: `ironplan deploy --refresh` puts back what it can change in place and creates again what was deleted"
            );
        }
    }
    if report.drifted() {
        ExitCode::from(super::EXIT_CHANGES)
    } else if report.incomplete() {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

pub(super) fn outputs(plan: &PlanArgs, json: bool, state_args: &StateArgs, aws: &AwsArgs) -> ExitCode {
    let (checked, location) = match load_located(plan, state_args, false, json) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let state = match read_state(&location, &checked.stack(), aws) {
        Ok(s) => s,
        Err(e) => return state_refused(&e, &Again { plan, state: state_args, aws: None }),
    };
    if state.outputs.is_empty() {
        eprintln!("error: stack `{}` has no outputs\nhelp: run `ironplan deploy` first", checked.stack());
        return ExitCode::from(EXIT_FAILED);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&state.outputs).unwrap_or_default());
    } else {
        let w = state.outputs.keys().map(String::len).max().unwrap_or(0);
        for (k, v) in &state.outputs {
            println!("{k:w$} = {}", v.as_str().map_or_else(|| v.to_string(), str::to_string));
        }
    }
    ExitCode::SUCCESS
}

/// The plan (every policy rule waived when `unpoliced`) and where its stack's state lives.
fn load_located(
    plan: &PlanArgs,
    state_args: &StateArgs,
    unpoliced: bool,
    json: bool,
) -> Result<(Checked, Location), ExitCode> {
    let checked = if unpoliced { load_unpoliced(plan, json)? } else { super::load_checked(plan, json)? };
    let location = state_args.location(checked.plan.state.as_deref())?;
    Ok((checked, location))
}

/// `ironplan unlock LOCK_ID`: prints the holder, and deletes the lock only if its ID is that one.
pub(super) fn unlock(id: &str, plan: &PlanArgs, state_args: &StateArgs, aws: &AwsArgs) -> ExitCode {
    let (checked, location) = match load_located(plan, state_args, true, false) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Location::S3(loc) = location else {
        eprintln!(
            "error: the state of stack `{}` is local ({location}): its lock is held by a running process and released by the OS when it ends\nhelp: nothing to unlock; to use an S3 state, pass --state s3://BUCKET/PREFIX",
            checked.stack()
        );
        return ExitCode::from(EXIT_USAGE);
    };
    let (stack, key, id_s) = (checked.stack(), loc.key(&checked.stack(), "lock"), id.to_string());
    let stack_s = stack.clone();
    let result = crate::state::s3::with_objects(&loc, &connect_args(aws), move |objs| async move {
        crate::state::s3::unlock(objs.as_ref(), &key, &stack_s, &id_s).await
    });
    match result {
        Ok(was) => {
            eprintln!("unlocked stack `{stack}`: it was held by {}", was.holder(crate::state::s3::now()));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}\nhelp: {}", e.hint());
            ExitCode::from(EXIT_STATE)
        }
    }
}

/// `ironplan state migrate --to LOCATION`: both locks held; the destination written and read
/// back, then the source deleted.
pub(super) fn migrate(plan: &PlanArgs, to: &str, state_args: &StateArgs, aws: &AwsArgs) -> ExitCode {
    let (checked, from) = match load_located(plan, state_args, true, false) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let to = match Location::parse(to) {
        Ok(l) => l,
        Err(why) => {
            eprintln!("error: --to: {why}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if from == to {
        eprintln!("error: the state is already at {to}");
        return ExitCode::from(EXIT_USAGE);
    }
    let stack = checked.stack();
    let connect = connect_args(aws);
    let lock = LockOptions { lease: Duration::from_secs(state_args.lock_lease), operation: "state migrate".into() };
    let again = Again { plan, state: state_args, aws: Some(aws) };
    let mut source = match StateStore::open_at(&from, &stack, &connect, &lock) {
        Ok(s) => s,
        Err(e) => return state_refused(&e, &again),
    };
    if source.state().resources.is_empty() && source.state().outputs.is_empty() {
        eprintln!("error: stack `{stack}` has no state at {from}\nhelp: check --state and the plan's [state]");
        return ExitCode::from(EXIT_USAGE);
    }
    let mut dest = match StateStore::open_at(&to, &stack, &connect, &lock) {
        Ok(s) => s,
        Err(e) => return state_refused(&e, &again),
    };
    if !dest.state().resources.is_empty() {
        eprintln!(
            "error: {to} already holds a state of stack `{stack}` ({} resources); nothing was moved\nhelp: a state is never merged or overwritten: remove one of them yourself if it is stale",
            dest.state().resources.len()
        );
        return ExitCode::from(EXIT_STATE);
    }
    let state = source.state().clone();
    if let Err(e) = dest.update(|s| *s = state.clone()) {
        return state_refused(&e, &again);
    }
    // Read back through a fresh read before anything is deleted.
    match StateStore::read_at(&to, &stack, &connect) {
        Ok(back) if back == state => {}
        Ok(_) => {
            eprintln!("error: the state read back from {to} differs from what was written; the source was kept");
            return ExitCode::from(EXIT_STATE);
        }
        Err(e) => return state_refused(&e, &again),
    }
    if let Err(e) = source.delete_state() {
        eprintln!(
            "error: the state was copied to {to} but the source could not be deleted: {e}\nhelp: delete it by hand; both are identical"
        );
        return ExitCode::from(EXIT_STATE);
    }
    for store in [dest, source] {
        if let Err(e) = store.close() {
            eprintln!("warning: {e}");
        }
    }
    eprintln!(
        "moved the state of stack `{stack}` ({} resources) from {from} to {to}\nhelp: pass --state {to} from now on (or set it in the plan's [state] table)",
        state.resources.len()
    );
    ExitCode::SUCCESS
}
