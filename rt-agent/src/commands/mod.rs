//! One file per subcommand. Each `run` returns the process exit code.

pub mod collect;
pub mod enroll;
pub mod install;
pub mod inventory;
pub mod queue;
pub mod run;
pub mod status;
pub mod sync;
pub mod uninstall;
