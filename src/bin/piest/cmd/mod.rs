//! One file per subcommand, each one flow: validated config → library → renderer → stdout. A
//! command returns an error for `main` to map to an exit status; it never exits itself.

pub mod cache;
pub mod completions;
pub mod darts;
pub mod estimate;
pub mod man;
pub mod merge;
pub mod methods;
pub mod scale;
pub mod stream;
