//! [`Settings`], what a client is configured with (shared by its clones and by every API's client), and
//! [`Settings::route`], the one resolver every API (chat, embeddings, images, Responses) goes through.

use std::sync::Arc;

use vllora_llm_core::{CallOptions, LLMError, LLMResult, ModelInstance};

use crate::providers::{Provider, Providers};
use crate::routing::{self, InferenceModelProvider, Route};

/// Where requests go: one fixed instance, or a provider chosen per request.
#[derive(Clone)]
pub(crate) enum Backend {
    Instance(Arc<Box<dyn ModelInstance>>),
    Routed,
}

/// Everything a client is configured with.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) backend: Backend,
    /// The provider set with `with_model_provider`.
    pub(crate) provider: Option<InferenceModelProvider>,
    /// The providers, built once; shared by clones, replaced when what they are built from changes.
    pub(crate) providers: Arc<Providers>,
    pub(crate) strict: bool,
    pub(crate) record_content: bool,
    /// Headers every chat call's request carries (`with_header`), before each call's own.
    pub(crate) extra_headers: Vec<(String, String)>,
    /// The tools of `with_tools`, offered by every tool loop of the client.
    pub(crate) tools: crate::tools::ToolSet,
}

/// Where one request goes, before any provider is built.
pub(crate) enum Target<'a> {
    /// The client's fixed instance.
    Fixed(&'a dyn ModelInstance),
    /// A provider, and the model name it knows the model by.
    Routed(Route<'a>),
}

/// The model instance serving one request.
pub(crate) enum Instance<'a> {
    Fixed(&'a dyn ModelInstance),
    Routed(Arc<dyn ModelInstance>),
}

impl Instance<'_> {
    pub(crate) fn get(&self) -> &dyn ModelInstance {
        match self {
            Instance::Fixed(instance) => *instance,
            Instance::Routed(instance) => instance.as_ref(),
        }
    }
}

impl Settings {
    /// The options of one call: strict mode and the client's extra headers.
    pub(crate) fn call_options(&self) -> CallOptions {
        let mut options = CallOptions::strict(self.strict);
        options.extra_headers.clone_from(&self.extra_headers);
        options
    }

    /// Whether every request goes to one instance given at construction.
    pub(crate) fn has_fixed_instance(&self) -> bool {
        matches!(self.backend, Backend::Instance(_))
    }

    /// Where a request for `model` goes: the fixed instance, or the provider its route names. Nothing
    /// is built here; a proxy's `VLLORA_{NAME}_ENDPOINT` is read once per name.
    pub(crate) fn route<'a>(&'a self, model: &'a str) -> LLMResult<Target<'a>> {
        match &self.backend {
            Backend::Instance(instance) => Ok(Target::Fixed(instance.as_ref().as_ref())),
            Backend::Routed => {
                let providers = &self.providers;
                let proxy_exists = |name: &str| providers.proxy_endpoint(name).is_some();
                routing::resolve(self.provider.as_ref(), model, &proxy_exists).map(Target::Routed).ok_or_else(
                    || {
                        LLMError::Config(format!(
                            "cannot tell which provider serves model `{model}`: prefix it with the provider \
                             (`openai/{model}`, `anthropic/{model}`, or a proxy's name) or call \
                             with_model_provider"
                        ))
                    },
                )
            }
        }
    }

    /// The provider a route names, built on its first use.
    pub(crate) async fn provider(&self, route: &Route<'_>) -> LLMResult<Arc<Provider>> {
        self.providers.get(&route.provider).await
    }

    /// The model instance serving `model`: the client's fixed instance, or the routed provider's.
    pub(crate) async fn instance<'a>(&'a self, model: &'a str) -> LLMResult<Instance<'a>> {
        match self.route(model)? {
            Target::Fixed(instance) => Ok(Instance::Fixed(instance)),
            Target::Routed(route) => Ok(Instance::Routed(self.provider(&route).await?.model(route.model))),
        }
    }
}
