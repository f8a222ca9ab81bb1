//! rt-agent library (filled by its own issue).

/// Entry point used by the binary.
pub fn run() -> anyhow::Result<()> {
    eprintln!("rt-agent: not built yet");
    Ok(())
}
