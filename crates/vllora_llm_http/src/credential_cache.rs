//! [`CachedCredential`]: a cloud credential (AWS keys, an Entra ID or Google access token) fetched once,
//! kept, and fetched again shortly before it expires, by one caller at a time.
//!
//! Every cloud transport needs the same thing: a value that a token endpoint or a metadata service hands
//! out with an expiry. Calls take the kept value without waiting; the first call that finds it inside the
//! refresh window fetches a new one while concurrent callers wait for that one fetch (they never start
//! their own). A refresh that fails while the kept value has not expired yet keeps the old value (the
//! source may be briefly unreachable); once it has expired, the error is the caller's.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use vllora_llm_core::{BoxFuture, LLMResult};

/// A credential and when it stops working (`None`: it does not expire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiring<T> {
    /// The credential.
    pub value: T,
    /// When it stops working.
    pub expires_at: Option<SystemTime>,
}

impl<T> Expiring<T> {
    /// A credential that does not expire.
    pub fn forever(value: T) -> Self {
        Expiring { value, expires_at: None }
    }

    /// A credential valid until `expires_at`.
    pub fn until(value: T, expires_at: SystemTime) -> Self {
        Expiring { value, expires_at: Some(expires_at) }
    }
}

/// Where a credential comes from: one fetch per call of [`fetch`](CredentialSource::fetch). Its `Debug`
/// must not show secrets.
pub trait CredentialSource<T>: Send + Sync + fmt::Debug {
    /// Fetches a fresh credential. The error says what was tried and why it failed, never a secret.
    fn fetch(&self) -> BoxFuture<'_, LLMResult<Expiring<T>>>;
}

/// The time, by the system clock unless a test fixes it.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// A credential from a [`CredentialSource`], cached and refreshed before it expires, one refresh at a
/// time. Share it in an `Arc`: every clone of a model then uses the same cache.
pub struct CachedCredential<T> {
    source: Arc<dyn CredentialSource<T>>,
    current: RwLock<Option<Expiring<T>>>,
    refreshing: tokio::sync::Mutex<()>,
    refresh_before: Duration,
    clock: Clock,
}

impl<T> fmt::Debug for CachedCredential<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CachedCredential")
            .field("source", &self.source)
            .field("refresh_before", &self.refresh_before)
            .finish_non_exhaustive()
    }
}

/// How long before its expiry a credential is fetched again by default: five minutes, inside the
/// windows AWS's SDKs (5 to 15 minutes) and Google's and Azure's libraries (3 to 5 minutes) use, and
/// short enough for the 15-minute minimum lifetime of STS sessions.
pub const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(300);

impl<T: Clone + Send + Sync> CachedCredential<T> {
    /// Nothing fetched yet; the first [`get`](Self::get) fetches.
    pub fn new(source: Arc<dyn CredentialSource<T>>) -> Self {
        CachedCredential {
            source,
            current: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            refresh_before: DEFAULT_REFRESH_BEFORE,
            clock: Arc::new(SystemTime::now),
        }
    }

    /// Fetches again this long before the expiry (default [`DEFAULT_REFRESH_BEFORE`]).
    pub fn with_refresh_before(mut self, refresh_before: Duration) -> Self {
        self.refresh_before = refresh_before;
        self
    }

    /// Reads the time from `clock` instead of the system clock (for tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The source credentials come from.
    pub fn source(&self) -> &dyn CredentialSource<T> {
        self.source.as_ref()
    }

