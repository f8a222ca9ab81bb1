//! `rt-agent` binary: a thin entry point over the `rt_agent` library.
fn main() -> anyhow::Result<()> {
    rt_agent::run()
}
