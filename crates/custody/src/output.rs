//! Printing results: JSON for scripts, aligned text for people.
//!
//! Everything custody prints passes through [`terminal_safe`]: text from the ledger (a summary,
//! a timeline entry, a supplier's statement, a leaked file's column name) may hold escape
//! sequences that would rewrite the screen of whoever runs the command, so control characters
//! other than line breaks and tabs, and the bidirectional overrides that reorder what is shown
//! ("Trojan Source", CVE-2021-42574), are printed as visible escapes. custody's own formatting
//! (the progress line on standard error) does not go through it.

use std::borrow::Cow;
use std::io::Write;

use serde::Serialize;

/// Prints a line to standard output, as `println!` does, with control characters made visible.
#[macro_export]
macro_rules! say {
    ($($argument:tt)*) => {
        $crate::output::write_out(&format!($($argument)*), true)
    };
}

/// Prints to standard output, as `print!` does, with control characters made visible.
#[macro_export]
macro_rules! say_raw {
    ($($argument:tt)*) => {
        $crate::output::write_out(&format!($($argument)*), false)
    };
}

/// Whether a character must not reach a terminal as it is.
fn unsafe_for_terminal(character: char) -> bool {
    (character.is_control() && character != '\n' && character != '\t')
        || matches!(character, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character but line breaks and tabs written as `\u{..}`.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_for_terminal) {
        return Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len() + 16);
    for character in text.chars() {
        if unsafe_for_terminal(character) {
            safe.push_str(&format!("\\u{{{:x}}}", u32::from(character)));
        } else {
            safe.push(character);
        }
    }
    Cow::Owned(safe)
}

/// Writes `text` made terminal-safe to standard output. A closed pipe (`custody … | head`) ends
/// the output quietly instead of panicking as `println!` would.
pub fn write_out(text: &str, line: bool) {
    let mut out = std::io::stdout().lock();
    let safe = terminal_safe(text);
    let _ = out.write_all(safe.as_bytes());
    if line {
        let _ = out.write_all(b"\n");
    }
}

/// Prints `value` as pretty JSON.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    crate::say!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints rows as a table with a header, columns padded to their widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|header| header.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        crate::say!("{}", padded.join("  ").trim_end());
    };
    line(headers.iter().map(|header| (*header).to_owned()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// Runs `work`, showing `counter` on standard error once a second while it runs, when standard
/// error is a terminal (never in scripts or logs).
pub fn with_progress<T>(counter: &std::sync::atomic::AtomicU64, what: &str, work: impl FnOnce() -> T) -> T {
    with_status(
        |elapsed| {
            (elapsed >= 1.0).then(|| {
                let count = counter.load(std::sync::atomic::Ordering::Relaxed);
                format!("{count} {what} ({:.0}/s, {elapsed:.0} s)", count as f64 / elapsed)
            })
        },
        work,
    )
}

/// Runs `work`, redrawing the line `status` gives (from the seconds elapsed) on standard error
/// five times a second, when standard error is a terminal; `None` draws nothing.
pub fn with_status<T>(status: impl Fn(f64) -> Option<String> + Sync, work: impl FnOnce() -> T) -> T {
    use std::io::IsTerminal;
    use std::sync::atomic::Ordering;
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let display = scope.spawn(|| {
            let started = std::time::Instant::now();
            let mut shown = false;
            while !done.load(Ordering::Relaxed) {
                std::thread::park_timeout(std::time::Duration::from_millis(200));
                if done.load(Ordering::Relaxed) {
                    break;
                }
                if let Some(line) = status(started.elapsed().as_secs_f64()) {
                    eprint!("\r{line}   ");
                    shown = true;
                }
            }
            if shown {
                eprintln!();
            }
        });
        // Stops the display however `work` ends, so a failure cannot leave the process waiting.
        struct Stop<'a>(&'a std::sync::atomic::AtomicBool, &'a std::thread::Thread);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
                self.1.unpark();
            }
        }
        let _stop = Stop(&done, display.thread());
        work()
    })
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn escape_sequences_and_overrides_are_shown_not_obeyed() {
        assert_eq!(terminal_safe("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            terminal_safe("\u{1b}[2J\u{1b}]0;owned\u{7}"),
            "\\u{1b}[2J\\u{1b}]0;owned\\u{7}"
        );
        assert_eq!(terminal_safe("a\rb\u{9b}c"), "a\\u{d}b\\u{9b}c");
        assert_eq!(terminal_safe("x\u{202e}y"), "x\\u{202e}y");
    }
}
