//! Validates JSON bodies against an OpenAPI 3.0 description, for tests: every response recert
//! sends on SailPoint's routes must validate against SailPoint's own description, which stays
//! in `../shared/specs` and is read in place.
//!
//! The subset of JSON Schema that OpenAPI 3.0 descriptions use is covered: `$ref` to
//! `#/components/...`, `type`, `nullable`, `properties`, `required`, `additionalProperties`,
//! `items`, `enum`, `allOf`, `anyOf`, `oneOf`, `format: date-time`, `minimum`, `maximum`,
//! `minItems`, `maxItems`, `minLength`, `maxLength`. `readOnly`/`writeOnly`, examples and
//! descriptions are ignored. An optional property whose value is `null` counts as absent, as
//! SailPoint's own examples (and ../shared/specs/README.md) have it; a required one must be
//! `nullable`. Errors name the JSON path of the value at fault.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A loaded OpenAPI description.
#[derive(Debug, Clone)]
pub struct Spec {
    doc: Value,
}

/// Where the SailPoint description lives, relative to this repository.
pub fn sailpoint_spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/specs/sailpoint-v3-certifications.yaml")
}

/// Loads SailPoint's description. Without `../shared` the caller's test skips with a notice;
/// under CI (`CI` set) a missing file is a failure.
pub fn sailpoint_spec() -> Option<Spec> {
    let path = sailpoint_spec_path();
    if !path.exists() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "{} is missing: CI runs with ../shared beside the repository",
                path.display()
            );
        }
        eprintln!(
            "\n*** SKIPPED: {} not found (../shared is not beside this checkout) ***\n",
            path.display()
        );
        return None;
    }
    Some(Spec::load(&path).unwrap_or_else(|e| panic!("{e}")))
}

