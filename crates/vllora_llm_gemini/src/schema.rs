//! JSON Schema -> Gemini's `Schema` (an OpenAPI 3.0 subset), for response formats and tool parameters.
//!
//! Gemini rejects keywords its `Schema` does not have, so the schema is rewritten: `$ref`s are inlined
//! from `$defs`/`definitions`; `const` becomes a one-value `enum`; `"null"` in a type list, or a
//! `{"type": "null"}` branch of `anyOf`/`oneOf`, becomes `nullable`; other type lists and `oneOf` become
//! `anyOf`; `allOf` is merged; types are upper-cased. Keywords that only restate Gemini's behaviour
//! (`additionalProperties: false`) or are metadata (`$schema`, `$id`, `$comment`) are removed quietly;
//! any other keyword Gemini cannot express is removed and reported, so the caller can warn.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// The rewritten schema and the keywords that had to be removed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Normalised {
    pub schema: Value,
    pub removed: BTreeSet<String>,
}

/// Keywords Gemini's `Schema` has and that are copied as they are.
const KEPT: [&str; 13] = [
    "title",
    "description",
    "nullable",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "default",
];

/// Keywords removed without a report: metadata, or constraints Gemini applies anyway.
const QUIET: [&str; 5] = ["$schema", "$id", "$comment", "$defs", "definitions"];

/// How deep `$ref`s and nesting are followed; deeper parts become untyped.
const MAX_DEPTH: usize = 32;

/// How many schema nodes one conversion may produce. Inlining a `$ref` copies its target, so a small
/// schema whose definitions name each other several times over grows exponentially; past this many
/// nodes the rest becomes untyped instead of exhausting time and memory.
const MAX_NODES: usize = 10_000;

/// Rewrites `schema` into Gemini's `Schema`.
pub(crate) fn normalise(schema: &Value) -> Normalised {
    let mut context = Context { root: schema, removed: BTreeSet::new(), ref_stack: Vec::new(), nodes: 0 };
    let schema = context.convert(schema, 0);
    Normalised { schema, removed: context.removed }
}

struct Context<'a> {
    root: &'a Value,
    removed: BTreeSet<String>,
    ref_stack: Vec<String>,
    nodes: usize,
}

