//! `rt-server` binary: a thin entry point over the `rt_server` library.
use std::process::ExitCode;

fn main() -> ExitCode {
    rt_server::cli::exit_quietly_on_closed_stdout();
    match rt_server::cli::main() {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of stdout went away (`| head`): it has what it wanted.
        Err(e) if rt_server::cli::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the cause chain on one line, without a backtrace.
            eprintln!("rt-server: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
