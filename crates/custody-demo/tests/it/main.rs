//! custody-app's use cases tested in process with a fixed clock (the middle boundary): the
//! demo's incident and the documents it produces, and the use cases on one shared fixture
//! restored onto each backend.

// Test code may panic: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod fixture;
mod golden;
mod use_cases;
