//! Sends vllora_llm's spans and GenAI metrics to a remote telemetry backend over OTLP/HTTP (Arize Phoenix,
//! an OpenTelemetry Collector, New Relic, Honeycomb, Grafana...), with `tracing-opentelemetry` and
//! `opentelemetry-otlp`. The library only emits `tracing` spans and metric events; everything
//! OpenTelemetry is here.
//!
//! Environment:
//! - `OTEL_EXPORTER_OTLP_ENDPOINT` (required): the backend's OTLP/HTTP address, for example
//!   `http://localhost:6006` (Phoenix), `http://localhost:4318` (a collector) or
//!   `https://otlp.nr-data.net` (New Relic). Spans go to `{endpoint}/v1/traces`, metrics to
//!   `{endpoint}/v1/metrics`; `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` and `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`
//!   set full URLs per signal.
//! - `OTEL_EXPORTER_OTLP_HEADERS` (optional): `key=value,...`, for example `api-key=...` for New Relic.
//! - `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` (optional): who the telemetry is from.
//! - The model: without arguments, OpenAI's `gpt-4.1-mini` with `VLLORA_OPENAI_API_KEY` (or
//!   `OPENAI_API_KEY`); with arguments, any OpenAI-compatible server (llama.cpp, vLLM, Ollama...).
//!
//! Usage: `tracing_otlp [<OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1> [model]]`
//!
//! It asks one question one-shot and once streamed, both inside an application span `answer_question`,
//! so the backend shows one trace: `answer_question` with two `chat {model}` children carrying the
//! `gen_ai.*` fields, and the histograms `gen_ai.client.operation.duration`, `gen_ai.client.token.usage`
//! and `gen_ai.client.operation.time_to_first_chunk`.

use std::process::ExitCode;

use bytes::Bytes;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_http::HttpError;
use opentelemetry_otlp::{MetricExporter, SpanExporter, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{Aggregation, Instrument, SdkMeterProvider, Stream};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Instrument as _;
use tracing_opentelemetry::{MetricsLayer, OpenTelemetrySpanExt};
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use vllora_llm::client::InferenceModelProvider;
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::{ApiError, LLMError};
use vllora_llm::http::{HttpClient, HttpConfig, HttpRequest};
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};

const QUESTION: &str = "What is the capital of France? Answer in one short sentence.";

#[tokio::main]
async fn main() -> ExitCode {
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .or_else(|_| std::env::var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
        .unwrap_or_default();
    if endpoint.trim().is_empty() {
        eprintln!(
            "tracing_otlp: set OTEL_EXPORTER_OTLP_ENDPOINT to your backend's OTLP/HTTP address, for example \
             http://localhost:6006 (Arize Phoenix) or http://localhost:4318 (an OpenTelemetry Collector)"
        );
        return ExitCode::from(2);
    }
    let mut arguments = std::env::args().skip(1);
    let (client, model) = match arguments.next() {
        Some(base_url) => (
            VlloraLLMClient::new()
                .with_model_provider(InferenceModelProvider::Proxy("local".to_owned()))
                .with_inference_endpoint(base_url),
            arguments.next().unwrap_or_else(|| "local-model".to_owned()),
        ),
        None => {
            let has_key = ["VLLORA_OPENAI_API_KEY", "OPENAI_API_KEY"]
                .iter()
                .any(|name| std::env::var(name).is_ok_and(|key| !key.trim().is_empty()));
            if !has_key {
                eprintln!(
                    "tracing_otlp: set VLLORA_OPENAI_API_KEY to ask OpenAI, or pass an OpenAI-compatible \
                     server: tracing_otlp http://127.0.0.1:8080/v1 [model]"
                );
                return ExitCode::from(2);
            }
            (VlloraLLMClient::new(), "gpt-4.1-mini".to_owned())
        }
    };
    match run(client, model, &endpoint).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tracing_otlp: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(
    client: VlloraLLMClient,
    model: String,
    endpoint: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let (tracer_provider, meter_provider) = telemetry_pipeline()?;
    let subscriber = tracing_subscriber::registry()
        // INFO and above: the library's spans and events, not the transport's debug chatter.
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer_provider.tracer("vllora_llm"))
                .with_filter(LevelFilter::INFO),
        )
        .with(MetricsLayer::new(meter_provider.clone()));
    tracing::subscriber::set_global_default(subscriber)?;

    // The application's own span: the library's `chat` spans become its children.
    let root = tracing::info_span!("answer_question", otel.kind = "internal", question = QUESTION);
    let trace_id = root.context().span().span_context().trace_id();
    let answered = ask(&client, &model).instrument(root).await;

    // Shutting down flushes the last batch of spans and the metrics; it blocks, so off the runtime.
    let (spans, metrics) = tokio::task::spawn_blocking(move || {
        // Metrics first: their last export happens at shutdown, while the spans' batch may still wait.
        let metrics = meter_provider.shutdown();
        (tracer_provider.shutdown(), metrics)
    })
    .await?;
    answered?;
    spans.map_err(|error| format!("the spans could not be sent to {endpoint}: {error}"))?;
    println!("trace {trace_id}: answer_question and its two chat spans sent to {endpoint}");
    match metrics {
        Ok(()) => {
            println!("metrics: gen_ai.client.operation.duration, token.usage, time_to_first_chunk sent")
        }
        // Some backends (Arize Phoenix, Jaeger) take traces only.
        Err(error) => {
            eprintln!("metrics: not accepted by the metrics endpoint ({error}); the spans were sent")
        }
    }
    Ok(())
}

