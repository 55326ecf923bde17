//! Validates JSON bodies against an OpenAPI 3.0 description, for tests: every response recert
//! sends on SailPoint's routes must validate against SailPoint's own description, which stays
//! in `../shared/specs` and is read in place.
//!
//! Validation is done by the [`boon`] crate, a JSON Schema (draft 2020-12) validator, with
//! format assertions on (`format: date-time` must be RFC 3339). What stays ours is the
//! translation of OpenAPI 3.0's schema dialect into draft 2020-12, done once when the
//! description is loaded, on a copy of the whole document:
//!
//! - `nullable: true` allows `null`: `type: T` becomes `type: [T, "null"]`, an `enum` gains
//!   `null`, and a `$ref` or an `allOf`/`anyOf`/`oneOf` without `type` becomes
//!   `anyOf: [{type: null}, …]`;
//! - an optional property (in `properties`, not in `required`) whose value is `null` counts as
//!   absent, as SailPoint's own examples (and ../shared/specs/README.md) have it: its schema is
//!   wrapped as `anyOf: [{type: null}, …]`; a required one must be `nullable`;
//! - a `$ref`'s sibling keywords are ignored, as OpenAPI 3.0 says (`nullable` excepted), and
//!   `$ref`s keep pointing inside the document;
//! - OpenAPI-only annotations (`example`, `examples`, `x-*`, `readOnly`, `writeOnly`,
//!   `discriminator`, `xml`, `externalDocs`, `deprecated`) are dropped; boolean
//!   `exclusiveMinimum`/`exclusiveMaximum` become draft 2020-12's numeric form;
//! - OpenAPI 3.0 takes `integer` from JSON Schema draft 00, where it is a number written
//!   without fraction or exponent: `1.0` is not an integer. The formats `int32` and `int64`
//!   assert that and the range, and an `integer` without a format is given `int64`.
//!
//! Errors name the JSON path of the value at fault (`$.messages[0].localeOrigin`) and what is
//! wrong with it, flattened from boon's error tree.

use std::collections::HashMap;
use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use boon::{
    Compiler, Draft, ErrorKind, Format, InstanceToken, SchemaIndex, Schemas, Type, ValidationError,
};
use serde_json::{Map, Value, json};

/// Where the translated description is known to boon.
const DOC_URL: &str = "http://spec.invalid/openapi.json";

/// A loaded OpenAPI description.
#[derive(Debug, Clone)]
pub struct Spec {
    doc: Value,
    /// The description with every schema translated to draft 2020-12.
    translated: Arc<Value>,
    cache: Arc<Mutex<Cache>>,
}

