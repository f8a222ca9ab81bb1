//! `rt-sim` binary: a thin entry point over the `rt_sim` library.
use clap::Parser;

fn main() {
    let cli = rt_sim::cli::Cli::parse();
    let code = match rt_sim::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rt-sim: error: {e:#}");
            1
        }
    };
    std::process::exit(code);
}
