//! Identifiers: 32 lowercase hexadecimal characters on the wire and on disk.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A record identifier. Held as 16 bytes so that millions of them fit in memory during an import;
/// written as 32 lowercase hex characters everywhere else.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id([u8; 16]);

/// Why a string is not an [`Id`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an id: ids are 32 hexadecimal characters")]
pub struct InvalidId(pub String);

impl Id {
    /// A new time-ordered id (UUIDv7): ids generated later sort later, which keeps B-tree inserts
    /// appending at the end.
    pub fn generate() -> Self {
        Id(*uuid::Uuid::now_v7().as_bytes())
    }

    /// Builds an id from raw bytes (used by deterministic generators such as the demo data).
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Id(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses 32 hex characters; upper case is accepted and normalised to lower case.
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        let b = s.as_bytes();
        if b.len() != 32 {
            return Err(InvalidId(s.to_owned()));
        }
        let mut out = [0u8; 16];
        for (i, pair) in b.chunks_exact(2).enumerate() {
            let hi = hex_value(pair[0]).ok_or_else(|| InvalidId(s.to_owned()))?;
            let lo = hex_value(pair[1]).ok_or_else(|| InvalidId(s.to_owned()))?;
            out[i] = (hi << 4) | lo;
        }
        Ok(Id(out))
    }

    /// Writes the 32-character form into `buf` without allocating.
    pub fn encode<'a>(&self, buf: &'a mut [u8; 32]) -> &'a str {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, byte) in self.0.iter().enumerate() {
            buf[2 * i] = HEX[(byte >> 4) as usize];
            buf[2 * i + 1] = HEX[(byte & 0xf) as usize];
        }
        // Only ASCII hex digits were written.
        std::str::from_utf8(buf).unwrap_or_default()
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 32];
        f.write_str(self.encode(&mut buf))
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Id {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Id::parse(s)
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 32];
        s.serialize_str(self.encode(&mut buf))
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Id::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_normalises_case() {
        let id = Id::parse("0123456789ABCDEF0123456789abcdef").unwrap();
        assert_eq!(id.to_string(), "0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn refuses_wrong_length_and_non_hex() {
        assert!(Id::parse("abc").is_err());
        assert!(Id::parse("0123456789abcdef0123456789abcdeg").is_err());
        assert!(Id::parse("").is_err());
    }

    #[test]
    fn generated_ids_are_time_ordered() {
        let a = Id::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = Id::generate();
        assert!(a < b, "{a} should sort before {b}");
        assert_eq!(a.to_string().len(), 32);
    }
}