/// Compiled schemas, shared by clones of a [`Spec`]. boon's `Compiler` is not `Send`, so one
/// is made for each schema not yet compiled; all of them compile into the same `Schemas`.
#[derive(Default)]
struct Cache {
    schemas: Schemas,
    /// Location (or, for schemas given to [`Spec::check`], their text) → compiled schema.
    index: HashMap<String, SchemaIndex>,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("compiled", &self.index.len())
            .finish()
    }
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
        let translated = Arc::new(translate_document(&doc));
        Ok(Spec {
            doc,
            translated,
            cache: Arc::default(),
        })
    }

    /// The description as written (not translated).
    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// Follows `$ref`s (within the document) until a non-reference object; returns it with
    /// its JSON pointer, `None` when `v` itself is no reference.
    fn resolve<'a>(&'a self, mut v: &'a Value) -> Result<(&'a Value, Option<String>), String> {
        let mut at = None;
        for _ in 0..32 {
            let Some(r) = v.get("$ref").and_then(Value::as_str) else {
                return Ok((v, at));
            };
            let pointer = r
                .strip_prefix('#')
                .ok_or_else(|| format!("external $ref {r} is not supported"))?;
            v = self
                .doc
                .pointer(pointer)
                .ok_or_else(|| format!("$ref {r} does not resolve"))?;
            at = Some(pointer.to_owned());
        }
        Err("$ref chain too long".into())
    }

    /// The schema of a named component (`#/components/schemas/NAME`).
    pub fn schema(&self, name: &str) -> Result<&Value, String> {
        self.doc
            .pointer(&format!("/components/schemas/{}", escape_token(name)))
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
        let method_key = method.to_ascii_lowercase();
        let op = self
            .doc
            .get("paths")
            .and_then(|p| p.get(path))
            .and_then(|p| p.get(&method_key))
            .ok_or_else(|| vec![format!("the description has no operation {method} {path}")])?;
        let status_key = status.to_string();
        let response = op
            .get("responses")
            .and_then(|r| r.get(&status_key))
            .ok_or_else(|| vec![format!("{method} {path} does not describe status {status}")])?;
        let (response, resolved_at) = self.resolve(response).map_err(|e| vec![e])?;
        let response_at = resolved_at.unwrap_or_else(|| {
            ["paths", path, &method_key, "responses", &status_key]
                .iter()
                .map(|t| format!("/{}", escape_token(t)))
                .collect()
        });
        if response
            .pointer("/content/application~1json/schema")
            .is_none()
        {
            return if body.is_null() {
                Ok(())
            } else {
                Err(vec![format!(
                    "{method} {path} {status} describes no JSON body"
                )])
            };
        }
        let pointer = format!("{response_at}/content/application~1json/schema");
        self.validate(Target::Document(&pointer), body)
    }

    /// Validates `value` against `schema`; all errors, each with the JSON path at fault.
    /// `schema` is an OpenAPI schema: one of the description's (see [`Spec::schema`]) or any
    /// other, whose `$ref`s point into the description.
    pub fn check(&self, schema: &Value, value: &Value) -> Result<(), Vec<String>> {
        // A component schema is compiled where it stands; any other is compiled on its own.
        let component = self
            .doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .and_then(|all| all.iter().find(|(_, s)| std::ptr::eq(*s, schema)));
        match component {
            Some((name, _)) => {
                let pointer = format!("/components/schemas/{}", escape_token(name));
                self.validate(Target::Document(&pointer), value)
            }
            None => self.validate(Target::Schema(schema), value),
        }
    }

    fn validate(&self, target: Target<'_>, value: &Value) -> Result<(), Vec<String>> {
        let mut cache = self.lock();
        let key = match target {
            Target::Document(pointer) => format!("{DOC_URL}#{}", encode_fragment(pointer)),
            Target::Schema(schema) => format!("schema:{schema}"),
        };
        let index = match cache.index.get(&key) {
            Some(&index) => index,
            None => {
                let mut compiler = compiler();
                compiler
                    .add_resource(DOC_URL, (*self.translated).clone())
                    .map_err(|e| vec![format!("cannot add the description: {e:#}")])?;
                let location = match target {
                    Target::Document(_) => key.clone(),
                    Target::Schema(schema) => {
                        let url = format!("http://spec.invalid/schema/{}.json", cache.index.len());
                        compiler
                            .add_resource(&url, translate_schema(schema, DOC_URL))
                            .map_err(|e| vec![format!("cannot add the schema: {e:#}")])?;
                        url
                    }
                };
                let index = compiler
                    .compile(&location, &mut cache.schemas)
                    .map_err(|e| vec![format!("cannot compile {location}: {e:#}")])?;
                cache.index.insert(key, index);
                index
            }
        };
        match cache.schemas.validate(value, index) {
            Ok(()) => Ok(()),
            Err(error) => {
                let mut errors = Vec::new();
                flatten(&error, value, &mut errors);
                if errors.is_empty() {
                    errors.push(format!("$: {error}"));
                }
                Err(errors)
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Cache> {
        // A panic elsewhere while the lock was held leaves the cache consistent.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Clone, Copy)]
enum Target<'a> {
    /// A JSON pointer into the description.
    Document(&'a str),
    /// A schema given on its own.
    Schema(&'a Value),
}

fn compiler() -> Compiler {
    let mut compiler = Compiler::new();
    compiler.set_default_draft(Draft::V2020_12);
    compiler.enable_format_assertions();
    compiler.register_format(Format {
        name: "int32",
        func: |v| integer_in(v, i32::MIN.into(), i32::MAX.into()),
    });
    compiler.register_format(Format {
        name: "int64",
        func: |v| integer_in(v, i64::MIN.into(), i64::MAX.into()),
    });
    compiler
}

/// OpenAPI 3.0's `integer`: written without fraction or exponent, within the format's range.
fn integer_in(v: &Value, min: i128, max: i128) -> Result<(), Box<dyn Error>> {
    let Value::Number(n) = v else {
        return Ok(());
    };
    let n = match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => i128::from(i),
        (None, Some(u)) => i128::from(u),
        (None, None) => Err("written with a fraction or an exponent")?,
    };
    if n < min || n > max {
        Err(format!("outside {min}..={max}"))?;
    }
    Ok(())
}

// --- OpenAPI 3.0 → JSON Schema draft 2020-12 ---

/// The whole description with every schema object translated; `$ref`s stay as written.
fn translate_document(doc: &Value) -> Value {
    let mut out = walk_document(doc);
    if let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        && let Some(slot) = out.pointer_mut("/components/schemas")
    {
        *slot = Value::Object(
            schemas
                .iter()
                .map(|(name, s)| (name.clone(), translate_schema(s, "")))
                .collect(),
        );
    }
    out
}

/// Outside schemas: a value under a `schema` key is a schema (parameters, media types,
/// headers); examples and extensions are data, left alone.
fn walk_document(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if k == "schema" && v.is_object() {
                        translate_schema(v, "")
                    } else if k == "example" || k == "examples" || k.starts_with("x-") {
                        v.clone()
                    } else {
                        walk_document(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(walk_document).collect()),
        other => other.clone(),
    }
}

const ANNOTATIONS: [&str; 9] = [
    "example",
    "examples",
    "readOnly",
    "writeOnly",
    "discriminator",
    "xml",
    "externalDocs",
    "deprecated",
    "nullable",
];

/// Translates one OpenAPI 3.0 schema object. `base` is put before `$ref`s that start with `#`
/// (empty when the schema stays inside the description).
fn translate_schema(schema: &Value, base: &str) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let nullable = map.get("nullable").and_then(Value::as_bool) == Some(true);
    if let Some(r) = map.get("$ref").and_then(Value::as_str) {
        // OpenAPI 3.0: a reference's siblings are ignored.
        let target = if r.starts_with('#') {
            format!("{base}{r}")
        } else {
            r.to_owned()
        };
        let reference = json!({ "$ref": target });
        return if nullable {
            or_null(reference)
        } else {
            reference
        };
    }
    let required: Vec<&str> = map
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Map::new();
    for (k, v) in map {
        if ANNOTATIONS.contains(&k.as_str()) || k.starts_with("x-") {
            continue;
        }
        let v = match (k.as_str(), v) {
            ("properties", Value::Object(props)) => Value::Object(
                props
                    .iter()
                    .map(|(name, s)| {
                        let s = translate_schema(s, base);
                        // An optional property sent as null counts as absent.
                        let s = if required.contains(&name.as_str()) {
                            s
                        } else {
                            or_null(s)
                        };
                        (name.clone(), s)
                    })
                    .collect(),
            ),
            ("items" | "additionalProperties" | "not", Value::Object(_)) => {
                translate_schema(v, base)
            }
            ("allOf" | "anyOf" | "oneOf", Value::Array(parts)) => {
                Value::Array(parts.iter().map(|s| translate_schema(s, base)).collect())
            }
            ("exclusiveMinimum" | "exclusiveMaximum", Value::Bool(_)) => continue,
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    // Draft 00's boolean exclusive bounds qualify minimum/maximum.
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if map.get(flag) == Some(&Value::Bool(true))
            && let Some(n) = out.remove(bound)
        {
            out.insert(flag.into(), n);
        }
    }
    if out.get("type").and_then(Value::as_str) == Some("integer") && !out.contains_key("format") {
        out.insert("format".into(), "int64".into());
    }
    if !nullable {
        return Value::Object(out);
    }
    if let Some(Value::Array(options)) = out.get_mut("enum")
        && !options.contains(&Value::Null)
    {
        options.push(Value::Null);
    }
    match out.get("type") {
        Some(Value::String(t)) => {
            let t = Value::Array(vec![Value::String(t.clone()), "null".into()]);
            out.insert("type".into(), t);
            Value::Object(out)
        }
        None if ["allOf", "anyOf", "oneOf"]
            .iter()
            .any(|k| out.contains_key(*k)) =>
        {
            or_null(Value::Object(out))
        }
        _ => Value::Object(out),
    }
}

fn or_null(schema: Value) -> Value {
    json!({ "anyOf": [{ "type": "null" }, schema] })
}

// --- JSON pointers in URLs ---

fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Percent-encodes what may not stand in a URL fragment (boon decodes it back).
fn encode_fragment(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for c in pointer.chars() {
        match c {
            '%' | ' ' | '"' | '<' | '>' | '`' | '#' => out.push_str(&format!("%{:02X}", c as u32)),
            c if c.is_control() => {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

// --- boon's error tree → one line per fault ---

fn flatten(e: &ValidationError<'_, '_>, instance: &Value, out: &mut Vec<String>) {
    let at = json_path(e);
    match &e.kind {
        ErrorKind::Group
        | ErrorKind::Schema { .. }
        | ErrorKind::Reference { .. }
        | ErrorKind::AllOf
        | ErrorKind::ContentSchema => {
            for cause in &e.causes {
                flatten(cause, instance, out);
            }
        }
        ErrorKind::AnyOf | ErrorKind::OneOf(None) => {
            // The `{type: null}` alternative added for `nullable` and optional properties
            // says nothing useful about a value that is not null.
            let causes: Vec<_> = e.causes.iter().filter(|c| !wants_only_null(c)).collect();
            match causes.as_slice() {
                [] => out.push(format!("{at}: {}", e.kind)),
                [only] => flatten(only, instance, out),
                several => {
                    let keyword = if matches!(e.kind, ErrorKind::AnyOf) {
                        "anyOf"
                    } else {
                        "oneOf"
                    };
                    let per_alternative: Vec<Vec<String>> = several
                        .iter()
                        .map(|c| {
                            let mut lines = Vec::new();
                            flatten(c, instance, &mut lines);
                            lines
                        })
                        .collect();
                    // A fault every alternative finds is a fault whichever one was meant.
                    let common: Vec<String> = per_alternative[0]
                        .iter()
                        .filter(|line| per_alternative.iter().all(|a| a.contains(line)))
                        .cloned()
                        .collect();
                    let rest: Vec<Vec<&String>> = per_alternative
                        .iter()
                        .map(|a| a.iter().filter(|l| !common.contains(l)).collect())
                        .collect();
                    let explained = !common.is_empty() && rest.iter().any(Vec::is_empty);
                    out.extend(common);
                    if !explained {
                        let reasons: Vec<String> = rest
                            .iter()
                            .enumerate()
                            .map(|(i, lines)| {
                                let lines: Vec<&str> = lines.iter().map(|l| l.as_str()).collect();
                                format!("#{i}: {}", lines.join("; "))
                            })
                            .collect();
                        out.push(format!(
                            "{at}: matches none of the {keyword} alternatives ({})",
                            reasons.join(" | ")
                        ));
                    }
                }
            }
        }
        ErrorKind::OneOf(Some((i, j))) => out.push(format!(
            "{at}: matches the oneOf alternatives #{i} and #{j}, where exactly one must match"
        )),
        ErrorKind::Type { want, .. } => {
            let want: Vec<String> = want.iter().map(|t| t.to_string()).collect();
            let found = instance_at(instance, e).map_or("nothing", kind);
            out.push(format!(
                "{at}: expected {}, found {found}",
                want.join(" or ")
            ));
        }
        ErrorKind::Enum { want } => {
            let found = instance_at(instance, e).map_or_else(String::new, |v| v.to_string());
            out.push(format!(
                "{at}: {found} is not one of {}",
                Value::Array(want.to_vec())
            ));
        }
        ErrorKind::Required { want } => {
            for name in want {
                out.push(format!("{at}: required property '{name}' is missing"));
            }
        }
        ErrorKind::AdditionalProperties { got } => {
            for name in got {
                out.push(format!("{at}: property '{name}' is not allowed"));
            }
        }
        ErrorKind::Format { got, want, err } => {
            out.push(format!("{at}: {got} is not a valid {want} ({err})"));
        }
        kind => out.push(format!("{at}: {kind}")),
    }
}

fn wants_only_null(e: &ValidationError<'_, '_>) -> bool {
    matches!(&e.kind, ErrorKind::Type { want, .. } if want.iter().eq([Type::Null]))
}

/// `$.messages[0].text` for the instance location `/messages/0/text`.
fn json_path(e: &ValidationError<'_, '_>) -> String {
    let mut at = String::from("$");
    for token in &e.instance_location.tokens {
        match token {
            InstanceToken::Prop(name) => {
                at.push('.');
                at.push_str(name);
            }
            InstanceToken::Item(i) => at.push_str(&format!("[{i}]")),
        }
    }
    at
}

fn instance_at<'v>(instance: &'v Value, e: &ValidationError<'_, '_>) -> Option<&'v Value> {
    e.instance_location
        .tokens
        .iter()
        .try_fold(instance, |v, token| match token {
            InstanceToken::Prop(name) => v.get(name.as_ref()),
            InstanceToken::Item(i) => v.get(*i),
        })
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
