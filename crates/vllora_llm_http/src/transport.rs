//! [`HttpTransport`], what moves bytes, and [`HyperTransport`], the pooled hyper client over rustls.

use std::error::Error as StdError;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http::header::HOST;
use http::{HeaderValue, Uri};
use http_body_util::Full;
use hyper_rustls::{ConfigBuilderExt, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{CaptureConnection, HttpConnector, HttpInfo, capture_connection};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use vllora_llm_core::{BoxFuture, LLMError, LLMResult, TimeoutPhase};

use crate::body::IncomingStream;
use crate::config::Timeouts;
use crate::message::{HttpRequest, HttpResponse, RedactedUrl, refuse_userinfo};
use crate::proxy::ProxyConfig;

/// What actually moves bytes. The default is [`HyperTransport`]; tests and gateways may inject their own.
///
/// `send` resolves when the response headers have arrived; the body is read through
/// [`HttpResponse::body`]. Retries, the first-byte, idle and total timeouts and the size limits are
/// applied by [`crate::HttpClient`] around any transport.
pub trait HttpTransport: Send + Sync + fmt::Debug {
    /// Sends one request.
    fn send(&self, request: HttpRequest) -> BoxFuture<'static, LLMResult<HttpResponse>>;

    /// Sends one request under these connect and first-byte timeouts (one call's, which may differ
    /// from the client's). The default ignores them and calls [`send`](Self::send): the client then
    /// bounds the wait for the headers by the first-byte timeout with the connect timeout on top.
    fn send_with_timeouts(
        &self,
        request: HttpRequest,
        timeouts: &Timeouts,
    ) -> BoxFuture<'static, LLMResult<HttpResponse>> {
        let _ = timeouts;
        self.send(request)
    }

    /// Sends one request like [`send_with_timeouts`](Self::send_with_timeouts), failing with a
    /// [`TimeoutPhase::Total`] timeout (`after` the given length) if the response headers have not
    /// arrived at `deadline`, the end of the whole call. The default puts a timer of its own around
    /// [`send_with_timeouts`](Self::send_with_timeouts); [`HyperTransport`] folds the deadline into the
    /// one timer it already runs for the connect and first-byte timeouts.
    fn send_with_deadline(
        &self,
        request: HttpRequest,
        timeouts: &Timeouts,
        deadline: Option<(Duration, Instant)>,
    ) -> BoxFuture<'static, LLMResult<HttpResponse>> {
        let sending = self.send_with_timeouts(request, timeouts);
        match deadline {
            None => sending,
            Some((total, at)) => Box::pin(async move {
                tokio::time::timeout_at(at, sending)
                    .await
                    .unwrap_or(Err(LLMError::Timeout { phase: TimeoutPhase::Total, after: total }))
            }),
        }
    }

    /// Whether [`send_with_timeouts`](Self::send_with_timeouts) applies both timeouts itself: the
    /// connect timeout to the wait for a connection, the first-byte timeout from the moment one carries
    /// the request. When it does and a connect timeout is set, the client puts no timer of its own
    /// around the call (it could only fire after the transport's). The default is `false`.
    fn applies_timeouts(&self) -> bool {
        false
    }
}

type DirectClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;
/// For `http://` without a proxy: its connections carry no TLS state (a connection of the TLS-capable
/// client has room for a whole TLS session, about 1 KiB, even over plain TCP).
type PlainClient = Client<HttpConnector, Full<Bytes>>;
type TunnelClient = Client<HttpsConnector<Tunnel<HttpConnector>>, Full<Bytes>>;