impl Context<'_> {
    fn convert(&mut self, schema: &Value, depth: usize) -> Value {
        let Some(node) = schema.as_object() else {
            // `true` (anything) and malformed nodes carry no constraint Gemini could use.
            return untyped();
        };
        if depth > MAX_DEPTH {
            self.removed.insert("nesting deeper than 32 levels".to_owned());
            return untyped();
        }
        self.nodes = self.nodes.saturating_add(1);
        if self.nodes > MAX_NODES {
            self.removed.insert("more than 10000 nodes once $refs are inlined".to_owned());
            return untyped();
        }
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            return self.convert_reference(reference, node, depth);
        }
        if let Some(branches) = node.get("allOf").and_then(Value::as_array) {
            let merged = merge_all_of(node, branches);
            return self.convert(&Value::Object(merged), depth.saturating_add(1));
        }
        let mut output = Map::new();
        let mut nullable = false;
        for (keyword, value) in node {
            match keyword.as_str() {
                "type" => nullable |= self.convert_type(value, node, &mut output, depth),
                "anyOf" | "oneOf" => nullable |= self.convert_branches(value, &mut output, depth),
                "properties" => {
                    let properties = value.as_object().map(|properties| {
                        properties
                            .iter()
                            .map(|(name, property)| {
                                (name.clone(), self.convert(property, depth.saturating_add(1)))
                            })
                            .collect::<Map<_, _>>()
                    });
                    output.insert("properties".to_owned(), Value::Object(properties.unwrap_or_default()));
                }
                "items" if value.is_object() => {
                    output.insert("items".to_owned(), self.convert(value, depth.saturating_add(1)));
                }
                "required" => {
                    let names: Vec<Value> = value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|name| name.is_string())
                        .cloned()
                        .collect();
                    output.insert("required".to_owned(), Value::Array(names));
                }
                "enum" => nullable |= self.convert_enum(value, &mut output),
                "const" => nullable |= self.convert_enum(&Value::Array(vec![value.clone()]), &mut output),
                "format" => self.convert_format(value, node, &mut output),
                "examples" => {
                    if let Some(first) = value.as_array().and_then(|examples| examples.first()) {
                        output.insert("example".to_owned(), first.clone());
                    }
                }
                "example" => {
                    output.insert("example".to_owned(), value.clone());
                }
                "additionalProperties" if value == &Value::Bool(false) => {}
                other if KEPT.contains(&other) => {
                    output.insert(other.to_owned(), value.clone());
                }
                other if QUIET.contains(&other) => {}
                other => {
                    self.removed.insert(other.to_owned());
                }
            }
        }
        if !output.contains_key("type") && !output.contains_key("anyOf") {
            let implied = if output.contains_key("properties") {
                Some("OBJECT")
            } else if output.contains_key("items") {
                Some("ARRAY")
            } else if output.contains_key("enum") {
                Some("STRING")
            } else {
                None
            };
            if let Some(implied) = implied {
                output.insert("type".to_owned(), Value::from(implied));
            }
        }
        if !output.contains_key("type") && !output.contains_key("anyOf") {
            // Gemini refuses a node without a type; at the root (`parameters: {}`) nothing is lost.
            output.insert("type".to_owned(), Value::from("STRING"));
            if depth > 0 {
                self.removed.insert("a schema without a type (sent as a string)".to_owned());
            }
        }
        let split_by_type = output.contains_key("anyOf") && matches!(node.get("type"), Some(Value::Array(_)));
        self.fit_to_type(&mut output, split_by_type);
        if nullable {
            output.insert("nullable".to_owned(), Value::Bool(true));
        }
        Value::Object(output)
    }

    /// Gemini refuses what JSON Schema tolerates: `properties` or `required` beside a type other than
    /// OBJECT, `items` beside one other than ARRAY, an empty `properties`, and `required` naming a
    /// property that is not there, and an ARRAY without `items`. A node split into one branch per type
    /// keeps them in its branches.
    fn fit_to_type(&mut self, output: &mut Map<String, Value>, split_by_type: bool) {
        let kind = output.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
        let not = |wanted: &str| split_by_type || (!kind.is_empty() && kind != wanted);
        if not("OBJECT") {
            let removed = [output.remove("properties"), output.remove("required")];
            if !split_by_type && removed.iter().any(Option::is_some) {
                self.removed.insert("properties on a non-object type".to_owned());
            }
        }
        if not("ARRAY") && output.remove("items").is_some() && !split_by_type {
            self.removed.insert("items on a non-array type".to_owned());
        }
        if kind == "ARRAY" && !output.contains_key("items") {
            output.insert("items".to_owned(), serde_json::json!({"type": "STRING"}));
            self.removed.insert("an array of any items (sent as an array of strings)".to_owned());
        }
        if output.get("properties").and_then(Value::as_object).is_some_and(Map::is_empty) {
            output.remove("properties");
        }
        let Some(Value::Array(required)) = output.remove("required") else { return };
        let properties = output.get("properties").and_then(Value::as_object);
        let defined: Vec<Value> = required
            .iter()
            .filter(|name| name.as_str().is_some_and(|name| properties.is_some_and(|p| p.contains_key(name))))
            .cloned()
            .collect();
        if defined.len() < required.len() {
            self.removed.insert("required names without a property".to_owned());
        }
        if !defined.is_empty() {
            output.insert("required".to_owned(), Value::Array(defined));
        }
    }

    fn convert_reference(&mut self, reference: &str, node: &Map<String, Value>, depth: usize) -> Value {
        let target = reference
            .strip_prefix("#/$defs/")
            .map(|name| ("$defs", name))
            .or_else(|| reference.strip_prefix("#/definitions/").map(|name| ("definitions", name)))
            .and_then(|(section, name)| self.root.get(section)?.get(unescape_pointer(name).as_str()));
        let Some(target) = target else {
            self.removed.insert(format!("$ref {reference} (not found in $defs)"));
            return untyped();
        };
        if self.ref_stack.iter().any(|seen| seen == reference) {
            self.removed.insert(format!("$ref {reference} (recursive)"));
            return untyped();
        }
        // Keywords beside the `$ref` (a description, say) refine the target.
        let mut combined = target.as_object().cloned().unwrap_or_default();
        for (keyword, value) in node {
            if keyword != "$ref" {
                combined.insert(keyword.clone(), value.clone());
            }
        }
        self.ref_stack.push(reference.to_owned());
        let converted = self.convert(&Value::Object(combined), depth.saturating_add(1));
        self.ref_stack.pop();
        converted
    }

    /// Writes `type` (or an `anyOf` of types) and says whether `null` was among them.
    fn convert_type(
        &mut self,
        value: &Value,
        node: &Map<String, Value>,
        output: &mut Map<String, Value>,
        depth: usize,
    ) -> bool {
        let names: Vec<&str> = match value {
            Value::String(name) => vec![name.as_str()],
            Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let nullable = names.contains(&"null");
        let concrete: Vec<&str> = names.into_iter().filter(|name| *name != "null").collect();
        match concrete.as_slice() {
            [] if nullable => {
                output.insert("type".to_owned(), Value::from("NULL"));
                false
            }
            [] => false,
            [single] => {
                output.insert("type".to_owned(), Value::from(single.to_ascii_uppercase()));
                nullable
            }
            several => {
                // One branch per type, each with the keywords that apply to it.
                let branches = several
                    .iter()
                    .map(|name| {
                        let mut branch = node.clone();
                        branch.insert("type".to_owned(), Value::from(*name));
                        branch.remove("description");
                        branch.remove("title");
                        if *name != "object" {
                            branch.remove("properties");
                            branch.remove("required");
                        }
                        if *name != "array" {
                            branch.remove("items");
                        }
                        self.convert(&Value::Object(branch), depth.saturating_add(1))
                    })
                    .collect();
                output.insert("anyOf".to_owned(), Value::Array(branches));
                nullable
            }
        }
    }

    /// Writes `anyOf` (or the one non-null branch merged in) and says whether a null branch was dropped.
    fn convert_branches(&mut self, value: &Value, output: &mut Map<String, Value>, depth: usize) -> bool {
        let branches = value.as_array().map(Vec::as_slice).unwrap_or_default();
        let is_null = |branch: &&Value| branch.get("type").and_then(Value::as_str) == Some("null");
        let nullable = branches.iter().any(|branch| is_null(&branch));
        let concrete: Vec<Value> = branches
            .iter()
            .filter(|branch| !is_null(branch))
            .map(|branch| self.convert(branch, depth.saturating_add(1)))
            .collect();
        match <[Value; 1]>::try_from(concrete) {
            Ok([Value::Object(single)]) => {
                for (keyword, value) in single {
                    output.entry(keyword).or_insert(value);
                }
            }
            Ok(_) => {}
            Err(several) if several.is_empty() => {}
            Err(several) => {
                output.insert("anyOf".to_owned(), Value::Array(several));
            }
        }
        nullable
    }

    /// Gemini's `enum` holds strings only; `null` becomes `nullable`. Says whether `null` was there.
    fn convert_enum(&mut self, value: &Value, output: &mut Map<String, Value>) -> bool {
        let values = value.as_array().map(Vec::as_slice).unwrap_or_default();
        let nullable = values.iter().any(Value::is_null);
        let concrete: Vec<&Value> = values.iter().filter(|value| !value.is_null()).collect();
        if concrete.iter().all(|value| value.is_string()) {
            if !concrete.is_empty() {
                output.insert("enum".to_owned(), Value::Array(concrete.into_iter().cloned().collect()));
                output.entry("format").or_insert_with(|| Value::from("enum"));
            }
        } else {
            self.removed.insert("enum/const with non-string values".to_owned());
        }
        nullable
    }

    fn convert_format(&mut self, value: &Value, node: &Map<String, Value>, output: &mut Map<String, Value>) {
        let format = value.as_str().unwrap_or_default();
        let kind = match node.get("type") {
            Some(Value::String(kind)) => kind.as_str(),
            Some(Value::Array(kinds)) => {
                kinds.iter().filter_map(Value::as_str).find(|kind| *kind != "null").unwrap_or_default()
            }
            _ => "",
        };
        let supported = match kind {
            "string" => matches!(format, "enum" | "date-time"),
            "number" => matches!(format, "float" | "double"),
            "integer" => matches!(format, "int32" | "int64"),
            _ => false,
        };
        if supported {
            output.insert("format".to_owned(), value.clone());
        } else {
            self.removed.insert(format!("format {format}"));
        }
    }
}

