//! Reading a bundle as it streams past: a `serde` visitor over the top-level object that
//! requires the doc's member order, builds the [`Checker`] from the members before `events`,
//! then hands it each element of `events` as it is parsed and drops it. A bundle of any length
//! is so checked in the memory of one event. Must not buffer events, and must not turn a
//! failed check into a parse error: the two end differently (exit 3 and exit 4).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::check::{Checker, Report};
use super::error::CheckError;
use super::types::{BundleEvent, Header, HexHash, Prefix};
use crate::note::VerifierKey;

/// The members of a bundle, in the order they must come.
const MEMBERS: [&str; 8] = [
    "format",
    "origin",
    "from_size",
    "to_size",
    "checkpoints",
    "prefix",
    "consistency_proof",
    "events",
];

/// What a well-formed bundle proved or failed.
pub type Outcome = Result<Report, CheckError>;

/// Checks the bundle `de` yields against `key` (and `pinned`, a signed note's bytes, and the
/// trusted `witnesses`' keys).
///
/// # Errors
/// `Err` only when the input is not a well-formed bundle (the deserializer's error); a bundle
/// that parses but fails a check is `Ok(Err(CheckError))`.
pub fn check_stream<'de, D: Deserializer<'de>>(
    de: D,
    key: &VerifierKey,
    pinned: Option<&[u8]>,
    witnesses: &[VerifierKey],
) -> Result<Outcome, D::Error> {
    let mut failure = None;
    let seed = BundleSeed {
        key,
        pinned,
        witnesses,
        failure: &mut failure,
    };
    match de.deserialize_map(seed) {
        Ok(report) => Ok(Ok(report)),
        // A failed check stops the parse through the error channel; it is the answer.
        Err(e) => match failure {
            Some(check) => Ok(Err(check)),
            None => Err(e),
        },
    }
}

struct BundleSeed<'a> {
    key: &'a VerifierKey,
    pinned: Option<&'a [u8]>,
    witnesses: &'a [VerifierKey],
    failure: &'a mut Option<CheckError>,
}

/// Why parsing stopped early: a check failed (the real answer is in `failure`).
const STOPPED: &str = "the check failed";

impl<'de> DeserializeSeed<'de> for BundleSeed<'_> {
    type Value = Report;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Report, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BundleSeed<'_> {
    type Value = Report;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an audit bundle (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Report, A::Error> {
        let failure = self.failure;
        fn member<'de, A: MapAccess<'de>>(map: &mut A, i: usize) -> Result<(), A::Error> {
            let want = MEMBERS[i];
            match map.next_key::<String>()? {
                Some(k) if k == want => Ok(()),
                Some(k) => Err(de::Error::custom(format!(
                    "member {k:?} where {want:?} must come (the members' order is fixed)"
                ))),
                None => Err(de::Error::custom(format!("member {want:?} is missing"))),
            }
        }
        member(&mut map, 0)?;
        let format: String = map.next_value()?;
        member(&mut map, 1)?;
        let origin: String = map.next_value()?;
        member(&mut map, 2)?;
        let from_size: u64 = map.next_value()?;
        member(&mut map, 3)?;
        let to_size: u64 = map.next_value()?;
        member(&mut map, 4)?;
        let checkpoints: Vec<String> = map.next_value()?;
        member(&mut map, 5)?;
        let prefix: Prefix = map.next_value()?;
        member(&mut map, 6)?;
        let consistency_proof: Vec<HexHash> = map.next_value()?;
        let header = Header {
            format,
            origin,
            from_size,
            to_size,
            checkpoints,
            prefix,
            consistency_proof,
        };
        let mut checker = match Checker::new(&header, self.key, self.pinned, self.witnesses) {
            Ok(c) => c,
            Err(e) => {
                *failure = Some(e);
                return Err(de::Error::custom(STOPPED));
            }
        };
        drop(header);
        member(&mut map, 7)?;
        map.next_value_seed(EventsSeed {
            checker: &mut checker,
            failure: &mut *failure,
        })?;
        if let Some(k) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!("unexpected member {k:?} after \"events\"")));
        }
        checker.finish().map_err(|e| {
            *failure = Some(e);
            de::Error::custom(STOPPED)
        })
    }
}

struct EventsSeed<'a> {
    checker: &'a mut Checker,
    failure: &'a mut Option<CheckError>,
}

impl<'de> DeserializeSeed<'de> for EventsSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EventsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let EventsSeed { checker, failure } = self;
        while let Some(event) = seq.next_element::<BundleEvent>()? {
            if let Err(e) = checker.push(&event) {
                *failure = Some(e);
                return Err(de::Error::custom(STOPPED));
            }
        }
        Ok(())
    }
}
