//! [`without_tracing`]: run code whose dependencies log secrets with no `tracing` subscriber at all.

/// Runs `work` with no `tracing` subscriber on this thread, so that nothing it (or a dependency it
/// calls) logs reaches the application's subscriber, at any level.
///
/// For synchronous calls into dependencies that log secrets: `aws-sigv4` 1.3 (the newest release that
/// builds with this workspace's minimum Rust) logs at TRACE the canonical request and the request it
/// signs, which carry `x-amz-security-token` and the access key id. Signing runs inside this, whatever
/// the version in the lock file.
///
/// ```
/// let four = vllora_llm_http::without_tracing(|| {
///     tracing::trace!(secret = "never seen", "no subscriber receives this");
///     2 + 2
/// });
/// assert_eq!(four, 4);
/// ```
pub fn without_tracing<T>(work: impl FnOnce() -> T) -> T {
    tracing::dispatcher::with_default(&tracing::Dispatch::none(), work)
}
