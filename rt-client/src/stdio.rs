//! A closed standard output (`rt-tui devices | head -1`) ends a program quietly with exit code
//! 0, as it does for the Unix tools it is piped into: the reader has what it wanted. Rust
//! ignores SIGPIPE, so a write to the closed pipe fails with `BrokenPipe`; `print!` turns that
//! into a panic and `write_all` into an error. [`exit_quietly_on_closed_stdout`] handles the
//! first, [`is_broken_pipe`] recognises the second. Every other write error (a full disk) stays
//! an error.

use std::io;

/// True when `err` or one of its sources is an I/O error of kind `BrokenPipe`.
pub fn is_broken_pipe(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// True for the message of the panic `print!`/`println!` raise on a closed stdout:
/// `failed printing to stdout: Broken pipe (os error 32)` (`os error 232` on Windows).
pub fn is_closed_stdout_panic(message: &str) -> bool {
    message.starts_with("failed printing to stdout")
        && (message.ends_with("(os error 32)") || message.ends_with("(os error 232)"))
}

/// Installs a panic hook that exits 0 without a message when the panic is a write to a closed
/// stdout; every other panic goes to the hook installed before. Call first thing in `main`.
pub fn exit_quietly_on_closed_stdout() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload_as_str().is_some_and(is_closed_stdout_panic) {
            std::process::exit(0);
        }
        previous(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipe_is_found_in_the_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("export failed")]
        struct Outer(#[source] io::Error);
        let closed = Outer(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&closed));
        let full = Outer(io::Error::from(io::ErrorKind::StorageFull));
        assert!(!is_broken_pipe(&full));
    }

    #[test]
    fn only_the_closed_stdout_panic_is_quiet() {
        assert!(is_closed_stdout_panic(
            "failed printing to stdout: Broken pipe (os error 32)"
        ));
        assert!(is_closed_stdout_panic(
            "failed printing to stdout: The pipe is being closed. (os error 232)"
        ));
        assert!(!is_closed_stdout_panic(
            "failed printing to stdout: No space left on device (os error 28)"
        ));
        assert!(!is_closed_stdout_panic("index out of bounds"));
    }
}
