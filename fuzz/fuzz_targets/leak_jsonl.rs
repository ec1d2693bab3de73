//! Any bytes as a leaked file read as format `Jsonl` (see `leak_common.rs`).
#![no_main]

#[path = "leak_common.rs"]
mod leak_common;

use custody_ingest::leak::LeakFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leak_common::read_all(data, LeakFormat::Jsonl));
