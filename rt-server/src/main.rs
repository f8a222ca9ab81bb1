//! `rt-server` binary: a thin entry point over the `rt_server` library.
fn main() -> anyhow::Result<()> {
    rt_server::cli::main()
}