impl Spec {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let doc: Value = serde_norway::from_str(&text)
            .map_err(|e| format!("{} is not valid YAML: {e}", path.display()))?;
        Ok(Spec { doc })
    }

    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// Follows `$ref`s (within the document) until a non-reference object.
    fn resolve<'a>(&'a self, mut v: &'a Value) -> Result<&'a Value, String> {
        for _ in 0..32 {
            let Some(r) = v.get("$ref").and_then(Value::as_str) else {
                return Ok(v);
            };
            let pointer = r
                .strip_prefix('#')
                .ok_or_else(|| format!("external $ref {r} is not supported"))?;
            v = self
                .doc
                .pointer(pointer)
                .ok_or_else(|| format!("$ref {r} does not resolve"))?;
        }
        Err("$ref chain too long".into())
    }

    /// The schema of a named component (`#/components/schemas/NAME`).
    pub fn schema(&self, name: &str) -> Result<&Value, String> {
        self.doc
            .pointer(&format!("/components/schemas/{name}"))
            .ok_or_else(|| format!("no schema {name}"))
    }

    /// Validates `body` against the schema of the response `status` of operation `method`
    /// `path` (as written in the description, e.g. `/campaigns/{id}`).
    pub fn check_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), Vec<String>> {
        let op = self
            .doc
            .get("paths")
            .and_then(|p| p.get(path))
            .and_then(|p| p.get(method.to_ascii_lowercase()))
            .ok_or_else(|| vec![format!("the description has no operation {method} {path}")])?;
        let response = op
            .get("responses")
            .and_then(|r| r.get(status.to_string()))
            .ok_or_else(|| vec![format!("{method} {path} does not describe status {status}")])?;
        let response = self.resolve(response).map_err(|e| vec![e])?;
        let Some(schema) = response.pointer("/content/application~1json/schema") else {
            return if body.is_null() {
                Ok(())
            } else {
                Err(vec![format!(
                    "{method} {path} {status} describes no JSON body"
                )])
            };
        };
        self.check(schema, body)
    }

    /// Validates `value` against `schema`; all errors, each with the JSON path at fault.
    pub fn check(&self, schema: &Value, value: &Value) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        self.walk(schema, value, "$", &mut errors, 0);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn walk(&self, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>, depth: usize) {
        if depth > 64 {
            errors.push(format!("{at}: schema nesting too deep"));
            return;
        }
        let schema = match self.resolve(schema) {
            Ok(s) => s,
            Err(e) => {
                errors.push(format!("{at}: {e}"));
                return;
            }
        };
        let Some(obj) = schema.as_object() else {
            return;
        };
        if v.is_null() {
            if obj.get("nullable").and_then(Value::as_bool) == Some(true)
                || !obj.contains_key("type")
                    && !obj.contains_key("allOf")
                    && !obj.contains_key("$ref")
                    && !obj.contains_key("oneOf")
                    && !obj.contains_key("anyOf")
            {
                return;
            }
            errors.push(format!(
                "{at}: null where the description does not allow it (nullable is not set)"
            ));
            return;
        }
        if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
            for s in all {
                self.walk(s, v, at, errors, depth + 1);
            }
        }
        for (key, need_one) in [("anyOf", false), ("oneOf", true)] {
            if let Some(options) = obj.get(key).and_then(Value::as_array) {
                let passing = options
                    .iter()
                    .filter(|s| {
                        let mut e = Vec::new();
                        self.walk(s, v, at, &mut e, depth + 1);
                        e.is_empty()
                    })
                    .count();
                if passing == 0 || (need_one && passing > 1) {
                    errors.push(format!("{at}: matches {passing} of the {key} alternatives"));
                }
            }
        }
        if let Some(t) = obj.get("type").and_then(Value::as_str) {
            let ok = match t {
                "object" => v.is_object(),
                "array" => v.is_array(),
                "string" => v.is_string(),
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number(),
                "boolean" => v.is_boolean(),
                _ => true,
            };
            if !ok {
                errors.push(format!("{at}: expected {t}, found {}", kind(v)));
                return;
            }
        }
        if let Some(options) = obj.get("enum").and_then(Value::as_array)
            && !options.contains(v)
        {
            errors.push(format!(
                "{at}: {v} is not one of {}",
                Value::Array(options.clone())
            ));
        }
        if let Some(s) = v.as_str() {
            if obj.get("format").and_then(Value::as_str) == Some("date-time")
                && time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .is_err()
            {
                errors.push(format!("{at}: '{s}' is not an RFC 3339 date-time"));
            }
            let len = s.chars().count() as u64;
            if obj
                .get("minLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| len < m)
            {
                errors.push(format!("{at}: shorter than minLength"));
            }
            if obj
                .get("maxLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| len > m)
            {
                errors.push(format!("{at}: longer than maxLength"));
            }
        }
        if let Some(n) = v.as_f64() {
            if obj
                .get("minimum")
                .and_then(Value::as_f64)
                .is_some_and(|m| n < m)
            {
                errors.push(format!("{at}: {n} is below the minimum"));
            }
            if obj
                .get("maximum")
                .and_then(Value::as_f64)
                .is_some_and(|m| n > m)
            {
                errors.push(format!("{at}: {n} is above the maximum"));
            }
        }
        if let Some(items) = v.as_array() {
            let n = items.len() as u64;
            if obj
                .get("minItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| n < m)
            {
                errors.push(format!("{at}: fewer items than minItems"));
            }
            if obj
                .get("maxItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| n > m)
            {
                errors.push(format!("{at}: more items than maxItems"));
            }
            if let Some(item_schema) = obj.get("items") {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item_schema, item, &format!("{at}[{i}]"), errors, depth + 1);
                }
            }
        }
        if let Some(map) = v.as_object() {
            let props = obj.get("properties").and_then(Value::as_object);
            if let Some(required) = obj.get("required").and_then(Value::as_array) {
                for r in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(r) {
                        errors.push(format!("{at}: required property '{r}' is missing"));
                    }
                }
            }
            let required: Vec<&str> = obj
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for (k, val) in map {
                // An optional property sent as null counts as absent: SailPoint's own examples
                // write absent values that way (see ../shared/specs/README.md).
                if val.is_null() && !required.contains(&k.as_str()) {
                    continue;
                }
                match props.and_then(|p| p.get(k)) {
                    Some(s) => self.walk(s, val, &format!("{at}.{k}"), errors, depth + 1),
                    None => match obj.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            errors.push(format!("{at}: property '{k}' is not allowed"))
                        }
                        Some(s @ Value::Object(_)) => {
                            self.walk(s, val, &format!("{at}.{k}"), errors, depth + 1)
                        }
                        _ => {}
                    },
                }
            }
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
