//! The `ironplan` binary: everything lives in the library; see `ironplan::cli`.

fn main() -> std::process::ExitCode {
    ironplan::cli::main()
}
