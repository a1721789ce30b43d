//! MCP servers as tool sources (feature `mcp`), through the official Rust SDK `rmcp`.
//!
//! An [`McpServer`] is a handle (cheap to clone, clones share everything) on one server reached over
//! streamable HTTP ([`McpServer::http`]) or as a child process speaking stdio ([`McpServer::stdio`]):
//!
//! - **one session per server**: initialised on first use (listing or calling), then reused by every call
//!   of every loop and client that holds the handle; calls run concurrently over it;
//! - **reconnection**: when the session is found closed (the process died, the connection broke), the
//!   next use opens a new one. A call that was in flight when it broke is not repeated (the server may
//!   have acted on it): it fails, and the model gets an error result saying so;
//! - **tool lists**: `tools/list` is followed through every page and kept until the server sends
//!   `notifications/tools/list_changed`; then the next use lists again;
//! - **filters** ([`McpToolFilter`]) choose which tools are offered; a **prefix**
//!   ([`McpServer::with_prefix`]) renames all of them, and name collisions between servers are settled by
//!   [`ToolSet`](super::ToolSet);
//! - **results** keep everything the server sent: text, images and audio as content parts, structured
//!   content as JSON, resource links and embedded resources, and `isError`
//!   (see [`ToolOutput`]);
//! - **HTTP** goes through this crate's transport (rustls, `HTTPS_PROXY`/`NO_PROXY`), with the server's
//!   headers and bearer token on every request; their values never appear in `Debug` or errors.
//!
//! ```no_run
//! use vllora_llm::tools::ToolSet;
//! use vllora_llm::tools::mcp::{McpServer, McpToolFilter};
//! use vllora_llm::types::Secret;
//!
//! let github = McpServer::http("github", "https://mcp.example.com/mcp")
//!     .with_bearer_token(Secret::new("token"))
//!     .with_filter(McpToolFilter::patterns(["search_*", "get_issue"]));
//! let files = McpServer::stdio("files", "npx").with_args(["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]);
//! let tools = ToolSet::new().with_mcp(github).with_mcp(files);
//! ```

mod convert;
mod http;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, PaginatedRequestParams,
};
use rmcp::service::{NotificationContext, RoleClient, RunningService, ServiceError};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, ServiceExt};
use serde_json::Value;
use tokio::sync::Mutex;
use vllora_llm_core::{LLMError, LLMResult, Secret};
use vllora_llm_http::{HttpTransport, HyperTransport, ProxyConfig, Timeouts};

use super::{ToolDefinition, ToolOutput};

/// At most this many pages of `tools/list` per listing: a server that keeps handing out cursors is
/// stopped there instead of looping forever.
const MAX_LIST_PAGES: usize = 1_000;

/// Which of a server's tools are offered to the model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum McpToolFilter {
    /// Every tool.
    #[default]
    All,
    /// The tools with these names.
    Names(Vec<String>),
    /// The tools whose names match one of these patterns (`*` any run of characters, `?` one character).
    Patterns(Vec<String>),
}

impl McpToolFilter {
    /// Only these tools.
    pub fn names<I: IntoIterator<Item = S>, S: Into<String>>(names: I) -> Self {
        McpToolFilter::Names(names.into_iter().map(Into::into).collect())
    }

    /// The tools matching one of these patterns.
    pub fn patterns<I: IntoIterator<Item = S>, S: Into<String>>(patterns: I) -> Self {
        McpToolFilter::Patterns(patterns.into_iter().map(Into::into).collect())
    }

    /// Whether the tool named `name` is offered.
    pub fn allows(&self, name: &str) -> bool {
        match self {
            McpToolFilter::All => true,
            McpToolFilter::Names(names) => names.iter().any(|allowed| allowed == name),
            McpToolFilter::Patterns(patterns) => patterns.iter().any(|pattern| glob_matches(pattern, name)),
        }
    }
}

/// `*` and `?` matching, linear in the name's length times the pattern's (no backtracking blow-up).
fn glob_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&expected) if expected == '?' || Some(&expected) == name.get(n) => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + 1;
                    star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|character| *character == '*'))
}

/// How a server is reached.
#[derive(Clone)]
enum Endpoint {
    Http { url: String, headers: Vec<(String, Secret)>, transport: Option<Arc<dyn HttpTransport>> },
    Stdio { command: String, args: Vec<String>, env: BTreeMap<String, Secret>, current_dir: Option<PathBuf> },
}

/// One MCP server. See the [module documentation](self).
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    endpoint: Endpoint,
    filter: McpToolFilter,
    prefix: Option<String>,
    connect_timeout: Duration,
    /// The live session; replaced when found closed.
    session: Mutex<Option<Arc<Session>>>,
    /// The filtered tool list, until the server says it changed.
    tools: Mutex<Option<Arc<Vec<ToolDefinition>>>>,
    /// Sessions opened so far.
    connections: AtomicUsize,
    /// Full `tools/list` listings made so far (all pages of one listing count once).
    listings: AtomicUsize,
}