/// `allOf` folded into its parent: properties and `required` united, other keywords first-come.
fn merge_all_of(node: &Map<String, Value>, branches: &[Value]) -> Map<String, Value> {
    let mut merged: Map<String, Value> =
        node.iter().filter(|(keyword, _)| *keyword != "allOf").map(|(k, v)| (k.clone(), v.clone())).collect();
    for branch in branches.iter().filter_map(Value::as_object) {
        for (keyword, value) in branch {
            match (keyword.as_str(), merged.get_mut(keyword), value) {
                ("properties", Some(Value::Object(existing)), Value::Object(more)) => {
                    for (name, property) in more {
                        existing.entry(name.clone()).or_insert_with(|| property.clone());
                    }
                }
                ("required", Some(Value::Array(existing)), Value::Array(more)) => {
                    for name in more {
                        if !existing.contains(name) {
                            existing.push(name.clone());
                        }
                    }
                }
                (_, Some(_), _) => {}
                (_, None, _) => {
                    merged.insert(keyword.clone(), value.clone());
                }
            }
        }
    }
    merged
}

/// What stands for a schema that cannot be converted (recursion, a missing `$ref`, too deep or too large,
/// `true`): Gemini refuses a node without a type, and a string can carry any value.
fn untyped() -> Value {
    serde_json::json!({"type": "STRING"})
}

