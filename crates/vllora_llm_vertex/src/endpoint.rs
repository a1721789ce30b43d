//! [`VertexTarget`]: one call's resolved endpoint — the API root under the project and location, and
//! the credentials — from which the Gemini and Anthropic crates build their URLs and headers.

use vllora_llm_core::support::encode_path_segment;
use vllora_llm_core::{LLMError, LLMResult, Secret};
use vllora_llm_http::{HttpClient, HttpRequest};

use crate::config::{VertexAuth, VertexConfig};

/// Where one call goes and how it authenticates. `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct VertexTarget {
    /// `{base}/v1`.
    api_root: String,
    /// `projects/{project}/locations/{location}`, `None` in express mode.
    scope: Option<String>,
    credential: Credential,
    quota_project: Option<String>,
}

#[derive(Debug, Clone)]
enum Credential {
    Bearer(Secret),
    ApiKey(Secret),
}

impl VertexConfig {
    /// Resolves the project (asking the metadata server once when it is the only source) and an access
    /// token (cached; fetched or refreshed when needed).
    pub async fn target(&self, http: &HttpClient) -> LLMResult<VertexTarget> {
        let base = self.base_url();
        let versioned = ["/v1", "/v1beta1"].iter().any(|version| base.ends_with(version));
        let api_root = if versioned { base } else { format!("{base}/v1") };
        match &self.auth {
            VertexAuth::ApiKey(key) => {
                // Express mode has no project in its URLs; a configured one scopes the call all the same.
                let scope = match &self.project {
                    Some(project) => Some(scope(project, &self.location)?),
                    None => None,
                };
                Ok(VertexTarget {
                    api_root,
                    scope,
                    credential: Credential::ApiKey(key.clone()),
                    quota_project: None,
                })
            }
            VertexAuth::Google(auth) => {
                let token = auth.token(http).await?;
                let project = match &self.project {
                    Some(project) => project.clone(),
                    None => auth.metadata_project(http).await?.ok_or_else(VertexConfig::missing_project)?,
                };
                Ok(VertexTarget {
                    api_root,
                    scope: Some(scope(&project, &self.location)?),
                    credential: Credential::Bearer(token),
                    quota_project: auth.quota_project().map(str::to_owned),
                })
            }
        }
    }
}

/// `projects/{project}/locations/{location}`, with the location checked (it also names a host).
fn scope(project: &str, location: &str) -> LLMResult<String> {
    let valid_location = !location.is_empty()
        && location.chars().all(|character| {
            character.is_ascii_lowercase() || character.is_ascii_digit() || character == '-'
        });
    if !valid_location {
        return Err(LLMError::Config(format!(
            "`{location}` is not a Vertex AI location (us-central1, global...)"
        )));
    }
    if project.is_empty() {
        return Err(VertexConfig::missing_project());
    }
    Ok(format!("projects/{}/locations/{location}", encode_path_segment(project)))
}

/// Checks a publisher model name (`gemini-2.5-flash`, `claude-sonnet-4-5@20250929`): it becomes a path
/// segment as written.
fn model_segment(model: &str) -> LLMResult<&str> {
    let model = model.trim();
    let valid = !model.is_empty()
        && model != "."
        && !model.contains("..")
        && model
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.' | '@'));
    if valid {
        Ok(model)
    } else {
        Err(LLMError::InvalidRequest(format!("`{model}` is not a Vertex AI model name")))
    }
}

impl VertexTarget {
    /// `{root}/v1/projects/{p}/locations/{l}/publishers/{publisher}/models/{model}:{method}` (express
    /// mode: `{root}/v1/publishers/...`).
    pub fn publisher_model_url(&self, publisher: &str, model: &str, method: &str) -> LLMResult<String> {
        let model = model_segment(model)?;
        Ok(match (&self.scope, &self.credential) {
            (Some(scope), Credential::Bearer(_)) => {
                format!("{}/{scope}/publishers/{publisher}/models/{model}:{method}", self.api_root)
            }
            _ => format!("{}/publishers/{publisher}/models/{model}:{method}", self.api_root),
        })
    }

    /// `projects/{p}/locations/{l}/publishers/{publisher}/models/{model}`: how a cache names its model.
    pub fn publisher_model_resource(&self, publisher: &str, model: &str) -> LLMResult<String> {
        let model = model_segment(model)?;
        match &self.scope {
            Some(scope) => Ok(format!("{scope}/publishers/{publisher}/models/{model}")),
            None => Err(self.needs_project("a cache")),
        }
    }

    /// `{root}/v1/{resource}` for a resource under the project (`cachedContents`,
    /// `cachedContents/{id}`); a full name (`projects/...`) is taken as is.
    pub fn project_url(&self, resource: &str) -> LLMResult<String> {
        Ok(format!("{}/{}", self.api_root, self.project_resource(resource)?))
    }

    /// `projects/{p}/locations/{l}/{resource}`; a full name (`projects/...`) is taken as is.
    pub fn project_resource(&self, resource: &str) -> LLMResult<String> {
        if resource.starts_with("projects/") {
            return Ok(resource.to_owned());
        }
        match &self.scope {
            Some(scope) => Ok(format!("{scope}/{resource}")),
            None => Err(self.needs_project(resource)),
        }
    }

    fn needs_project(&self, what: &str) -> LLMError {
        LLMError::Config(format!(
            "{what} on Vertex AI lives in a project: express mode needs VLLORA_VERTEX_PROJECT (or with_project) for it"
        ))
    }

    /// Whether this is express mode (an API key).
    pub fn is_express(&self) -> bool {
        matches!(self.credential, Credential::ApiKey(_))
    }

    /// Adds the credentials: `Authorization: Bearer` (and `x-goog-user-project` for an authorized user
    /// with a quota project), or `x-goog-api-key` in express mode. The key never goes in the URL.
    pub fn authorize(&self, request: HttpRequest) -> LLMResult<HttpRequest> {
        match &self.credential {
            Credential::Bearer(token) => {
                let request = request.bearer_auth(token)?;
                match &self.quota_project {
                    Some(project) => request.header("x-goog-user-project", project),
                    None => Ok(request),
                }
            }
            Credential::ApiKey(key) => request.secret_header("x-goog-api-key", key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_models_cannot_leave_their_place() {
        assert!(scope("p", "us-central1").is_ok_and(|scope| scope == "projects/p/locations/us-central1"));
        assert!(scope("p", "evil.com/x").is_err());
        assert!(scope("", "global").is_err());
        assert_eq!(model_segment("claude-sonnet-4-5@20250929").ok(), Some("claude-sonnet-4-5@20250929"));
        for bad in ["", "..", "a/b", "a?b", "a#b", "a b"] {
            assert!(model_segment(bad).is_err(), "{bad}");
        }
    }
}
