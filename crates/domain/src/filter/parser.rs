//! Recursive descent over the tokens, with a depth limit so that no input can exhaust the stack.

use super::lexer::{Tok, lex};
use super::{Filter, FilterError, MAX_DEPTH, MAX_LIST, Op, Value};

struct Parser {
    toks: Vec<(usize, Tok)>,
    i: usize,
    end: usize,
}

fn keyword(t: &Tok, word: &str) -> bool {
    matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case(word))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|(_, t)| t)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.i).map(|(p, _)| *p).unwrap_or(self.end)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).map(|(_, t)| t.clone());
        self.i += 1;
        t
    }

    fn fail<T>(&self, what: impl std::fmt::Display) -> Result<T, FilterError> {
        Err(FilterError::at(self.pos(), what))
    }

    fn or(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut parts = vec![self.and(depth)?];
        while self.peek().is_some_and(|t| keyword(t, "or")) {
            self.i += 1;
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::Or(parts)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut parts = vec![self.unary(depth)?];
        while self.peek().is_some_and(|t| keyword(t, "and")) {
            self.i += 1;
            parts.push(self.unary(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::And(parts)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, FilterError> {
        if depth >= MAX_DEPTH {
            return self.fail(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        match self.peek() {
            None => self.fail("the filter ends where a condition was expected"),
            Some(t) if keyword(t, "not") => {
                self.i += 1;
                Ok(Filter::Not(Box::new(self.unary(depth + 1)?)))
            }
            Some(Tok::LParen) => {
                self.i += 1;
                let inner = self.or(depth + 1)?;
                match self.next() {
                    Some(Tok::RParen) => Ok(inner),
                    _ => {
                        self.i -= 1;
                        self.fail("expected ')'")
                    }
                }
            }
            Some(t) if keyword(t, "pr") => {
                self.i += 1;
                let field = self.field()?;
                Ok(Filter::Cond {
                    field,
                    op: Op::Pr,
                    values: vec![],
                })
            }
            Some(Tok::Word(_)) => self.condition(),
            Some(other) => {
                let what = describe(other);
                self.fail(format!("expected a field name, found {what}"))
            }
        }
    }

    fn field(&mut self) -> Result<String, FilterError> {
        match self.next() {
            Some(Tok::Word(w)) if !is_reserved(&w) => Ok(w),
            other => {
                self.i -= 1;
                let what = other
                    .as_ref()
                    .map(describe)
                    .unwrap_or_else(|| "the end".into());
                self.fail(format!("expected a field name, found {what}"))
            }
        }
    }

    fn condition(&mut self) -> Result<Filter, FilterError> {
        let field = self.field()?;
        let op_pos = self.pos();
        let word = match self.next() {
            Some(Tok::Word(w)) => w.to_ascii_lowercase(),
            other => {
                self.i -= 1;
                let what = other
                    .as_ref()
                    .map(describe)
                    .unwrap_or_else(|| "the end".into());
                return self.fail(format!(
                    "expected an operator after '{field}', found {what}"
                ));
            }
        };
        if word == "isnull" {
            return Ok(Filter::Cond {
                field,
                op: Op::IsNull,
                values: vec![],
            });
        }
        if word == "in" || word == "ca" {
            let op = if word == "in" { Op::In } else { Op::Ca };
            return Ok(Filter::Cond {
                field,
                op,
                values: self.list()?,
            });
        }
        let Some(op) = Op::binary(&word) else {
            return Err(FilterError::at(
                op_pos,
                format!(
                    "unknown operator '{word}': use eq, ne, gt, ge, lt, le, co, sw, in, ca, pr, isnull"
                ),
            ));
        };
        let value = self.value()?;
        Ok(Filter::Cond {
            field,
            op,
            values: vec![value],
        })
    }

    fn value(&mut self) -> Result<Value, FilterError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Value::String(s)),
            Some(Tok::Number(n)) => Ok(Value::Number(n)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("null") => Ok(Value::Null),
            other => {
                self.i -= 1;
                let what = other
                    .as_ref()
                    .map(describe)
                    .unwrap_or_else(|| "the end".into());
                self.fail(format!(
                    "expected a value (a \"quoted string\", a number, true, false or null), found {what}"
                ))
            }
        }
    }

    fn list(&mut self) -> Result<Vec<Value>, FilterError> {
        if self.next() != Some(Tok::LParen) {
            self.i -= 1;
            return self.fail("expected '(' to open a list of values");
        }
        let mut values = vec![self.value()?];
        loop {
            match self.next() {
                Some(Tok::Comma) => {
                    if values.len() >= MAX_LIST {
                        return self.fail(format!("a list holds at most {MAX_LIST} values"));
                    }
                    values.push(self.value()?);
                }
                Some(Tok::RParen) => return Ok(values),
                _ => {
                    self.i -= 1;
                    return self.fail("expected ',' or ')' in a list of values");
                }
            }
        }
    }
}

fn is_reserved(w: &str) -> bool {
    ["and", "or", "not", "pr", "true", "false", "null"]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k))
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("'{w}'"),
        Tok::Str(s) => format!("the string \"{s}\""),
        Tok::Number(n) => format!("the number {n}"),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Comma => "','".into(),
    }
}

/// Parses a `filters` parameter.
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    let toks = lex(input)?;
    if toks.is_empty() {
        return Err(FilterError("the filter is empty".into()));
    }
    let mut p = Parser {
        toks,
        i: 0,
        end: input.chars().count(),
    };
    let f = p.or(0)?;
    if p.i < p.toks.len() {
        let what = describe(&p.toks[p.i].1);
        return p.fail(format!("unexpected {what} after a complete condition"));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn cond(field: &str, op: Op, values: Vec<Value>) -> Filter {
        Filter::Cond {
            field: field.into(),
            op,
            values,
        }
    }

    #[test]
    fn parses_every_operator() {
        assert_eq!(
            parse(r#"name eq "Q1""#).unwrap(),
            cond("name", Op::Eq, vec![s("Q1")])
        );
        assert_eq!(
            parse("decisionsMade GE 3").unwrap(),
            cond("decisionsMade", Op::Ge, vec![Value::Number("3".into())])
        );
        assert_eq!(
            parse(r#"id in ("a", "b")"#).unwrap(),
            cond("id", Op::In, vec![s("a"), s("b")])
        );
        assert_eq!(
            parse(r#"tags ca ("x")"#).unwrap(),
            cond("tags", Op::Ca, vec![s("x")])
        );
        assert_eq!(parse("pr email").unwrap(), cond("email", Op::Pr, vec![]));
        assert_eq!(
            parse("email isnull").unwrap(),
            cond("email", Op::IsNull, vec![])
        );
        assert_eq!(
            parse("completed eq true").unwrap(),
            cond("completed", Op::Eq, vec![Value::Bool(true)])
        );
        assert_eq!(
            parse("source.name sw \"A\"").unwrap(),
            cond("source.name", Op::Sw, vec![s("A")])
        );
    }

    #[test]
    fn not_binds_tighter_than_and_tighter_than_or() {
        let f = parse(r#"a eq "1" or not b eq "2" and c eq "3""#).unwrap();
        assert_eq!(
            f,
            Filter::Or(vec![
                cond("a", Op::Eq, vec![s("1")]),
                Filter::And(vec![
                    Filter::Not(Box::new(cond("b", Op::Eq, vec![s("2")]))),
                    cond("c", Op::Eq, vec![s("3")]),
                ]),
            ])
        );
        let g = parse(r#"(a eq "1" or b eq "2") and c eq "3""#).unwrap();
        assert!(matches!(g, Filter::And(ref p) if matches!(p[0], Filter::Or(_))));
    }

    #[test]
    fn strings_keep_escapes_and_plus_is_a_space() {
        assert_eq!(
            parse(r#"name eq "say \"hi\" \\ o/""#).unwrap(),
            cond("name", Op::Eq, vec![s(r#"say "hi" \ o/"#)])
        );
        assert_eq!(
            parse(r#"name+eq+"a+b""#).unwrap(),
            cond("name", Op::Eq, vec![s("a+b")])
        );
    }

    #[test]
    fn errors_say_where_and_what() {
        let cases = [
            ("", "empty"),
            ("name", "expected an operator after 'name'"),
            ("name eq", "expected a value"),
            ("name foo \"x\"", "unknown operator 'foo'"),
            ("name eq \"x", "not closed"),
            ("name eq \"\\n\"", "unknown escape"),
            ("(name eq \"x\"", "expected ')'"),
            ("name eq \"x\" name", "unexpected 'name'"),
            ("id in \"a\"", "expected '('"),
            ("id in (\"a\" \"b\")", "expected ',' or ')'"),
            ("name eq 2c91", "not a number"),
            ("name eq \"a\" ; drop table", "unexpected ';'"),
            ("and eq \"x\"", "expected a field name"),
        ];
        for (input, want) in cases {
            let e = parse(input).unwrap_err().0;
            assert!(e.contains(want), "{input:?}: {e}");
        }
        let deep = format!("{}a eq 1{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep).unwrap_err().0.contains("nested deeper"));
        let nots = format!("{}a eq 1", "not ".repeat(100));
        assert!(parse(&nots).unwrap_err().0.contains("nested deeper"));
        assert!(parse(&"a".repeat(5000)).unwrap_err().0.contains("limit"));
    }

    #[test]
    fn display_parses_back_to_the_same_filter() {
        for input in [
            r#"a eq "x\"y" or (b ne 1.5 and not c co "z")"#,
            r#"id in ("1", "2") and pr email and name isnull"#,
        ] {
            let f = parse(input).unwrap();
            assert_eq!(parse(&f.to_string()).unwrap(), f, "{f}");
        }
    }
}
