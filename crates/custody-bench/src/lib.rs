//! What the benchmarks share: the reference organisation's people file, the peak memory, and
//! the parts of a match timed alone (`floor`).

use std::io::{BufWriter, Write};
use std::path::Path;

pub mod floor;

/// The allocator custody's own binary uses, so the benchmarks measure what a user runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Peak resident memory of this process so far, in MiB.
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Writes the reference organisation's people: `P00000001`…, `alex.N@example.org`, six in ten
/// with a phone, names `AlexK SmithL`, postcodes and dates of birth.
pub fn write_people(path: &Path, count: u32) -> anyhow::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "Member Number,Forename,Surname,Email,Mobile,Post Code,DOB,Category,Joined,Left"
    )?;
    // Six in ten people have a phone: a mobile number of their own (see `phone_of`).
    let mut rng = fastrand::Rng::with_seed(7);
    for index in 1..=count {
        let category = ["Member", "Registered Supporter", "Affiliated Supporter", "Donor"]
            .get(rng.usize(..4))
            .copied()
            .unwrap_or("Member");
        // About one in six has left, some time after joining.
        let joined = rng.u16(2000..2021);
        let left = if rng.u8(0..6) == 0 {
            format!("{}-06-30", rng.u16(joined..2024))
        } else {
            String::new()
        };
        let phone = if rng.u8(0..10) < 6 {
            phone_of(index)
        } else {
            String::new()
        };
        writeln!(
            out,
            "P{index:08},Alex{},Smith{},alex.{index}@example.org,{phone},SW{} {}AA,{:02}/{:02}/{},{category},{joined}-01-01,{left}",
            index % 97,
            index % 89,
            rng.u8(1..30),
            rng.u8(0..10),
            rng.u8(1..29),
            rng.u8(1..13),
            rng.u16(1940..2006),
        )?;
    }
    // On disk before the import is timed, as an export written before its import is: otherwise
    // the kernel writes this gigabyte back during the import, on the same two cores.
    out.into_inner()
        .map_err(std::io::IntoInnerError::into_error)?
        .sync_all()?;
    Ok(())
}

/// Person `index`'s mobile number: unique, and valid to the phone library (07800 0000000 to
/// 07810 0000000 are mobile ranges; the benchmark's people are never contacted).
pub fn phone_of(index: u32) -> String {
    format!("078{index:08}")
}

/// Runs `run` in `keep` when given (kept for reruns), else in a temporary directory named after
/// `name` and this process, removed afterwards.
pub fn in_root(
    keep: Option<&Path>,
    name: &str,
    run: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    match keep {
        Some(root) => run(root),
        None => {
            let root = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
            let result = run(&root);
            let _ = std::fs::remove_dir_all(&root);
            result
        }
    }
}
