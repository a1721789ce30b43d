//! The Vertex AI transport of `vllora_llm`: Google credentials and their access tokens, the project and
//! location, and the URLs of Vertex AI's publisher models. The Gemini and Anthropic provider crates use
//! it (feature `vertex`) to send what their translators produce to Vertex AI: Gemini's
//! `generateContent` and Claude's `rawPredict` are the same translators over another URL scheme and
//! other credentials.
//!
//! Credentials ([`GoogleCredentials`]) come from, in order:
//!
//! 1. an explicit access token, key file text or express mode API key ([`VertexConfig`] builders, or
//!    `VLLORA_VERTEX_ACCESS_TOKEN` / `VLLORA_VERTEX_API_KEY`);
//! 2. `GOOGLE_APPLICATION_CREDENTIALS`: a service account key (an RS256-signed JWT exchanged at the
//!    key's `token_uri`) or an authorized user file (its refresh token);
//! 3. gcloud's application default credentials file
//!    (`~/.config/gcloud/application_default_credentials.json`, or under `CLOUDSDK_CONFIG`);
//! 4. the metadata server of GCE, GKE and Cloud Run (`GCE_METADATA_HOST` overrides its address).
//!
//! [`GoogleAuth`] caches the token and refreshes it before it expires (3 min 45 s ahead, as Google's
//! own libraries do), one refresh at a time however many calls wait for it. Tokens and keys are
//! [`Secret`](vllora_llm_core::Secret)s: never in `Debug`, errors or logs.
//!
//! Most applications use this through the `vllora_llm` facade (feature `vertex`, the `vertex/` model
//! prefix); see `docs/providers/vertex.md`.

mod config;
mod credentials;
mod endpoint;
mod jwt;
mod token;

pub use config::{
    API_KEY_VARIABLE, ACCESS_TOKEN_VARIABLE, DEFAULT_LOCATION, ENDPOINT_VARIABLE, LOCATION_VARIABLES,
    PROJECT_VARIABLES, VertexAuth, VertexConfig,
};
pub use credentials::{GoogleCredentials, METADATA_HOST_VARIABLE};
pub use endpoint::VertexTarget;
pub use token::{CLOUD_PLATFORM_SCOPE, GoogleAuth};

use vllora_llm_core::ProviderId;

/// The identity of Vertex AI, as its errors and telemetry spans spell it (`gcp.vertex_ai`).
pub const PROVIDER: ProviderId = ProviderId::VERTEX_AI;

/// [`PROVIDER`] as a string.
pub const PROVIDER_NAME: &str = "gcp.vertex_ai";

#[cfg(test)]
mod tests {
    #[test]
    fn the_name_is_the_identity() {
        assert_eq!(super::PROVIDER.as_str(), super::PROVIDER_NAME);
    }
}