/// A pooled hyper client: HTTP/1.1 and HTTP/2 (chosen by ALPN) over rustls with the ring provider and
/// the Mozilla (webpki) roots; plain `http://` is allowed for local servers. Cheap to clone: clones share
/// the connection pool.
#[derive(Clone)]
pub struct HyperTransport {
    direct: DirectClient,
    plain: PlainClient,
    proxy: Option<Arc<ProxyRoutes>>,
    connect_timeout: Option<Duration>,
    first_byte_timeout: Option<Duration>,
    /// The local addresses of the connections that have carried a request, so that a later request
    /// knows it was given a reused one (see [`STALE_CLOSE_WINDOW`]).
    used_connections: Arc<Mutex<UsedConnections>>,
    /// The last URL sent to, parsed (shared by clones).
    last_url: Arc<LastUrl>,
}

/// The local addresses of connections that have carried a request (at most [`MAX_REMEMBERED_CONNECTIONS`]).
type UsedConnections =
    std::collections::HashSet<std::net::SocketAddr, vllora_llm_core::support::FnvBuildHasher>;

/// The most connections remembered as used; past it the memory starts again (a connection then counts
/// as new, whose abrupt close is not retried: the safe side).
const MAX_REMEMBERED_CONNECTIONS: usize = 4096;

struct ProxyRoutes {
    matcher: Matcher,
    connector_parts: ConnectorParts,
    /// One pooled client per proxy in use (at most one for `http` and one for `https`).
    tunnels: Mutex<Vec<(Uri, TunnelClient)>>,
}

#[derive(Clone)]
struct ConnectorParts {
    tls: rustls::ClientConfig,
    connect_timeout: Option<Duration>,
}

impl ConnectorParts {
    fn tcp(&self) -> HttpConnector {
        let mut tcp = HttpConnector::new();
        // The TLS layer above handles https://; the TCP connector must let those URIs through.
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(self.connect_timeout);
        tcp
    }

    fn https<C>(&self, inner: C) -> HttpsConnector<C> {
        HttpsConnectorBuilder::new()
            .with_tls_config(self.tls.clone())
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(inner)
    }
}

/// How long an idle pooled connection is kept for the next request: below the 5 s keep-alive of the
/// servers many OpenAI-compatible hosts run on (Node.js, cpp-httplib as in llama.cpp), so a request is
/// not sent on a connection the server is closing at that moment. That race ends the call with the
/// connection closed before any response, which is not retried (the server may have started a
/// generation), so it is avoided rather than repaired.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);

fn client_builder() -> hyper_util::client::legacy::Builder {
    let mut builder = Client::builder(TokioExecutor::new());
    builder.timer(TokioTimer::new()).pool_timer(TokioTimer::new()).pool_idle_timeout(POOL_IDLE_TIMEOUT);
    builder
}

impl HyperTransport {
    /// A transport going through the proxies `proxy` names, applying the connect timeout (TCP, proxy
    /// tunnel and TLS handshake) and the first-byte timeout (from the moment a connection, new or pooled,
    /// carries the request until the response headers arrive).
    pub fn new(timeouts: &Timeouts, proxy: &ProxyConfig) -> LLMResult<Self> {
        let connect_timeout = timeouts.connect;
        // rustls 0.23.48 deprecates ring's provider function ("no support for post-quantum algorithms")
        // without a non-deprecated way to build the same provider; ring is what keeps the build free of a
        // C toolchain (design.md), so the call stays, with the lint allowed here alone.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| LLMError::Config(format!("TLS setup failed: {error}")))?
            .with_webpki_roots()
            .with_no_client_auth();
        let parts = ConnectorParts { tls, connect_timeout };
        let direct = client_builder().build(parts.https(parts.tcp()));
        let plain = client_builder().build(parts.tcp());
        let proxy = proxy.matcher()?.map(|matcher| {
            Arc::new(ProxyRoutes { matcher, connector_parts: parts, tunnels: Mutex::new(Vec::new()) })
        });
        Ok(HyperTransport {
            direct,
            plain,
            proxy,
            connect_timeout,
            first_byte_timeout: timeouts.first_byte,
            used_connections: Arc::default(),
            last_url: Arc::default(),
        })
    }

    /// A transport reading its proxies from the environment (see [`ProxyConfig::from_env`]).
    pub fn from_env(timeouts: &Timeouts) -> LLMResult<Self> {
        Self::new(timeouts, &ProxyConfig::from_env())
    }
}