/// One question one-shot, then streamed.
async fn ask(client: &VlloraLLMClient, model: &str) -> Result<(), LLMError> {
    let request = ChatCompletionRequest {
        model: model.to_owned(),
        messages: vec![ChatCompletionMessage::new_text("user", QUESTION)],
        max_tokens: Some(48),
        // One line is the answer (small local models tend to go on after it).
        stop: Some(vec!["\n".to_owned()]),
        ..Default::default()
    };
    let response = client.completions().create(request.clone()).await?;
    let text =
        response.message().content.as_ref().and_then(|content| content.as_string()).unwrap_or_default();
    println!("one-shot: {}", text.trim());

    let mut stream = client.completions().create_stream(request).await?;
    let mut streamed = String::new();
    while let Some(chunk) = stream.next().await {
        for choice in chunk?.choices {
            streamed.push_str(&choice.delta.content.unwrap_or_default());
        }
    }
    println!("streamed: {}", streamed.trim());
    Ok(())
}

/// The tracer and meter providers, exporting OTLP/HTTP protobuf in the background.
fn telemetry_pipeline() -> Result<(SdkTracerProvider, SdkMeterProvider), Box<dyn std::error::Error>> {
    let http = OtlpHttp {
        http: HttpClient::new(HttpConfig::default())?,
        runtime: tokio::runtime::Handle::current(),
    };
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("vllora_llm_example_tracing_otlp");
    }
    let resource = resource.build();

    let spans = SpanExporter::builder().with_http().with_http_client(http.clone()).build()?;
    let tracer_provider =
        SdkTracerProvider::builder().with_batch_exporter(spans).with_resource(resource.clone()).build();

    let metrics = MetricExporter::builder().with_http().with_http_client(http).build()?;
    let meter_provider = SdkMeterProvider::builder()
        .with_periodic_exporter(metrics)
        .with_resource(resource)
        .with_view(genai_buckets)
        .build();
    Ok((tracer_provider, meter_provider))
}

/// The bucket boundaries the GenAI conventions ask for: powers of 4 for token counts, doubling from
/// 10 ms for durations. (`MetricsLayer` creates histograms with the SDK's default buckets otherwise.)
fn genai_buckets(instrument: &Instrument) -> Option<Stream> {
    let (boundaries, unit): (Vec<f64>, &'static str) = match instrument.name() {
        "gen_ai.client.token.usage" => ((0..14).map(|power| 4f64.powi(power)).collect(), "{token}"),
        "gen_ai.client.operation.duration" | "gen_ai.client.operation.time_to_first_chunk" => {
            ((0..14).map(|power| 0.01 * 2f64.powi(power)).collect(), "s")
        }
        _ => return None,
    };
    Stream::builder()
        .with_unit(unit)
        .with_aggregation(Aggregation::ExplicitBucketHistogram { boundaries, record_min_max: true })
        .build()
        .ok()
}

/// The exporters' HTTP client: vllora_llm's own transport (hyper + rustls, proxies from the environment),
/// so the example compiles no second HTTP stack. The SDK exports from its own threads, outside any tokio
/// runtime, so each request is run on the example's runtime and awaited from there.
#[derive(Debug, Clone)]
struct OtlpHttp {
    http: HttpClient,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for OtlpHttp {
    async fn send_bytes(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let mut outgoing = HttpRequest::new(parts.method, parts.uri.to_string());
        outgoing.headers = parts.headers;
        outgoing.body = body;
        let http = self.http.clone();
        let reply = self
            .runtime
            .spawn(async move {
                let refused = |status: http::StatusCode, _: &http::HeaderMap, body: &[u8]| {
                    let message = String::from_utf8_lossy(body).into_owned();
                    LLMError::from(ApiError::new("otlp", Some(status.as_u16()), message))
                };
                http.send(outgoing, &refused).await
            })
            .await??;
        let mut response = http::Response::new(reply.body);
        *response.status_mut() = reply.status;
        *response.headers_mut() = reply.headers;
        Ok(response)
    }
}
