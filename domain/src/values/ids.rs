//! Typed identifiers. Ids are minted outside the domain and arrive in commands, so the
//! domain stays deterministic; typing them stops a dose id being passed as a protocol id.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an id minted by the caller.
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// The account, and the subject whose key encrypts all of a user's streams.
    UserId
);
id_type!(
    /// One protocol (a named, versioned set of items).
    ProtocolId
);
id_type!(
    /// One item of a protocol; stable across versions so history can follow it.
    ItemId
);
id_type!(
    /// One dose-log entry (taken or skipped).
    DoseId
);
id_type!(
    /// One health-log entry (a vital-sign reading).
    EntryId
);
id_type!(
    /// One bloodwork panel (a single draw).
    PanelId
);
id_type!(
    /// One photo or report record.
    MediaId
);
