//! SIGINT (Ctrl-C), SIGTERM and SIGHUP: each sets the cancel flag every long command passes to
//! the library, and remembers which signal came, so that after cleaning up the process can die
//! by that same signal ([`crate::exit::ExitStatus::Interrupted`]). Once the flag is set, a second
//! signal ends the process at once. The Unix code uses `signal-hook`; Windows catches Ctrl-C
//! (and Ctrl-Break, a closed console) through its console control handler with `ctrlc`, and
//! exits with status 130 instead of dying by a signal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Lets a write beyond the file-size limit (`ulimit -f`) fail with an error (EFBIG) instead of
/// killing the process with SIGXFSZ: a cache entry too large to write is then a cache warning,
/// and any other file an error that names it.
pub fn ignore_file_size_limit() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN before any thread starts.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// A signal that stops a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: a polite kill (a scheduler cancelling a job).
    Terminate,
    /// SIGHUP: the terminal went away.
    Hangup,
}

impl Signal {
    /// The signal's number (the same on Linux, macOS and the BSDs).
    pub fn number(self) -> u8 {
        match self {
            Signal::Hangup => 1,
            Signal::Interrupt => 2,
            Signal::Terminate => 15,
        }
    }

    fn from_number(number: usize) -> Option<Signal> {
        [Signal::Interrupt, Signal::Terminate, Signal::Hangup]
            .into_iter()
            .find(|s| usize::from(s.number()) == number)
    }

    /// Dies by this signal: its default handler restored, the signal raised. Returns only where
    /// that is impossible (not on Unix, or the raise failed); the caller then exits with the
    /// status a shell shows for the signal.
    pub fn die(self) {
        #[cfg(unix)]
        {
            let _ = signal_hook::low_level::emulate_default_handler(i32::from(self.number()));
        }
    }
}

/// The signals caught, and what they set.
pub struct Interrupt {
    cancel: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

impl Interrupt {
    /// Starts catching SIGINT, SIGTERM and SIGHUP. A signal whose handler cannot be installed
    /// keeps its default action (the process ends at once, without clean-up): no harm is done.
    pub fn install() -> Self {
        let interrupt = Interrupt {
            cancel: Arc::new(AtomicBool::new(false)),
            which: Arc::new(AtomicUsize::new(0)),
        };
        interrupt.register();
        interrupt
    }

    #[cfg(unix)]
    fn register(&self) {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        use signal_hook::flag;
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            // Actions run in the order registered: the first checks whether an earlier signal
            // already set the flag, and if so dies by this one at once.
            let _ = flag::register_conditional_default(signal, Arc::clone(&self.cancel));
            let _ = flag::register_usize(signal, Arc::clone(&self.which), signal as usize);
            let _ = flag::register(signal, Arc::clone(&self.cancel));
        }
    }

    /// Windows: the console control handler (through `ctrlc`), not the C runtime's `signal()`
    /// emulation, which under msvcrt installs signal-hook's "only ask" value as the handler and
    /// crashes on the first Ctrl-C. Ctrl-C, Ctrl-Break and a closed console window all count as
    /// Ctrl-C; the handler runs on a thread of its own, so a second one exits at once from there.
    #[cfg(windows)]
    fn register(&self) {
        let cancel = Arc::clone(&self.cancel);
        let which = Arc::clone(&self.which);
        let code = i32::from(128 + Signal::Interrupt.number());
        let _ = ctrlc::set_handler(move || {
            if cancel.load(Ordering::SeqCst) {
                std::process::exit(code);
            }
            which.store(usize::from(Signal::Interrupt.number()), Ordering::SeqCst);
            cancel.store(true, Ordering::SeqCst);
        });
    }

    /// Neither Unix nor Windows: nothing is caught, Ctrl-C keeps its default action.
    #[cfg(not(any(unix, windows)))]
    fn register(&self) {}

    /// Catches nothing: SIGINT, SIGTERM and SIGHUP keep their default actions and end the
    /// process at once, wherever it is (for a command with nothing to clean up, such as one
    /// that may block writing to a pipe, where a flag would never be looked at).
    pub fn default_actions() -> Self {
        Interrupt {
            cancel: Arc::new(AtomicBool::new(false)),
            which: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The flag the library's long operations watch.
    pub fn flag(&self) -> &AtomicBool {
        &self.cancel
    }

    /// The signal that set the flag, if any.
    pub fn received(&self) -> Option<Signal> {
        if !self.cancel.load(Ordering::SeqCst) {
            return None;
        }
        // The flag is set after the number is stored; an unknown number (another platform's
        // termination request) counts as Ctrl-C.
        Some(Signal::from_number(self.which.load(Ordering::SeqCst)).unwrap_or(Signal::Interrupt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_numbers_round_trip() {
        for signal in [Signal::Interrupt, Signal::Terminate, Signal::Hangup] {
            assert_eq!(
                Signal::from_number(usize::from(signal.number())),
                Some(signal)
            );
        }
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            assert_eq!(i32::from(Signal::Interrupt.number()), SIGINT);
            assert_eq!(i32::from(Signal::Terminate.number()), SIGTERM);
            assert_eq!(i32::from(Signal::Hangup.number()), SIGHUP);
        }
    }
}