impl ProxyRoutes {
    fn tunnel_client(&self, proxy: &Uri, auth: Option<&HeaderValue>) -> TunnelClient {
        let mut tunnels = self.tunnels.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, client)) = tunnels.iter().find(|(known, _)| known == proxy) {
            return client.clone();
        }
        let mut tunnel = Tunnel::new(proxy.clone(), self.connector_parts.tcp());
        if let Some(auth) = auth {
            tunnel = tunnel.with_auth(auth.clone());
        }
        let client = client_builder().build(self.connector_parts.https(tunnel));
        tunnels.push((proxy.clone(), client.clone()));
        client
    }
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("HyperTransport")
            .field("connect_timeout", &self.connect_timeout)
            .field("first_byte_timeout", &self.first_byte_timeout)
            .field("proxied", &self.proxy.is_some())
            .finish_non_exhaustive()
    }
}

/// Which client a request goes through (the plain and direct ones are the transport's own).
enum Route {
    Plain,
    Direct,
    /// Boxed: a client is large, and the proxied route is the rare one.
    Tunnel(Box<TunnelClient>),
}

impl HttpTransport for HyperTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'static, LLMResult<HttpResponse>> {
        self.send_within(request, self.connect_timeout, self.first_byte_timeout, None)
    }

    /// The connect timeout of the call bounds the wait for a connection (the TCP connector keeps the
    /// transport's own per-address timeout); the first-byte timeout is the call's.
    fn send_with_timeouts(
        &self,
        request: HttpRequest,
        timeouts: &Timeouts,
    ) -> BoxFuture<'static, LLMResult<HttpResponse>> {
        self.send_within(request, timeouts.connect, timeouts.first_byte, None)
    }

    /// As [`send_with_timeouts`](Self::send_with_timeouts), with the call's deadline served by the same
    /// timer: it fires at the nearer of the phase's deadline and the call's.
    fn send_with_deadline(
        &self,
        request: HttpRequest,
        timeouts: &Timeouts,
        deadline: Option<(Duration, Instant)>,
    ) -> BoxFuture<'static, LLMResult<HttpResponse>> {
        self.send_within(request, timeouts.connect, timeouts.first_byte, deadline)
    }

    fn applies_timeouts(&self) -> bool {
        true
    }
}

