//! What the transport tells its caller about one call: the server the request went to, so telemetry can
//! record `server.address` and `server.port` for every provider (and every cloud endpoint) without each
//! provider reporting its URL.
//!
//! [`observe_server`] runs a future with a slot of its own (a tokio task-local); every request
//! [`HttpClient`](crate::HttpClient) sends inside it notes its host and port there, and the last one
//! wins (a credential fetch before the model request is overwritten by the model request). Outside
//! [`observe_server`] nothing is noted and nothing is parsed.

use std::cell::RefCell;

use http::Uri;

tokio::task_local! {
    static SERVER: RefCell<Option<ServerAddress>>;
}

/// The host and port a request was sent to (`server.address`, `server.port` in OpenTelemetry's terms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddress {
    /// The host name or IP address, without brackets for IPv6.
    pub address: String,
    /// The port: the URL's, or 443 for `https` and 80 for `http` when it names none.
    pub port: u16,
}

impl ServerAddress {
    /// The host and port of an absolute URL, or `None` when it has no host.
    pub fn from_url(url: &str) -> Option<ServerAddress> {
        let uri: Uri = url.parse().ok()?;
        let host = uri.host()?;
        let address = host.trim_start_matches('[').trim_end_matches(']');
        if address.is_empty() {
            return None;
        }
        let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("http") { 80 } else { 443 });
        Some(ServerAddress { address: address.to_owned(), port })
    }
}

/// Runs `future` and returns its output with the server its last request went to, if it sent any.
pub async fn observe_server<F: Future>(future: F) -> (F::Output, Option<ServerAddress>) {
    SERVER
        .scope(RefCell::new(None), async {
            let output = future.await;
            let server = SERVER.try_with(|slot| slot.borrow_mut().take()).ok().flatten();
            (output, server)
        })
        .await
}

/// Notes the URL a request is about to be sent to, when an [`observe_server`] is watching.
pub(crate) fn note_request(url: &str) {
    // `try_with` fails outside a scope: then nothing is parsed.
    let _ = SERVER.try_with(|slot| {
        if let Some(server) = ServerAddress::from_url(url) {
            *slot.borrow_mut() = Some(server);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{ServerAddress, note_request, observe_server};

    fn server(address: &str, port: u16) -> Option<ServerAddress> {
        Some(ServerAddress { address: address.to_owned(), port })
    }

    #[test]
    fn urls_give_host_and_port_with_the_scheme_default() {
        assert_eq!(
            ServerAddress::from_url("https://api.openai.com/v1/chat/completions"),
            server("api.openai.com", 443)
        );
        assert_eq!(ServerAddress::from_url("http://127.0.0.1:8080/v1"), server("127.0.0.1", 8080));
        assert_eq!(ServerAddress::from_url("http://localhost/v1"), server("localhost", 80));
        assert_eq!(ServerAddress::from_url("http://[::1]:9000/x"), server("::1", 9000));
        assert_eq!(ServerAddress::from_url("/relative/path"), None);
        assert_eq!(ServerAddress::from_url("not a url"), None);
    }

    #[tokio::test]
    async fn the_last_request_inside_the_scope_wins_and_nothing_leaks_outside() {
        let ((), seen) = observe_server(async {
            note_request("http://169.254.169.254/latest/api/token");
            note_request("https://bedrock-runtime.us-east-1.amazonaws.com/model/x/converse");
        })
        .await;
        assert_eq!(seen, server("bedrock-runtime.us-east-1.amazonaws.com", 443));
        note_request("https://outside.example.com/");
        let ((), nothing) = observe_server(async {}).await;
        assert_eq!(nothing, None);
    }
}
