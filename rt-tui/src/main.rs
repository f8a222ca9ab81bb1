//! `rt-tui` binary: a thin entry point over the `rt_tui` library.
fn main() -> anyhow::Result<()> {
    rt_tui::run()
}