struct Session {
    service: RunningService<RoleClient, Notifications>,
}

impl fmt::Debug for McpServer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        let mut debug = formatter.debug_struct("McpServer");
        debug.field("name", &inner.name);
        match &inner.endpoint {
            Endpoint::Http { url, headers, .. } => {
                let names: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
                debug.field("url", &vllora_llm_http::RedactedUrl(url).to_string()).field("headers", &names);
            }
            Endpoint::Stdio { command, args, env, .. } => {
                debug
                    .field("command", command)
                    .field("args", args)
                    .field("env", &env.keys().collect::<Vec<_>>());
            }
        }
        debug.field("filter", &inner.filter).field("prefix", &inner.prefix).finish()
    }
}

/// Receives the server's notifications: a changed tool list empties the cached one.
#[derive(Clone)]
struct Notifications {
    stale: Arc<AtomicBool>,
}

impl ClientHandler for Notifications {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.stale.store(true, Ordering::SeqCst);
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("vllora_llm", env!("CARGO_PKG_VERSION")),
        )
    }
}

impl McpServer {
    fn with_endpoint(name: impl Into<String>, endpoint: Endpoint) -> Self {
        McpServer {
            inner: Arc::new(Inner {
                name: name.into(),
                endpoint,
                filter: McpToolFilter::All,
                prefix: None,
                connect_timeout: Duration::from_secs(30),
                session: Mutex::new(None),
                tools: Mutex::new(None),
                connections: AtomicUsize::new(0),
                listings: AtomicUsize::new(0),
            }),
        }
    }

    /// A server reached over streamable HTTP at `url` (its MCP endpoint, such as `https://host/mcp`).
    pub fn http(name: impl Into<String>, url: impl Into<String>) -> Self {
        McpServer::with_endpoint(
            name,
            Endpoint::Http { url: url.into(), headers: Vec::new(), transport: None },
        )
    }

    /// A server started as a child process (`command` with [`with_args`](Self::with_args)), speaking MCP
    /// over its standard input and output; its standard error goes to ours. The process is stopped when
    /// the last handle is dropped, and started again when it has died.
    pub fn stdio(name: impl Into<String>, command: impl Into<String>) -> Self {
        McpServer::with_endpoint(
            name,
            Endpoint::Stdio {
                command: command.into(),
                args: Vec::new(),
                env: BTreeMap::new(),
                current_dir: None,
            },
        )
    }

