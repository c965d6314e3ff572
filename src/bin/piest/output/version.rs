//! `piest --version --verbose`: the version line, then what a bug report needs to know about
//! this build and this CPU: the algorithm version and the kernels this CPU runs or cannot run.

use piest::{ALGORITHM, Kernel};

/// The lines printed after clap's version line, each ending in a newline.
pub fn details() -> String {
    let mut out = format!("algorithm: {ALGORITHM}\n");
    let runs: Vec<&str> = Kernel::available().into_iter().map(Kernel::name).collect();
    out.push_str(&format!(
        "kernels this CPU runs: {} (auto: {})\n",
        runs.join(", "),
        Kernel::best().name()
    ));
    for kernel in Kernel::all().into_iter().filter(|k| !k.is_supported()) {
        out.push_str(&format!(
            "kernel {} cannot run here: needs {}\n",
            kernel.name(),
            kernel.missing_features().join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_is_named_once_as_runnable_or_not() {
        let text = details();
        assert!(text.starts_with(&format!("algorithm: {ALGORITHM}\n")));
        for kernel in Kernel::all() {
            let runs = text.lines().nth(1).is_some_and(|l| {
                l.split([':', ',', ' ', '(', ')'])
                    .any(|w| w == kernel.name())
            });
            let refused = text.contains(&format!("kernel {} cannot run here", kernel.name()));
            assert!(runs != refused, "{}: {text}", kernel.name());
            assert_eq!(runs, kernel.is_supported());
        }
        assert!(text.contains(&format!("(auto: {})", Kernel::best().name())));
    }
}
