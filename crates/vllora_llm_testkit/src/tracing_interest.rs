//! Span capture that cannot be lost to a test running beside it.
//!
//! `tracing` caches, per callsite, whether any subscriber is interested in it. A test that captures
//! spans with `tracing::subscriber::set_default` shares its callsites with the other tests of its binary,
//! which run at the same time on other threads with no subscriber. When one of those registers a
//! callsite at the moment the capturing test installs its subscriber, the callsite can be cached as
//! "never" and the capturing test sees no span at all (a clean-clone CI run failed so, with an empty
//! capture). A global subscriber that is interested in everything and records nothing closes that
//! window: with it in place before any callsite is reached, no callsite is ever cached as "never", and
//! each span goes to the subscriber of its own thread.

use std::sync::Once;

use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

/// Installs, once per test binary, a global subscriber that keeps every callsite's interest open and
/// records nothing. Every test of a binary that captures spans calls it first, before it reaches the
/// library, so that the capture of one test never depends on the timing of the others.
pub fn open_tracing_interest() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // Fails only when a global subscriber is already set, which then decides interest instead.
        let _ = tracing::subscriber::set_global_default(OpenInterest);
    });
}

struct OpenInterest;

impl Subscriber for OpenInterest {
    fn register_callsite(&self, _metadata: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }
    fn enabled(&self, _metadata: &Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _attributes: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _span: &Id, _values: &Record<'_>) {}
    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
    fn event(&self, _event: &Event<'_>) {}
    fn enter(&self, _span: &Id) {}
    fn exit(&self, _span: &Id) {}
}
