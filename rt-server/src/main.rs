//! `rt-server` binary: a thin entry point over the `rt_server` library.
use std::process::ExitCode;

fn main() -> ExitCode {
    match rt_server::cli::main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the cause chain on one line, without a backtrace.
            eprintln!("rt-server: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
