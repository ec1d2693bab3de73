//! Printing results: JSON for scripts, aligned text for people.

use serde::Serialize;

/// Prints `value` as pretty JSON.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
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
        println!("{}", padded.join("  ").trim_end());
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
