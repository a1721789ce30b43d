//! [`SharedStr`]: an immutable string that clones without allocating.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable, cheaply cloned string: what stays the same on every chunk of a stream (id, model) is
/// shared instead of copied. Reads like a `&str` (`Deref`, comparisons with `&str` and `String`), and
/// serialises as a plain JSON string.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SharedStr(Arc<str>);

impl SharedStr {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for SharedStr {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, formatter)
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl From<&str> for SharedStr {
    fn from(value: &str) -> Self {
        SharedStr(Arc::from(value))
    }
}

impl From<String> for SharedStr {
    fn from(value: String) -> Self {
        SharedStr(Arc::from(value))
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for SharedStr {
    fn eq(&self, other: &String) -> bool {
        &*self.0 == other.as_str()
    }
}

impl Serialize for SharedStr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SharedStr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(SharedStr::from(&*text))
    }
}

#[cfg(test)]
mod tests {
    use super::SharedStr;

    #[test]
    fn reads_compares_and_serialises_like_a_string() {
        let id = SharedStr::from("chatcmpl-1");
        let copy = id.clone();
        assert!(std::ptr::eq(id.as_str(), copy.as_str()), "a clone shares the same bytes");
        assert_eq!(id, "chatcmpl-1");
        assert_eq!(id, "chatcmpl-1".to_owned());
        assert!(id.starts_with("chatcmpl"));
        assert_eq!(format!("{id} {id:?}"), "chatcmpl-1 \"chatcmpl-1\"");
        assert_eq!(serde_json::to_string(&id).ok().as_deref(), Some("\"chatcmpl-1\""));
        let parsed: Result<SharedStr, _> = serde_json::from_str("\"a\\u00e9\"");
        assert_eq!(parsed.ok(), Some(SharedStr::from("aé")));
    }
}
