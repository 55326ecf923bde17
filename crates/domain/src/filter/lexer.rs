//! Splits a filter into tokens, with the character position of each for error messages.

use super::{FilterError, MAX_LENGTH};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A bare word: a field, a keyword or an operator (case kept; compare lower-cased).
    Word(String),
    Str(String),
    Number(String),
    LParen,
    RParen,
    Comma,
}

pub(crate) fn lex(input: &str) -> Result<Vec<(usize, Tok)>, FilterError> {
    // Bytes first, so that a huge input is refused without walking it.
    let too_long = || {
        FilterError(format!(
            "the filter is longer than {MAX_LENGTH} characters, the limit"
        ))
    };
    if input.len() > MAX_LENGTH * 4 {
        return Err(too_long());
    }
    // Positions are character positions, as error messages say.
    let chars: Vec<(usize, char)> = input.chars().enumerate().collect();
    if chars.len() > MAX_LENGTH {
        return Err(too_long());
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        match c {
            c if c.is_whitespace() || c == '+' => i += 1,
            '(' => {
                out.push((pos, Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push((pos, Tok::RParen));
                i += 1;
            }
            ',' => {
                out.push((pos, Tok::Comma));
                i += 1;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    let Some(&(_, c)) = chars.get(i) else {
                        return Err(FilterError::at(pos, "a string is not closed with \""));
                    };
                    match c {
                        '"' => {
                            i += 1;
                            break;
                        }
                        '\\' => {
                            let Some(&(epos, e)) = chars.get(i + 1) else {
                                return Err(FilterError::at(pos, "a string is not closed with \""));
                            };
                            match e {
                                '"' | '\\' => s.push(e),
                                _ => {
                                    return Err(FilterError::at(
                                        epos,
                                        format!(
                                            "unknown escape \\{e}: only \\\" and \\\\ are allowed"
                                        ),
                                    ));
                                }
                            }
                            i += 2;
                        }
                        c => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                out.push((pos, Tok::Str(s)));
            }
            c if c == '-' || c.is_ascii_digit() => {
                let start = i;
                i += 1;
                // Take the whole word, so that an unquoted id reads as one bad number.
                while chars
                    .get(i)
                    .is_some_and(|(_, c)| c.is_alphanumeric() || matches!(c, '.' | '_'))
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().map(|(_, c)| *c).collect();
                let digits = text.strip_prefix('-').unwrap_or(&text);
                let valid = !digits.is_empty()
                    && digits.split('.').count() <= 2
                    && digits
                        .split('.')
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
                if !valid {
                    return Err(FilterError::at(pos, format!("'{text}' is not a number")));
                }
                out.push((pos, Tok::Number(text)));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|(_, c)| c.is_alphanumeric() || matches!(c, '_' | '.'))
                {
                    i += 1;
                }
                out.push((
                    pos,
                    Tok::Word(chars[start..i].iter().map(|(_, c)| *c).collect()),
                ));
            }
            other => return Err(FilterError::at(pos, format!("unexpected '{other}'"))),
        }
    }
    Ok(out)
}
