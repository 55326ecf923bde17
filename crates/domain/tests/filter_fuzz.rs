//! Property tests of the filter parser: no input makes it panic, and every filter it can express
//! survives being written out and read back.

use proptest::prelude::*;
use recert_domain::filter::{FieldKind, FieldSpec, Filter, Op, Value, parse, validate};

const TOKENS: &[&str] = &[
    "name",
    "id",
    "status",
    "source.name",
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "co",
    "sw",
    "in",
    "ca",
    "pr",
    "isnull",
    "and",
    "or",
    "not",
    "AND",
    "Not",
    "(",
    ")",
    ",",
    "\"x\"",
    "\"\\\"\"",
    "\"\\\\\"",
    "\"",
    "\\",
    "1",
    "-2.5",
    "1.2.3",
    "true",
    "null",
    "+",
    "%20",
    "'",
    ";",
    "é",
    "\u{0}",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|t| t.join(" "))
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>().prop_map(Value::String),
        (-1_000_000i64..1_000_000).prop_map(|n| Value::Number(n.to_string())),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
}

fn field() -> impl Strategy<Value = String> {
    prop::sample::select(&["name", "id", "status", "source.name", "decisionsMade"][..])
        .prop_map(str::to_owned)
}

fn cond() -> impl Strategy<Value = Filter> {
    let binary = prop::sample::select(
        &[
            Op::Eq,
            Op::Ne,
            Op::Gt,
            Op::Ge,
            Op::Lt,
            Op::Le,
            Op::Co,
            Op::Sw,
        ][..],
    );
    prop_oneof![
        (field(), binary, value()).prop_map(|(field, op, v)| Filter::Cond {
            field,
            op,
            values: vec![v]
        }),
        (
            field(),
            prop::sample::select(&[Op::In, Op::Ca][..]),
            prop::collection::vec(value(), 1..5)
        )
            .prop_map(|(field, op, values)| Filter::Cond { field, op, values }),
        (field(), prop::sample::select(&[Op::Pr, Op::IsNull][..])).prop_map(|(field, op)| {
            Filter::Cond {
                field,
                op,
                values: vec![],
            }
        }),
    ]
}

fn filter() -> impl Strategy<Value = Filter> {
    cond().prop_recursive(5, 40, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::Or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "name",
        ops: &[Op::Eq, Op::Sw, Op::Co],
        kind: FieldKind::String,
    },
    FieldSpec {
        name: "status",
        ops: &[Op::Eq, Op::In],
        kind: FieldKind::Enum(&["ACTIVE", "STAGED"]),
    },
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(input in any::<String>()) {
        if let Ok(f) = parse(&input) {
            let _ = validate(&f, FIELDS);
        }
    }

    #[test]
    fn token_soup_never_panics(input in token_soup()) {
        if let Ok(f) = parse(&input) {
            let _ = validate(&f, FIELDS);
        }
    }

    #[test]
    fn written_filters_read_back_the_same(f in filter()) {
        let text = f.to_string();
        prop_assume!(text.len() <= recert_domain::filter::MAX_LENGTH);
        let back = parse(&text);
        prop_assert_eq!(back, Ok(f), "{}", text);
    }
}
