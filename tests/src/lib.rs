//! Test kit shared by the end-to-end suites.