impl HyperTransport {
    fn send_within(
        &self,
        request: HttpRequest,
        connect_timeout: Option<Duration>,
        first_byte_timeout: Option<Duration>,
        call_deadline: Option<(Duration, Instant)>,
    ) -> BoxFuture<'static, LLMResult<HttpResponse>> {
        // The request is handed to hyper_util's client here (it only prepares it; nothing is sent before
        // the future is polled), so the client itself need not be cloned into the future.
        let started = self.prepare(request).map(|(route, mut hyper_request)| {
            // A clone shares the URI's bytes; `host:port` is formatted only when an error names it.
            let uri = hyper_request.uri().clone();
            let connection = capture_connection(&mut hyper_request);
            let response = match route {
                Route::Plain => self.plain.request(hyper_request),
                Route::Direct => self.direct.request(hyper_request),
                Route::Tunnel(client) => client.request(hyper_request),
            };
            (uri, connection, response)
        });
        let used_connections = Arc::clone(&self.used_connections);
        Box::pin(async move {
            let (uri, mut connection, mut response) = started?;
            // Two phases, told apart by the moment the pool hands over a connection: opening it (TCP,
            // tunnel, TLS) under the connect timeout, then waiting for headers under the first-byte one.
            // One timer serves both and the call's deadline: armed for the nearer of the connect
            // deadline and the call's, re-armed at the handover for the nearer of the first-byte
            // deadline and the call's.
            let call =
                call_deadline.map(|(after, at)| PhaseDeadline { phase: TimeoutPhase::Total, after, at });
            let connect = PhaseDeadline::from(TimeoutPhase::Connect, connect_timeout, Instant::now());
            let connect = PhaseDeadline::nearer(connect, call);
            let timer = tokio::time::sleep_until(connect.map_or_else(Instant::now, |deadline| deadline.at));
            tokio::pin!(timer);
            let finished_early = tokio::select! {
                biased;
                finished = &mut response => Some(finished),
                _ = connection.wait_for_connection_metadata() => None,
                () = &mut timer, if connect.is_some() => {
                    return Err(PhaseDeadline::error(connect));
                }
            };
            // When the connection was handed over: a reused connection closed right after it is a
            // keep-alive the server had ended.
            let handed_over = Instant::now();
            let was_handed_over = finished_early.is_none();
            let first_byte = PhaseDeadline::from(TimeoutPhase::FirstByte, first_byte_timeout, handed_over);
            let first_byte = PhaseDeadline::nearer(first_byte, call);
            let response = match (finished_early, first_byte) {
                (Some(finished), _) => finished,
                (None, Some(deadline)) => {
                    timer.as_mut().reset(deadline.at);
                    tokio::select! {
                        biased;
                        finished = &mut response => finished,
                        () = &mut timer => return Err(PhaseDeadline::error(Some(deadline))),
                    }
                }
                (None, None) => response.await,
            };
            let response = match response {
                Ok(response) => response,
                Err(error) => {
                    // Whether the connection had carried a request before (had answered one) is asked
                    // only here, on the error path.
                    let closed_at_once = was_handed_over
                        && handed_over.elapsed() < STALE_CLOSE_WINDOW
                        && carried_a_request_before(&connection, &used_connections);
                    return Err(request_error(&error, connect_timeout, &destination(&uri), closed_at_once));
                }
            };
            // The connection answered: a later request given it knows it was reused. Its local address
            // comes with the response (no copy of the connection's details is made for it).
            if let Some(info) = response.extensions().get::<HttpInfo>() {
                note_used(info.local_addr(), &used_connections);
            }
            let (parts, body) = response.into_parts();
            Ok(HttpResponse {
                status: parts.status,
                headers: parts.headers,
                body: Box::pin(IncomingStream(body)),
            })
        })
    }
}

/// When a phase of the wait for the response headers (or the whole call) ends.
#[derive(Clone, Copy)]
struct PhaseDeadline {
    phase: TimeoutPhase,
    /// The configured length, for the error.
    after: Duration,
    at: Instant,
}

impl PhaseDeadline {
    /// The deadline of a phase lasting `after` from `start`; a length too long for the clock is none.
    fn from(phase: TimeoutPhase, after: Option<Duration>, start: Instant) -> Option<PhaseDeadline> {
        let after = after?;
        Some(PhaseDeadline { phase, after, at: start.checked_add(after)? })
    }

    /// The one that ends first (the call's on a tie).
    fn nearer(phase: Option<PhaseDeadline>, call: Option<PhaseDeadline>) -> Option<PhaseDeadline> {
        match (phase, call) {
            (Some(phase), Some(call)) if phase.at < call.at => Some(phase),
            (_, Some(call)) => Some(call),
            (phase, None) => phase,
        }
    }

    fn error(deadline: Option<PhaseDeadline>) -> LLMError {
        match deadline {
            Some(PhaseDeadline { phase, after, .. }) => LLMError::Timeout { phase, after },
            // Not reached: the timer is only polled when a deadline was set.
            None => LLMError::Timeout { phase: TimeoutPhase::Connect, after: Duration::ZERO },
        }
    }
}

