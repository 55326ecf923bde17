//! The validator against SailPoint's own description: its examples validate, and values that
//! break the description are reported with their path.

use recert_spec_check::sailpoint_spec;
use serde_json::{Value, json};

#[test]
fn the_descriptions_own_examples_validate() {
    let Some(spec) = sailpoint_spec() else { return };
    let schemas = spec.document()["components"]["schemas"]
        .as_object()
        .unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, schema) in schemas {
        // The description's own slip: an array schema whose example is a single object.
        if name == "ReassignmentTrailDTOList" {
            continue;
        }
        if let Some(example) = schema.get("example") {
            checked += 1;
            if let Err(e) = spec.check(schema, example) {
                failures.push(format!("{name}: {e:?}"));
            }
        }
    }
    // Response examples of every operation.
    for (path, ops) in spec.document()["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let Some(responses) = op.get("responses").and_then(Value::as_object) else {
                continue;
            };
            for (status, response) in responses {
                let mut examples: Vec<&Value> = Vec::new();
                examples.extend(response.pointer("/content/application~1json/example"));
                if let Some(named) = response
                    .pointer("/content/application~1json/examples")
                    .and_then(Value::as_object)
                {
                    // Named examples, inline or `$ref`s to `#/components/examples/...`.
                    examples.extend(named.values().filter_map(|e| {
                        match e.get("$ref").and_then(Value::as_str) {
                            Some(r) => spec.document().pointer(r.strip_prefix('#')?)?.get("value"),
                            None => e.get("value"),
                        }
                    }));
                }
                for example in examples {
                    checked += 1;
                    if let Err(e) =
                        spec.check_response(method, path, status.parse().unwrap(), example)
                    {
                        failures.push(format!("{method} {path} {status}: {e:?}"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} examples fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 35, "only {checked} examples found");
}

/// Every `(schema, example)` pair among a schema's properties, at any depth.
fn property_examples<'a>(
    schema: &'a Value,
    out: &mut Vec<(String, &'a Value, &'a Value)>,
    at: &str,
) {
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, p) in props {
            let here = format!("{at}.{k}");
            if let Some(example) = p.get("example") {
                out.push((here.clone(), p, example));
            }
            property_examples(p, out, &here);
            if let Some(items) = p.get("items") {
                property_examples(items, out, &format!("{here}[]"));
            }
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for part in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            property_examples(part, out, at);
        }
    }
}

#[test]
fn property_examples_validate() {
    let Some(spec) = sailpoint_spec() else { return };
    let mut pairs = Vec::new();
    for (name, schema) in spec.document()["components"]["schemas"]
        .as_object()
        .unwrap()
    {
        property_examples(schema, &mut pairs, name);
    }
    // The description's own slip: `Schedule.expiration`'s example is not RFC 3339
    // ("2022-09-19 13:55:26"); recert always sends RFC 3339, so the check stays strict.
    pairs.retain(|(at, _, _)| at != "Schedule.expiration");
    let failures: Vec<String> = pairs
        .iter()
        .filter_map(|(at, schema, example)| {
            spec.check(schema, example)
                .err()
                .map(|e| format!("{at}: {e:?}"))
        })
        .collect();
    assert!(pairs.len() > 100, "only {} property examples", pairs.len());
    assert!(
        failures.is_empty(),
        "{} of {}:\n{}",
        failures.len(),
        pairs.len(),
        failures.join("\n")
    );
}

#[test]
fn violations_are_reported_with_their_path() {
    let Some(spec) = sailpoint_spec() else { return };
    let good = json!({
        "detailCode": "400.1 Bad Request Content",
        "trackingId": "e7eab60924f64aa284175b9fa3309599",
        "messages": [{"locale": "en-US", "localeOrigin": "DEFAULT", "text": "bad"}],
        "causes": []
    });
    spec.check_response("get", "/campaigns/{id}", 400, &good)
        .unwrap();
    let bad = json!({
        "detailCode": 400,
        "messages": [{"locale": "en-US", "localeOrigin": "SOMEWHERE", "text": "bad"}]
    });
    let errors = spec
        .check_response("get", "/campaigns/{id}", 400, &bad)
        .unwrap_err();
    let text = errors.join("\n");
    assert!(
        text.contains("$.detailCode: expected string, found integer"),
        "{text}"
    );
    assert!(text.contains("$.messages[0].localeOrigin"), "{text}");
    assert!(
        spec.check_response("get", "/campaigns/{id}", 299, &good)
            .is_err()
    );
    assert!(spec.check_response("get", "/nowhere", 200, &good).is_err());
}

