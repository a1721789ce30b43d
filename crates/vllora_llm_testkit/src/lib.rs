//! Loopback mock servers for tests (being written).
