//! `rt-agent` binary: a thin entry point over the `rt_agent` library.
fn main() {
    std::process::exit(rt_agent::run());
}
