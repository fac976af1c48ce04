//! Crash points, for the tests that kill a process between two steps of a flow where a crash
//! hurts most (`VIGIL_FAILPOINT=erasure-after-request` aborts there, as `kill -9` would).
//!
//! Must not exist in what production runs: only debug builds look at the variable; a release
//! build compiles every point to nothing.

/// Aborts the process when `VIGIL_FAILPOINT` names this point (debug builds only).
pub fn hit(name: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("VIGIL_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("failpoint {name}: aborting the process");
        std::process::abort();
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
