//! The manual page of `piest man`, in roff, generated from the one CLI definition
//! ([`crate::cli::Cli`]): the name, synopsis, description and options of an estimate, then a
//! section per subcommand with its own options and examples (hidden ones too: a manual is the
//! reference), then ENVIRONMENT and EXIT STATUS from the same tables the code uses
//! ([`crate::config::VARIABLES`], [`crate::exit::TABLE`]).

use std::io;

use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

/// The manual page of `cmd` (the root command, `piest`).
pub fn render(mut cmd: clap::Command) -> io::Result<String> {
    // Building propagates global flags and names each subcommand `piest <name>`.
    cmd.build();
    let man = Man::new(cmd.clone());
    let mut page = Page::default();
    page.piece(|w| man.render_title(w))?;
    page.piece(|w| man.render_name_section(w))?;
    page.piece(|w| man.render_synopsis_section(w))?;
    page.piece(|w| man.render_description_section(w))?;
    page.piece(|w| man.render_options_section(w))?;
    if let Some(after) = cmd.get_after_help() {
        // The root's epilogue ends with an environment list; ENVIRONMENT below has it in full.
        let text = after.to_string();
        let examples = text.split("\n\nEnvironment:").next().unwrap_or_default();
        page.roff(Roff::new().control("SH", ["EXAMPLES"]));
        page.roff(&preformatted(examples.trim_start_matches("Examples:\n")));
    }

    page.roff(Roff::new().control("SH", ["COMMANDS"]));
    // Clap's own `help` subcommand is left out: `--help` is documented with every command.
    for sub in cmd.get_subcommands().filter(|sub| sub.get_name() != "help") {
        subcommand(&mut page, sub)?;
    }

    let mut env = Roff::new();
    env.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in crate::config::VARIABLES {
        env.control("TP", [])
            .text([bold(*name)])
            .text([roman(*meaning)]);
    }
    page.roff(&env);

    let mut exit = Roff::new();
    exit.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in crate::exit::TABLE {
        exit.control("TP", [])
            .text([bold(*code)])
            .text([roman(meaning.replace('`', ""))]);
    }
    page.roff(&exit);
    page.piece(|w| man.render_version_section(w))?;
    Ok(ascii_escapes(&page.text))
}

/// One subcommand, and its own subcommands after it: a subsection with its synopsis, its
/// description, its options and its examples.
fn subcommand(page: &mut Page, cmd: &clap::Command) -> io::Result<()> {
    let name = cmd
        .get_bin_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_owned();
    page.roff(Roff::new().control("SS", [name.as_str()]));
    let man = Man::new(cmd.clone());
    page.body(|w| man.render_synopsis_section(w))?;
    page.body(|w| man.render_description_section(w))?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        page.body(|w| man.render_options_section(w))?;
    }
    if let Some(after) = cmd.get_after_help() {
        page.roff(&preformatted(&after.to_string()));
    }
    for sub in cmd.get_subcommands().filter(|sub| sub.get_name() != "help") {
        subcommand(page, sub)?;
    }
    Ok(())
}

/// Text shown line for line, as `--help` shows it.
fn preformatted(text: &str) -> Roff {
    let mut roff = Roff::new();
    roff.control("PP", []).control("nf", []);
    for line in text.trim_end().lines() {
        roff.text([roman(line)]);
    }
    roff.control("fi", []);
    roff
}

/// The page being assembled from pieces that each start with the roff crate's preamble.
#[derive(Default)]
struct Page {
    text: String,
}

impl Page {
    /// Appends what `render` writes, with the preamble once only.
    fn piece(&mut self, render: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> io::Result<()> {
        let mut bytes = Vec::new();
        render(&mut bytes)?;
        let text = String::from_utf8(bytes).map_err(io::Error::other)?;
        let preamble = Roff::new().render();
        match text.strip_prefix(preamble.as_str()) {
            Some(rest) if !self.text.is_empty() => self.text.push_str(rest),
            _ => self.text.push_str(&text),
        }
        Ok(())
    }

    /// Appends what `render` writes without its section heading (`.SH`): the piece becomes
    /// part of the current subsection.
    fn body(&mut self, render: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> io::Result<()> {
        let mut piece = Page::default();
        piece.piece(render)?;
        let preamble = Roff::new().render();
        let body = piece
            .text
            .strip_prefix(preamble.as_str())
            .unwrap_or(&piece.text);
        let mut lines = body.lines().filter(|line| !line.starts_with(".SH"));
        if let Some(first) = lines.next() {
            self.text.push_str(".PP\n");
            self.text.push_str(first);
            self.text.push('\n');
        }
        for line in lines {
            self.text.push_str(line);
            self.text.push('\n');
        }
        Ok(())
    }

    /// Appends roff built here.
    fn roff(&mut self, roff: &Roff) {
        let text = roff.render();
        let preamble = Roff::new().render();
        self.text
            .push_str(text.strip_prefix(preamble.as_str()).unwrap_or(&text));
    }
}

/// `text` with every non-ASCII character written as a groff escape (`\[u03C0]` for π), so that
/// the page reads the same whatever input encoding the formatter assumes.
fn ascii_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\[u{:04X}]", u32::from(c)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_characters_become_groff_escapes() {
        assert_eq!(ascii_escapes("π ≈ 3 …"), "\\[u03C0] \\[u2248] 3 \\[u2026]");
    }
}