/// The JSON Schema validator (boon) under the translated description: types, enums,
/// `date-time`, nullability and optional properties sent as null.
#[test]
fn the_validator_catches_what_the_description_forbids() {
    let Some(spec) = sailpoint_spec() else { return };
    let good = json!({
        "id": "e7dbec99d49349c8951bd84f58a05120",
        "name": "Manager review",
        "description": "Every manager reviews their reports",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": null,
        "scheduled": false,
        "deadlineDuration": null,
        "campaign": {
            "name": "Manager review",
            "description": null,
            "type": "MANAGER",
            "deadline": "2026-02-01T12:30:00.000Z",
            "totalCertifications": 3,
            "completedCertifications": 0,
            "alerts": null
        }
    });
    let check = |body: &Value| spec.check_response("get", "/campaign-templates/{id}", 200, body);
    check(&good).unwrap();

    let with = |pointer: &str, value: Value| {
        let mut body = good.clone();
        *body.pointer_mut(pointer).unwrap() = value;
        body
    };
    let fails = |body: Value, expected: &str| {
        let errors = check(&body).expect_err(expected).join("\n");
        assert!(
            errors.contains(expected),
            "wanted {expected:?} in:\n{errors}"
        );
    };
    // A string where an integer is required; an integer must not be written as a float.
    fails(
        with("/campaign/totalCertifications", json!("3")),
        "$.campaign.totalCertifications: expected integer, found string",
    );
    fails(
        with("/campaign/totalCertifications", json!(3.0)),
        "$.campaign.totalCertifications: 3.0 is not a valid int32",
    );
    // A value outside an enum.
    fails(
        with("/campaign/type", json!("WEEKLY")),
        r#"$.campaign.type: "WEEKLY" is not one of"#,
    );
    // Date-times must be RFC 3339.
    fails(
        with("/created", json!("2026-01-01 00:00:00")),
        r#"$.created: "2026-01-01 00:00:00" is not a valid date-time"#,
    );
    fails(
        with("/campaign/deadline", json!("yesterday")),
        "$.campaign.deadline: \"yesterday\" is not a valid date-time",
    );
    // Null for a required property that is not nullable; a missing required property.
    fails(
        with("/name", Value::Null),
        "$.name: expected string, found null",
    );
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("created");
    fails(missing, "$: required property 'created' is missing");

    // Null for an optional property counts as absent; a nullable one (`modified`, the
    // required `campaign.description`) takes null too.
    check(&with("/id", Value::Null)).unwrap();
    check(&with("/campaign/deadline", Value::Null)).unwrap();
    check(&with("/campaign/totalCertifications", Value::Null)).unwrap();
    // Our own timestamps pass.
    check(&with("/modified", json!("2026-01-01T00:00:00.000Z"))).unwrap();

    // The same through `check` with a component schema and a stand-alone one.
    let template = spec.schema("CampaignTemplate").unwrap();
    spec.check(template, &good).unwrap();
    let errors = spec
        .check(template, &with("/campaign/type", json!(7)))
        .unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("$.campaign.type: expected string, found integer")),
        "{errors:?}"
    );
    let own = json!({
        "type": "object",
        "required": ["when"],
        "properties": {
            "when": {"type": "string", "format": "date-time"},
            "report": {"$ref": "#/components/schemas/ReportType"}
        }
    });
    spec.check(
        &own,
        &json!({"when": "2026-01-01T00:00:00.000Z", "report": null}),
    )
    .unwrap();
    let errors = spec
        .check(&own, &json!({"when": null, "report": "NOPE"}))
        .unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("$.when: expected string, found null")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(r#"$.report: "NOPE" is not one of"#)),
        "{errors:?}"
    );
}