impl HyperTransport {
    fn prepare(&self, request: HttpRequest) -> LLMResult<(Route, http::Request<Full<Bytes>>)> {
        let HttpRequest { method, url, mut headers, body } = request;
        let invalid = || LLMError::InvalidRequest(format!("invalid URL {:?}", RedactedUrl(&url)));
        let (parsed, newly_parsed) = match self.last_url.known(&url) {
            Some(parsed) => (parsed, false),
            None => {
                refuse_userinfo(&url)?;
                let uri: Uri = url.parse().map_err(|_| invalid())?;
                let host = host_header(&uri);
                (ParsedUrl { uri, host }, true)
            }
        };
        let scheme = parsed.uri.scheme().cloned().ok_or_else(invalid)?;
        if scheme != Scheme::HTTP && scheme != Scheme::HTTPS || parsed.uri.authority().is_none() {
            return Err(invalid());
        }
        let checked = newly_parsed.then(|| parsed.clone());
        let ParsedUrl { mut uri, host } = parsed;
        let intercept =
            self.proxy.as_ref().and_then(|routes| Some((routes, routes.matcher.intercept(&uri)?)));
        let route = match intercept {
            None if scheme == Scheme::HTTP => {
                // Plain HTTP is HTTP/1.1, whose requests hyper gives the `Host` header the URL names
                // (formatting it each time) unless they have one: it is given here, made once per URL.
                // Over TLS, HTTP/2 may be chosen, which sends no `Host` header: those are left to hyper.
                if let Some(host) = host {
                    headers.entry(HOST).or_insert(host);
                }
                Route::Plain
            }
            None => Route::Direct,
            Some((routes, intercept)) => {
                // The tunnel connector assumes port 443 when the URL names none.
                if scheme == Scheme::HTTP && uri.port().is_none() {
                    uri = with_port(&uri, 80).ok_or_else(invalid)?;
                }
                Route::Tunnel(Box::new(routes.tunnel_client(intercept.uri(), intercept.basic_auth())))
            }
        };
        let mut hyper_request = http::Request::new(Full::new(body));
        *hyper_request.method_mut() = method;
        *hyper_request.uri_mut() = uri;
        *hyper_request.headers_mut() = headers;
        if let Some(checked) = checked {
            self.last_url.remember(url, checked);
        }
        Ok((route, hyper_request))
    }
}

/// A URL as parsed and checked (no user-info, `http` or `https` with a host), with the `Host` header an
/// HTTP/1.1 request to it carries.
#[derive(Clone)]
struct ParsedUrl {
    uri: Uri,
    host: Option<HeaderValue>,
}

/// The `Host` header of an HTTP/1.1 request to `uri`, as hyper_util's client writes it: the host, with
/// the port when it is not the scheme's default.
fn host_header(uri: &Uri) -> Option<HeaderValue> {
    let host = uri.host()?;
    let default_port = if uri.scheme_str() == Some("https") { 443 } else { 80 };
    match uri.port_u16() {
        Some(port) if port != default_port => HeaderValue::from_str(&format!("{host}:{port}")).ok(),
        _ => HeaderValue::from_str(host).ok(),
    }
}

/// The last URL this transport sent to, as parsed and checked: the next request to the same URL (the
/// usual case, a model's endpoint) reuses it instead of parsing and checking it again. A request to
/// another URL is parsed and replaces it. Never waited for: when another request holds it, the URL is
/// parsed as if it were not there.
#[derive(Default)]
struct LastUrl(Mutex<Option<(String, ParsedUrl)>>);

impl LastUrl {
    /// The parsed URL when `url` is, byte for byte, the URL last remembered (it passed every check).
    fn known(&self, url: &str) -> Option<ParsedUrl> {
        let last = self.0.try_lock().ok()?;
        match &*last {
            Some((known, parsed)) if known == url => Some(parsed.clone()),
            _ => None,
        }
    }

    /// Remembers `url`, checked, as `parsed`.
    fn remember(&self, url: String, parsed: ParsedUrl) {
        if let Ok(mut last) = self.0.try_lock() {
            *last = Some((url, parsed));
        }
    }
}

fn with_port(uri: &Uri, port: u16) -> Option<Uri> {
    let host = uri.host()?;
    let authority: Authority = format!("{host}:{port}").parse().ok()?;
    let mut parts = uri.clone().into_parts();
    parts.authority = Some(authority);
    Uri::from_parts(parts).ok()
}

