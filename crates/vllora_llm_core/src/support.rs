//! Helpers the provider crates of this workspace share, written once: data URIs, path segments,
//! environment variable names, request bodies as JSON. Not part of the public API; hidden from the
//! docs and free to change.

pub mod json;

/// A `data:` URI: `data:<media type>[;<parameter>]*[;base64],<data>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataUri<'a> {
    /// The media type, trimmed, without parameters (`;charset=...` and the like are not part of it).
    pub media_type: &'a str,
    /// Whether the data is base64 (`;base64` before the comma).
    pub base64: bool,
    /// Everything after the first comma.
    pub data: &'a str,
}

/// Splits a `data:` URI; `None` when `uri` is not one (no `data:` prefix or no comma).
pub fn parse_data_uri(uri: &str) -> Option<DataUri<'_>> {
    let (header, data) = uri.strip_prefix("data:")?.split_once(',')?;
    let (header, base64) = match header.strip_suffix(";base64") {
        Some(header) => (header, true),
        None => (header, false),
    };
    let media_type = header.split(';').next().unwrap_or(header).trim();
    Some(DataUri { media_type, base64, data })
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so that a name (a model id, a
/// deployment, an ARN) is exactly one path segment whatever it holds (`/`, `:`, `?`, `#`...).
pub fn encode_path_segment(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push('%');
            encoded.push(char::from(HEX[usize::from(byte >> 4)]));
            encoded.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
    encoded
}

/// FNV-1a, for the small internal maps a call looks up every time (providers by name, model instances
/// by model name, connections by local address): a few instructions per byte where the standard
/// library's SipHash costs a hundred or more per key. It is not resistant to crafted collisions, so it
/// is only for maps whose size is bounded (the model cache holds at most 512 names), where a worst case
/// stays a bounded scan.
#[derive(Debug, Clone, Copy, Default)]
pub struct FnvBuildHasher;

/// The hasher of [`FnvBuildHasher`].
#[derive(Debug, Clone, Copy)]
pub struct FnvHasher(u64);

impl std::hash::BuildHasher for FnvBuildHasher {
    type Hasher = FnvHasher;

    fn build_hasher(&self) -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// `my-proxy` -> `MY_PROXY`: a name as environment variable names spell it.
pub fn env_name(name: &str) -> String {
    name.chars()
        .map(|character| if character.is_ascii_alphanumeric() { character.to_ascii_uppercase() } else { '_' })
        .collect()
}

/// Merges a caller's native body fields (`provider_specific`) into a provider's JSON body: objects merge
/// key by key, arrays are appended to (so `tools` gains native tools beside the translated ones), anything
/// else is replaced by the caller's value. Every provider applies `provider_specific` this way after
/// translating, so a field this crate does not know still reaches the provider as the caller wrote it.
pub fn merge_native_fields(
    body: &mut serde_json::Map<String, serde_json::Value>,
    extra: &serde_json::Map<String, serde_json::Value>,
) {
    use serde_json::Value;
    for (key, value) in extra {
        match (body.get_mut(key), value) {
            (Some(Value::Object(mine)), Value::Object(theirs)) => merge_native_fields(mine, theirs),
            (Some(Value::Array(mine)), Value::Array(theirs)) => mine.extend(theirs.iter().cloned()),
            _ => {
                body.insert(key.clone(), value.clone());
            }
        }
    }
}

/// For the providers' fuzz targets: why the block order streamed `deltas` record (`provider_content`)
/// does not resolve against what they streamed, if it does not. Every entry must be `provider`'s, text
/// lengths must stay within the text, reasoning indexes within the reasoning details, tool calls among
/// the calls streamed.
pub fn block_order_problem<'a, I>(deltas: I, provider: &crate::ProviderId) -> Option<String>
where
    I: Iterator<Item = &'a crate::types::gateway::ChatCompletionDelta> + Clone,
{
    use crate::types::gateway::ProviderContentKind;
    let text_len = deltas
        .clone()
        .filter_map(|delta| delta.content.as_deref())
        .map(str::len)
        .fold(0usize, usize::saturating_add);
    let details = deltas
        .clone()
        .filter_map(|delta| delta.reasoning_details.as_ref())
        .map(Vec::len)
        .fold(0usize, usize::saturating_add);
    let ids: Vec<&str> = deltas
        .clone()
        .flat_map(|delta| delta.tool_calls.iter().flatten())
        .filter_map(|call| call.id.as_deref())
        .collect();
    let mut recorded_text = 0usize;
    for entry in deltas.flat_map(|delta| delta.provider_content.iter().flatten()) {
        if !entry.is_from(provider) {
            return Some(format!("an entry tagged {}", entry.provider));
        }
        match &entry.kind {
            ProviderContentKind::Text { len, .. } => recorded_text = recorded_text.saturating_add(*len),
            ProviderContentKind::Reasoning { index, .. } if *index >= details => {
                return Some(format!("reasoning {index} of {details}"));
            }
            ProviderContentKind::ToolCall { id, .. } if !ids.contains(&id.as_str()) => {
                return Some(format!("unknown call {id}"));
            }
            _ => {}
        }
    }
    (recorded_text > text_len)
        .then(|| format!("the block order records {recorded_text} bytes of text, the stream gave {text_len}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_uris_lose_their_parameters_not_their_data() {
        assert_eq!(
            parse_data_uri("data:text/plain;charset=utf-8;base64,aGVsbG8="),
            Some(DataUri { media_type: "text/plain", base64: true, data: "aGVsbG8=" })
        );
        assert_eq!(
            parse_data_uri("data:image/png,raw,bytes"),
            Some(DataUri { media_type: "image/png", base64: false, data: "raw,bytes" })
        );
        assert_eq!(parse_data_uri("https://example.com/a.png"), None);
        assert_eq!(parse_data_uri("data:image/png;base64"), None);
    }

    #[test]
    fn native_fields_merge_objects_append_arrays_and_replace_the_rest() {
        let mut body = serde_json::json!({
            "tools": [{"name": "f"}], "generationConfig": {"topK": 1, "seed": 3}, "max_tokens": 10
        });
        let extra = serde_json::json!({
            "tools": [{"googleSearch": {}}], "generationConfig": {"topK": 5}, "max_tokens": 20, "new": true
        });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            merge_native_fields(body, extra);
        }
        assert_eq!(
            body,
            serde_json::json!({
                "tools": [{"name": "f"}, {"googleSearch": {}}], "generationConfig": {"topK": 5, "seed": 3},
                "max_tokens": 20, "new": true
            })
        );
    }

    #[test]
    fn path_segments_cannot_leave_their_segment() {
        assert_eq!(encode_path_segment("a/b:c?d#e f~g"), "a%2Fb%3Ac%3Fd%23e%20f~g");
        assert_eq!(encode_path_segment("é"), "%C3%A9");
        assert_eq!(env_name("my-proxy.1"), "MY_PROXY_1");
    }
}