    /// The kept credential, when it is still fresh (outside the refresh window).
    fn fresh(&self, now: SystemTime) -> Option<T> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        let kept = current.as_ref()?;
        match kept.expires_at {
            None => Some(kept.value.clone()),
            Some(at) if now.checked_add(self.refresh_before).is_some_and(|soon| soon < at) => {
                Some(kept.value.clone())
            }
            Some(_) => None,
        }
    }

    /// The kept credential when it has not expired yet, even inside the refresh window.
    fn still_valid(&self, now: SystemTime) -> Option<T> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .filter(|kept| kept.expires_at.is_none_or(|at| now < at))
            .map(|kept| kept.value.clone())
    }

    /// The credential: the kept one while fresh, else a new one from the source (one fetch for all the
    /// callers waiting at that moment).
    pub async fn get(&self) -> LLMResult<T> {
        if let Some(value) = self.fresh((self.clock)()) {
            return Ok(value);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        // Whoever held the lock before us may have refreshed it.
        if let Some(value) = self.fresh((self.clock)()) {
            return Ok(value);
        }
        match self.source.fetch().await {
            Ok(fetched) => {
                let value = fetched.value.clone();
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(fetched);
                Ok(value)
            }
            Err(error) => match self.still_valid((self.clock)()) {
                Some(value) => {
                    tracing::warn!(%error, "refreshing a credential failed; the current one is still valid");
                    Ok(value)
                }
                None => Err(error),
            },
        }
    }

    /// Forgets the kept credential: the next [`get`](Self::get) fetches (after the server refused it).
    pub fn invalidate(&self) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::time::UNIX_EPOCH;
    use vllora_llm_core::LLMError;

    /// Hands out `token-N` valid for `lifetime` from the shared clock, or fails when told to; counts
    /// fetches and waits a little so concurrent callers overlap.
    #[derive(Debug)]
    struct Counting {
        fetches: AtomicUsize,
        now: Arc<AtomicU64>,
        lifetime: u64,
        fail: Mutex<bool>,
    }

    impl CredentialSource<String> for Counting {
        fn fetch(&self) -> BoxFuture<'_, LLMResult<Expiring<String>>> {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let fetch = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
                if self.fail.lock().map(|fail| *fail).unwrap_or(true) {
                    return Err(LLMError::Config("the token endpoint refused".to_owned()));
                }
                let now = self.now.load(Ordering::SeqCst);
                Ok(Expiring::until(
                    format!("token-{fetch}"),
                    UNIX_EPOCH + Duration::from_secs(now + self.lifetime),
                ))
            })
        }
    }

    fn cache(lifetime: u64) -> (Arc<CachedCredential<String>>, Arc<Counting>, Arc<AtomicU64>) {
        let now = Arc::new(AtomicU64::new(1_000_000));
        let source = Arc::new(Counting {
            fetches: AtomicUsize::new(0),
            now: Arc::clone(&now),
            lifetime,
            fail: Mutex::new(false),
        });
        let clock_now = Arc::clone(&now);
        let clock: Clock =
            Arc::new(move || UNIX_EPOCH + Duration::from_secs(clock_now.load(Ordering::SeqCst)));
        let shared: Arc<dyn CredentialSource<String>> = source.clone();
        (Arc::new(CachedCredential::new(shared).with_clock(clock)), source, now)
    }

    async fn get_concurrently(cache: &Arc<CachedCredential<String>>, callers: usize) -> Vec<String> {
        let tasks: Vec<_> = (0..callers)
            .map(|_| {
                let cache = Arc::clone(cache);
                tokio::spawn(async move { cache.get().await })
            })
            .collect();
        let mut values = Vec::new();
        for task in tasks {
            match task.await {
                Ok(Ok(value)) => values.push(value),
                other => panic!("{other:?}"),
            }
        }
        values
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_callers_share_one_fetch_and_refresh_once_before_expiry() {
        let (cache, source, now) = cache(3600);
        let values = get_concurrently(&cache, 32).await;
        assert!(values.iter().all(|value| value == "token-1"), "{values:?}");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);

        // Ten minutes before expiry: still fresh, nothing fetched.
        now.fetch_add(3600 - 600, Ordering::SeqCst);
        assert_eq!(get_concurrently(&cache, 8).await, vec!["token-1"; 8]);
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);

        // Four minutes before expiry: inside the window, 32 callers cause one refresh.
        now.fetch_add(360, Ordering::SeqCst);
        let values = get_concurrently(&cache, 32).await;
        assert!(values.iter().all(|value| value == "token-2"), "{values:?}");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_a_valid_credential_and_reports_once_it_expired() {
        let (cache, source, now) = cache(3600);
        assert_eq!(cache.get().await.ok().as_deref(), Some("token-1"));
        if let Ok(mut fail) = source.fail.lock() {
            *fail = true;
        }
        now.fetch_add(3600 - 60, Ordering::SeqCst);
        assert_eq!(cache.get().await.ok().as_deref(), Some("token-1"), "one minute left: still usable");
        now.fetch_add(60, Ordering::SeqCst);
        let error = cache.get().await.err().map(|error| error.to_string()).unwrap_or_default();
        assert!(error.contains("the token endpoint refused"), "{error}");
        if let Ok(mut fail) = source.fail.lock() {
            *fail = false;
        }
        assert_eq!(cache.get().await.ok().as_deref(), Some("token-4"));
        cache.invalidate();
        assert_eq!(cache.get().await.ok().as_deref(), Some("token-5"));
    }
}