/// The causes of an error, outermost first, without repeats (wrappers often repeat their cause).
fn describe(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

fn find_cause<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<T>() {
            return Some(found);
        }
        current = error.source();
    }
    None
}

/// `host:port` of a request, for error messages (never its user name or password: those are refused).
fn destination(uri: &Uri) -> String {
    let host = uri.host().unwrap_or_default();
    let port = uri.port_u16().unwrap_or(if uri.scheme() == Some(&Scheme::HTTPS) { 443 } else { 80 });
    format!("{host}:{port}")
}

/// Whether the connection a request was given had carried an earlier request, one that got response
/// headers (it is known by its local address, see [`note_used`]).
fn carried_a_request_before(connection: &CaptureConnection, used: &Mutex<UsedConnections>) -> bool {
    let Some(metadata) = connection.connection_metadata().as_ref().map(|connected| {
        let mut extras = http::Extensions::new();
        connected.get_extras(&mut extras);
        extras.get::<HttpInfo>().map(HttpInfo::local_addr)
    }) else {
        return false;
    };
    let Some(local) = metadata else { return false };
    used.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(&local)
}

/// Notes that the connection at `local` carried a request and got its response headers. A request that
/// got none leaves its connection broken, never reused, so only answered ones need remembering.
fn note_used(local: std::net::SocketAddr, used: &Mutex<UsedConnections>) {
    let mut used = used.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if used.len() >= MAX_REMEMBERED_CONNECTIONS && !used.contains(&local) {
        used.clear();
    }
    used.insert(local);
}

/// A reused connection closed by the server within this time of carrying the request, before any byte of
/// an answer, was a keep-alive the server had already ended (llama.cpp's server, for one, closes the
/// connection after a streamed answer although it announced keep-alive, and the close can reach us just
/// after the pool handed the connection to the next request). Nothing reached a model: the request is
/// retried like a failed connect, as curl does. A new connection closed that way, or a reused one closed
/// later (a server that read the request and then failed), is not retried.
///
/// One second: the close of such a keep-alive reaches us within one round trip of the request (under
/// 0.6 s even over a satellite link) plus the time a busy server takes to close a connection it has
/// already finished with. 200 ms proved too short: on a loaded 2-core CI machine the call after a stream
/// failed unretried, llama.cpp's close most likely having come later than that. The cost of the longer window: a server that read the request and failed
/// within its first second, before any byte of an answer, is asked again (a failure after longer still
/// ends the call unrepeated).
const STALE_CLOSE_WINDOW: Duration = Duration::from_secs(1);

/// Maps a failed request (no response headers) to an error: [`LLMError::ConnectFailed`] when no
/// connection could be opened (nothing was sent), [`LLMError::Connection`] when it broke after.
fn request_error(
    error: &hyper_util::client::legacy::Error,
    connect_timeout: Option<Duration>,
    destination: &str,
    closed_at_once: bool,
) -> LLMError {
    let timed_out =
        find_cause::<std::io::Error>(error).is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
    if error.is_connect() {
        if let (true, Some(after)) = (timed_out, connect_timeout) {
            return LLMError::Timeout { phase: TimeoutPhase::Connect, after };
        }
        return LLMError::ConnectFailed {
            message: format!("could not connect to {destination}: {}", describe(error)),
        };
    }
    if let Some(hyper_error) = find_cause::<hyper::Error>(error) {
        if hyper_error.is_parse() || hyper_error.is_parse_status() {
            return LLMError::Connection {
                message: format!("{destination} sent an invalid HTTP response: {}", describe(hyper_error)),
            };
        }
        if hyper_error.is_incomplete_message() && closed_at_once {
            return LLMError::ConnectFailed {
                message: format!(
                    "the connection to {destination} was closed by the server as the request was sent (a \
                     keep-alive it had already ended; nothing reached a model)"
                ),
            };
        }
        if hyper_error.is_incomplete_message() {
            return LLMError::Connection {
                message: format!(
                    "the connection to {destination} closed before the response headers arrived"
                ),
            };
        }
    }
    LLMError::Connection { message: format!("the request to {destination} failed: {}", describe(error)) }
}