/// JSON Pointer unescaping of one reference token.
fn unescape_pointer(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_pydantic_style_schema_becomes_gemini_schema() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Trip",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "city": {"type": "string", "description": "Destination"},
                "nights": {"type": ["integer", "null"], "minimum": 1, "format": "int32"},
                "kind": {"const": "trip"},
                "when": {"type": "string", "format": "date-time"},
                "email": {"type": "string", "format": "email"},
                "traveller": {"$ref": "#/$defs/Person", "description": "Who travels"},
                "notes": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null}
            },
            "required": ["city", "nights", "kind", "when", "email", "traveller", "notes"],
            "$defs": {
                "Person": {"type": "object", "properties": {"name": {"type": "string"}},
                           "required": ["name"], "additionalProperties": false}
            }
        });
        let normalised = normalise(&schema);
        assert_eq!(
            normalised.schema,
            json!({
                "title": "Trip",
                "type": "OBJECT",
                "properties": {
                    "city": {"type": "STRING", "description": "Destination"},
                    "nights": {"type": "INTEGER", "minimum": 1, "format": "int32", "nullable": true},
                    "kind": {"type": "STRING", "enum": ["trip"], "format": "enum"},
                    "when": {"type": "STRING", "format": "date-time"},
                    "email": {"type": "STRING"},
                    "traveller": {"type": "OBJECT", "description": "Who travels",
                                  "properties": {"name": {"type": "STRING"}}, "required": ["name"]},
                    "notes": {"type": "STRING", "nullable": true, "default": null}
                },
                "required": ["city", "nights", "kind", "when", "email", "traveller", "notes"]
            })
        );
        assert_eq!(normalised.removed, BTreeSet::from(["format email".to_owned()]));
    }

    #[test]
    fn unions_become_any_of_and_all_of_is_merged() {
        let schema = json!({
            "oneOf": [{"type": "string"}, {"type": "number"}],
            "description": "a value"
        });
        assert_eq!(
            normalise(&schema).schema,
            json!({"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}], "description": "a value"})
        );
        let listed = json!({"type": ["string", "integer", "null"], "description": "id"});
        assert_eq!(
            normalise(&listed).schema,
            json!({"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}], "description": "id", "nullable": true})
        );
        let all_of = json!({"allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}
        ]});
        assert_eq!(
            normalise(&all_of).schema,
            json!({"type": "OBJECT", "properties": {"a": {"type": "STRING"}, "b": {"type": "BOOLEAN"}},
                   "required": ["a", "b"]})
        );
    }

    #[test]
    fn recursion_and_unknown_keywords_are_reported_not_sent() {
        let schema = json!({
            "type": "object",
            "properties": {
                "node": {"$ref": "#/definitions/Node"},
                "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
                "map": {"type": "object", "additionalProperties": {"type": "integer"}}
            },
            "definitions": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/definitions/Node"}}}}
        });
        let normalised = normalise(&schema);
        assert_eq!(
            normalised.schema["properties"]["node"],
            json!({"type": "OBJECT", "properties": {"next": {"type": "STRING"}}})
        );
        assert_eq!(
            normalised.schema["properties"]["tags"],
            json!({"type": "ARRAY", "items": {"type": "STRING"}})
        );
        assert_eq!(
            normalised.removed,
            BTreeSet::from([
                "$ref #/definitions/Node (recursive)".to_owned(),
                "additionalProperties".to_owned(),
                "uniqueItems".to_owned(),
            ])
        );
    }

    #[test]
    fn non_string_enums_are_reported_and_garbage_does_not_panic() {
        let normalised = normalise(&json!({"type": "integer", "enum": [1, 2, 3]}));
        assert_eq!(normalised.schema, json!({"type": "INTEGER"}));
        assert!(normalised.removed.contains("enum/const with non-string values"));
        for garbage in
            [json!(null), json!(true), json!({"type": 7, "properties": [], "anyOf": "x", "$ref": 1})]
        {
            let _ = normalise(&garbage);
        }
        let mut deep = json!({"type": "string"});
        for _ in 0..100 {
            deep = json!({"type": "array", "items": deep});
        }
        assert!(normalise(&deep).removed.contains("nesting deeper than 32 levels"));
    }
    #[test]
    fn shared_references_cannot_blow_up_the_schema() {
        // Each level names the next eight times: small to write, 8^15 nodes once every `$ref` is inlined.
        let mut definitions = Map::new();
        for level in 0..16 {
            let properties: Map<String, Value> = (0..8)
                .map(|slot| {
                    let target = if level == 15 {
                        json!({"type": "string"})
                    } else {
                        json!({"$ref": format!("#/$defs/L{}", level + 1)})
                    };
                    (format!("p{slot}"), target)
                })
                .collect();
            definitions.insert(format!("L{level}"), json!({"type": "object", "properties": properties}));
        }
        let schema = json!({"$ref": "#/$defs/L0", "$defs": definitions});
        let started = std::time::Instant::now();
        let normalised = normalise(&schema);
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
        assert!(normalised.schema.to_string().len() < 4_000_000);
        assert!(
            normalised.removed.iter().any(|removed| removed.contains("nodes")),
            "{:?}",
            normalised.removed
        );
        assert_eq!(normalised.schema["properties"]["p0"]["type"], "OBJECT");
    }
    #[test]
    fn keywords_gemini_only_allows_on_some_types_are_fitted_to_the_type() {
        // Shapes MCP servers publish; Gemini answers each with a 400 ("should be non-empty for OBJECT
        // type", "only allowed for OBJECT type", "property is not defined").
        let schema = json!({
            "type": "object",
            "properties": {
                "options": {"type": "object", "properties": {}},
                "query": {"type": "string", "properties": {"x": {"type": "string"}}, "required": ["x"]},
                "filter": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "b"]},
                "free": {"type": "object", "required": ["id"]},
                "either": {"type": ["object", "array"], "properties": {"k": {"type": "string"}},
                           "items": {"type": "string"}}
            },
            "required": ["query", "filter"]
        });
        let normalised = normalise(&schema);
        assert_eq!(
            normalised.schema,
            json!({
                "type": "OBJECT",
                "properties": {
                    "options": {"type": "OBJECT"},
                    "query": {"type": "STRING"},
                    "filter": {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}, "required": ["a"]},
                    "free": {"type": "OBJECT"},
                    "either": {"anyOf": [
                        {"type": "OBJECT", "properties": {"k": {"type": "STRING"}}},
                        {"type": "ARRAY", "items": {"type": "STRING"}}
                    ]}
                },
                "required": ["query", "filter"]
            })
        );
        assert_eq!(
            normalised.removed,
            BTreeSet::from([
                "properties on a non-object type".to_owned(),
                "required names without a property".to_owned(),
            ])
        );
    }
    #[test]
    fn an_array_without_items_gets_string_items() {
        // Gemini refuses an ARRAY without `items` ("items: missing field").
        let schema = json!({"type": "object", "properties": {"tags": {"type": "array", "maxItems": 5}}});
        let normalised = normalise(&schema);
        assert_eq!(
            normalised.schema["properties"]["tags"],
            json!({"type": "ARRAY", "maxItems": 5, "items": {"type": "STRING"}})
        );
        assert_eq!(
            normalised.removed,
            BTreeSet::from(["an array of any items (sent as an array of strings)".to_owned()])
        );
    }
    #[test]
    fn every_node_gets_a_type() {
        // Gemini refuses a schema node without a type unless it is an `anyOf`.
        let schema = json!({
            "type": "object",
            "properties": {
                "value": {"description": "Any value"},
                "anything": true,
                "node": {"$ref": "#/$defs/Node"},
                "missing": {"$ref": "#/$defs/Missing"}
            },
            "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}}
        });
        let normalised = normalise(&schema);
        assert_eq!(
            normalised.schema["properties"],
            json!({
                "value": {"type": "STRING", "description": "Any value"},
                "anything": {"type": "STRING"},
                "node": {"type": "OBJECT", "properties": {"next": {"type": "STRING"}}},
                "missing": {"type": "STRING"}
            })
        );
        assert!(
            normalised.removed.contains("a schema without a type (sent as a string)"),
            "{:?}",
            normalised.removed
        );
    }
}
