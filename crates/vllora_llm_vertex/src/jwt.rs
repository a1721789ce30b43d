//! The signed JWT a service account exchanges for an access token (RFC 7523, RS256), and the unpadded
//! base64url it is written in.

use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use vllora_llm_core::{LLMError, LLMResult};

/// How long an assertion is valid: Google accepts at most one hour.
const ASSERTION_LIFETIME_SECONDS: u64 = 3600;

/// The claims of one assertion.
pub(crate) struct Claims<'a> {
    /// The service account's email.
    pub issuer: &'a str,
    /// The scopes asked for, space-separated.
    pub scope: &'a str,
    /// The token endpoint the assertion is for.
    pub audience: &'a str,
    /// Seconds since the Unix epoch.
    pub issued_at: u64,
}

/// `header.claims.signature`, signed with `key` (RSASSA-PKCS1-v1_5 with SHA-256).
pub(crate) fn assertion(key: &RsaKeyPair, key_id: Option<&str>, claims: &Claims<'_>) -> LLMResult<String> {
    let mut header = serde_json::json!({ "alg": "RS256", "typ": "JWT" });
    if let Some(key_id) = key_id {
        header["kid"] = serde_json::Value::String(key_id.to_owned());
    }
    let body = serde_json::json!({
        "iss": claims.issuer,
        "scope": claims.scope,
        "aud": claims.audience,
        "iat": claims.issued_at,
        "exp": claims.issued_at.saturating_add(ASSERTION_LIFETIME_SECONDS),
    });
    let mut signing_input = base64url(header.to_string().as_bytes());
    signing_input.push('.');
    signing_input.push_str(&base64url(body.to_string().as_bytes()));
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut signature)
        .map_err(|_| LLMError::Config("the service account key could not sign a token request".to_owned()))?;
    signing_input.push('.');
    signing_input.push_str(&base64url(&signature));
    Ok(signing_input)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding (RFC 4648 section 5), as JWTs are written. A dozen lines instead of a
/// dependency.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len().div_ceil(3).saturating_mul(4));
    for group in bytes.chunks(3) {
        let mut padded = [0u8; 3];
        for (slot, byte) in padded.iter_mut().zip(group) {
            *slot = *byte;
        }
        let bits = u32::from_be_bytes([0, padded[0], padded[1], padded[2]]);
        for position in 0..=group.len() {
            let index = (bits >> (18 - 6 * position)) & 0x3f;
            text.push(char::from(ALPHABET.get(index as usize).copied().unwrap_or(b'A')));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_has_no_padding_and_the_url_alphabet() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(&[0xfb, 0xff, 0xbf]), "-_-_");
    }
}