/// Maps an error while reading a response body.
pub(crate) fn body_error(error: &hyper::Error) -> LLMError {
    LLMError::Connection { message: format!("the response body was cut off: {}", describe(error)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri_of(transport: &HyperTransport, url: &str) -> Result<String, String> {
        let request = HttpRequest::post_json(url, "{}");
        match transport.prepare(request) {
            Ok((_, prepared)) => Ok(prepared.uri().to_string()),
            Err(error) => Err(error.to_string()),
        }
    }

    #[test]
    fn the_last_url_is_reused_only_for_the_same_url_and_bad_ones_are_never_remembered() {
        let Ok(transport) = HyperTransport::new(&Timeouts::default(), &ProxyConfig::none()) else {
            panic!("a transport without proxies");
        };
        let first = "http://127.0.0.1:8080/v1/chat/completions";
        assert_eq!(uri_of(&transport, first).as_deref(), Ok(first));
        assert!(transport.last_url.known(first).is_some());
        // Another URL is parsed and replaces it; the same bytes only are taken as known.
        let second = "https://api.example.com/v1/chat/completions?api-version=1";
        assert_eq!(uri_of(&transport, second).as_deref(), Ok(second));
        assert!(transport.last_url.known(first).is_none());
        assert!(
            transport.last_url.known("https://API.example.com/v1/chat/completions?api-version=1").is_none()
        );
        // Refused URLs are refused every time and leave the last good one in place.
        for bad in ["ftp://host/file", "http://user:pw@host/v1", "not a url"] {
            assert!(uri_of(&transport, bad).is_err(), "{bad}");
            assert!(uri_of(&transport, bad).is_err(), "{bad} again");
            assert!(transport.last_url.known(bad).is_none());
        }
        assert!(transport.last_url.known(second).is_some());
    }

    fn host_of(transport: &HyperTransport, request: HttpRequest) -> Option<String> {
        let (_, prepared) = transport.prepare(request).ok()?;
        prepared.headers().get(HOST).and_then(|value| value.to_str().ok()).map(str::to_owned)
    }

    /// The `Host` header given to plain HTTP requests is the one hyper_util would write; requests over TLS
    /// (maybe HTTP/2) get none here, and a caller's own is kept.
    #[test]
    fn plain_requests_carry_the_host_hyper_would_write() {
        let Ok(transport) = HyperTransport::new(&Timeouts::default(), &ProxyConfig::none()) else {
            panic!("a transport without proxies");
        };
        for _ in 0..2 {
            let cases = [
                ("http://127.0.0.1:8080/v1/chat/completions", Some("127.0.0.1:8080")),
                ("http://localhost:80/v1", Some("localhost")),
                ("http://localhost/v1", Some("localhost")),
                ("http://[::1]:08080/v1", Some("[::1]:8080")),
                ("http://host.internal:443/v1", Some("host.internal:443")),
                ("https://api.example.com/v1", None),
                ("https://api.example.com:8443/v1", None),
            ];
            for (url, expected) in cases {
                // Twice each: parsed, then known.
                assert_eq!(
                    host_of(&transport, HttpRequest::post_json(url, "{}")).as_deref(),
                    expected,
                    "{url}"
                );
                assert_eq!(
                    host_of(&transport, HttpRequest::post_json(url, "{}")).as_deref(),
                    expected,
                    "{url}"
                );
            }
        }
        let own = HttpRequest::post_json("http://127.0.0.1:8080/v1", "{}").header("host", "elsewhere");
        let Ok(own) = own else { panic!("a valid header") };
        assert_eq!(host_of(&transport, own).as_deref(), Some("elsewhere"));
    }
}
