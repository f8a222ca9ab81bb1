//! `rt-tui` binary: a thin entry point over the `rt_tui` library.
fn main() -> std::process::ExitCode {
    rt_tui::main_exit()
}