    /// Changes the configuration; only before the first use (a handle already shared keeps its own).
    fn configure(mut self, change: impl FnOnce(&mut Inner)) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => change(inner),
            None => {
                let source = &self.inner;
                let mut inner = Inner {
                    name: source.name.clone(),
                    endpoint: source.endpoint.clone(),
                    filter: source.filter.clone(),
                    prefix: source.prefix.clone(),
                    connect_timeout: source.connect_timeout,
                    session: Mutex::new(None),
                    tools: Mutex::new(None),
                    connections: AtomicUsize::new(0),
                    listings: AtomicUsize::new(0),
                };
                change(&mut inner);
                self.inner = Arc::new(inner);
            }
        }
        self
    }

    /// Arguments of the stdio command.
    pub fn with_args<I: IntoIterator<Item = S>, S: Into<String>>(self, new_args: I) -> Self {
        self.configure(|inner| {
            if let Endpoint::Stdio { args, .. } = &mut inner.endpoint {
                args.extend(new_args.into_iter().map(Into::into));
            }
        })
    }

    /// An environment variable of the stdio process (kept as a secret: values never appear in `Debug`).
    pub fn with_env(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.configure(|inner| {
            if let Endpoint::Stdio { env, .. } = &mut inner.endpoint {
                env.insert(name.into(), Secret::new(value.into()));
            }
        })
    }

    /// The working directory of the stdio process.
    pub fn with_current_dir(self, directory: impl Into<PathBuf>) -> Self {
        self.configure(|inner| {
            if let Endpoint::Stdio { current_dir, .. } = &mut inner.endpoint {
                *current_dir = Some(directory.into());
            }
        })
    }

    /// A header sent with every HTTP request to the server (its value is treated as a secret).
    pub fn with_header(self, name: impl Into<String>, value: impl Into<Secret>) -> Self {
        self.configure(|inner| {
            if let Endpoint::Http { headers, .. } = &mut inner.endpoint {
                headers.push((name.into(), value.into()));
            }
        })
    }

    /// `Authorization: Bearer <token>` on every HTTP request to the server.
    pub fn with_bearer_token(self, token: impl Into<Secret>) -> Self {
        let token: Secret = token.into();
        self.with_header("authorization", Secret::new(format!("Bearer {}", token.expose())))
    }

    /// Sends the HTTP requests through this transport instead of a new [`HyperTransport`] (to share a
    /// pool, or to inject a test transport).
    pub fn with_transport(self, custom: Arc<dyn HttpTransport>) -> Self {
        self.configure(|inner| {
            if let Endpoint::Http { transport, .. } = &mut inner.endpoint {
                *transport = Some(custom);
            }
        })
    }

    /// Which tools are offered (all by default).
    pub fn with_filter(self, filter: McpToolFilter) -> Self {
        self.configure(|inner| inner.filter = filter)
    }

    /// Offers every tool as `{prefix}{name}` (the server is still called with `name`).
    pub fn with_prefix(self, prefix: impl Into<String>) -> Self {
        self.configure(|inner| inner.prefix = Some(prefix.into()))
    }

    /// How long connecting and the MCP handshake may take (30 s by default).
    pub fn with_connect_timeout(self, timeout: Duration) -> Self {
        self.configure(|inner| inner.connect_timeout = timeout)
    }

    /// The server's name (used in errors, spans and collision prefixes).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The prefix of every tool name, if one was set.
    pub fn prefix(&self) -> Option<&str> {
        self.inner.prefix.as_deref()
    }

    /// How many sessions were opened so far (1 while the first one lives; more after reconnections).
    pub fn connections(&self) -> usize {
        self.inner.connections.load(Ordering::SeqCst)
    }

    /// How many times the tool list was fetched (every page of one listing counts once).
    pub fn listings(&self) -> usize {
        self.inner.listings.load(Ordering::SeqCst)
    }

    fn error(&self, what: &str, error: impl fmt::Display) -> LLMError {
        LLMError::Connection { message: format!("MCP server `{}`: {what}: {error}", self.inner.name) }
    }

    /// The live session, opened (or opened again) when there is none.
    async fn session(&self) -> LLMResult<Arc<Session>> {
        let mut slot = self.inner.session.lock().await;
        if let Some(session) = slot.as_ref()
            && !session.service.is_closed()
        {
            return Ok(Arc::clone(session));
        }
        *slot = None;
        // The list of a dead session may be stale: a restarted server lists again.
        *self.inner.tools.lock().await = None;
        let connecting = tokio::time::timeout(self.inner.connect_timeout, self.connect()).await;
        let session = match connecting {
            Ok(result) => Arc::new(result?),
            Err(_) => {
                return Err(self.error(
                    "connecting",
                    format_args!("no MCP handshake within {} s", self.inner.connect_timeout.as_secs_f64()),
                ));
            }
        };
        self.inner.connections.fetch_add(1, Ordering::SeqCst);
        *slot = Some(Arc::clone(&session));
        Ok(session)
    }

    async fn connect(&self) -> LLMResult<Session> {
        let handler = Notifications { stale: Arc::new(AtomicBool::new(false)) };
        let service = match &self.inner.endpoint {
            Endpoint::Http { url, headers, transport } => {
                let transport = match transport {
                    Some(transport) => Arc::clone(transport),
                    None => {
                        // No first-byte timeout: a slow tool answers late, and the loop bounds each call.
                        let timeouts = Timeouts { first_byte: None, idle: None, ..Timeouts::default() };
                        Arc::new(HyperTransport::new(&timeouts, &ProxyConfig::from_env())?)
                    }
                };
                let client = http::McpHttpClient::new(transport, headers.clone());
                let config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
                let transport = StreamableHttpClientTransport::with_client(client, config);
                handler
                    .serve(transport)
                    .await
                    .map_err(|error| self.error("initialising the session", error))?
            }
            Endpoint::Stdio { command, args, env, current_dir } => {
                let mut process = tokio::process::Command::new(command);
                process.args(args);
                for (name, value) in env {
                    process.env(name, value.expose());
                }
                if let Some(directory) = current_dir {
                    process.current_dir(directory);
                }
                let (child, _) = TokioChildProcess::builder(process)
                    .stderr(std::process::Stdio::inherit())
                    .spawn()
                    .map_err(|error| self.error(&format!("starting `{command}`"), error))?;
                handler.serve(child).await.map_err(|error| self.error("initialising the session", error))?
            }
        };
        Ok(Session { service })
    }

    /// The session's notifications flag: whether the server said its tools changed.
    fn list_changed(session: &Session) -> bool {
        session.service.service().stale.swap(false, Ordering::SeqCst)
    }

    /// The server's tools that the filter lets through, with their original names. Listed through every
    /// page on first use and again after `notifications/tools/list_changed` or a reconnection.
    pub async fn tools(&self) -> LLMResult<Arc<Vec<ToolDefinition>>> {
        let session = self.session().await?;
        let changed = McpServer::list_changed(&session);
        let mut cached = self.inner.tools.lock().await;
        if !changed && let Some(tools) = cached.as_ref() {
            return Ok(Arc::clone(tools));
        }
        let listed = match self.list(&session).await {
            Err(_) if session.service.is_closed() || self.is_forgotten(&session).await => {
                // The session died between uses: one new session, one new listing.
                drop(cached);
                let session = self.session().await?;
                let listed = self.list(&session).await?;
                cached = self.inner.tools.lock().await;
                listed
            }
            other => other?,
        };
        let tools = Arc::new(listed);
        *cached = Some(Arc::clone(&tools));
        Ok(tools)
    }

    async fn list(&self, session: &Arc<Session>) -> LLMResult<Vec<ToolDefinition>> {
        let peer = session.service.peer();
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_LIST_PAGES {
            let params = PaginatedRequestParams::default().with_cursor(cursor.take());
            let page = match peer.list_tools(Some(params)).await {
                Ok(page) => page,
                Err(error) => {
                    if is_broken(&error) {
                        self.forget(session).await;
                    }
                    return Err(self.error("tools/list", error));
                }
            };
            for tool in &page.tools {
                let definition = convert::tool_definition(tool)?;
                if self.inner.filter.allows(&definition.name) {
                    tools.push(definition);
                }
            }
            match page.next_cursor {
                Some(next) if !next.is_empty() => cursor = Some(next),
                _ => {
                    self.inner.listings.fetch_add(1, Ordering::SeqCst);
                    return Ok(tools);
                }
            }
        }
        Err(self.error("tools/list", format_args!("more than {MAX_LIST_PAGES} pages")))
    }

    /// Calls the tool `name` (its name on the server) with `arguments` (a JSON object, or null for none).
    ///
    /// The server's `isError` results are `Ok` with [`ToolOutput::is_error`] set; a protocol error (an
    /// unknown tool, invalid parameters, an exception in the server) or a broken session is `Err`. Dropping
    /// the future cancels the request (`notifications/cancelled`).
    pub async fn call_tool(&self, name: &str, arguments: Value) -> LLMResult<ToolOutput> {
        let arguments = match arguments {
            Value::Object(map) => Some(map),
            Value::Null => None,
            other => {
                return Err(LLMError::InvalidRequest(format!(
                    "MCP tool `{name}` takes an object of arguments, not {other}"
                )));
            }
        };
        let session = self.session().await?;
        let mut params = CallToolRequestParams::new(name.to_owned());
        if let Some(arguments) = arguments {
            params = params.with_arguments(arguments);
        }
        match session.service.peer().call_tool(params).await {
            Ok(result) => convert::tool_output(&result),
            Err(ServiceError::McpError(error)) => {
                Err(self.error(&format!("tools/call `{name}`"), error.message))
            }
            Err(error) if session.service.is_closed() || is_broken(&error) => {
                self.forget(&session).await;
                Err(self.error(
                    &format!("tools/call `{name}`"),
                    format_args!("the connection closed during the call ({error}); the next call reconnects"),
                ))
            }
            Err(error) => Err(self.error(&format!("tools/call `{name}`"), error)),
        }
    }

    /// Drops `session` if it is still the live one, so the next use opens a new one.
    async fn forget(&self, session: &Arc<Session>) {
        let mut slot = self.inner.session.lock().await;
        if slot.as_ref().is_some_and(|live| Arc::ptr_eq(live, session)) {
            *slot = None;
        }
    }

    async fn is_forgotten(&self, session: &Arc<Session>) -> bool {
        !self.inner.session.lock().await.as_ref().is_some_and(|live| Arc::ptr_eq(live, session))
    }

    /// Ends the session now (the next use opens a new one); stdio servers are stopped.
    pub async fn disconnect(&self) {
        let session = self.inner.session.lock().await.take();
        *self.inner.tools.lock().await = None;
        if let Some(session) = session
            && let Ok(mut session) = Arc::try_unwrap(session).map_err(|_| ())
        {
            let _ = session.service.close_with_timeout(Duration::from_secs(5)).await;
        }
    }
}

/// The errors that mean the session is gone (not a refusal by a live server).
fn is_broken(error: &ServiceError) -> bool {
    matches!(error, ServiceError::TransportClosed | ServiceError::TransportSend(_))
}

#[cfg(test)]
mod tests {
    use super::glob_matches;

    #[test]
    fn globs_match_runs_and_single_characters() {
        assert!(glob_matches("get-*", "get-sum"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("bulk_00?7", "bulk_0017"));
        assert!(glob_matches("*a*b*", "xxaxxbxx"));
        assert!(!glob_matches("get-*", "echo"));
        assert!(!glob_matches("bulk_00?7", "bulk_017"));
        assert!(!glob_matches("a*b", "acbd"));
    }
}
