//! Value objects shared by several aggregates.
//!
//! Owns: exact decimals, identifiers, the public handle, the email secret and the
//! serialisation formats for dates and times. Must not: hold business rules of any single
//! aggregate (those live beside the aggregate).

mod decimal;
mod email;
mod handle;
mod ids;
pub(crate) mod serde_time;

pub use decimal::{Decimal, DecimalError, MAX_SCALE};
pub use email::{EmailAddress, EmailError};
pub use handle::{Handle, HandleError};
pub use ids::{DoseId, EntryId, ItemId, MediaId, PanelId, ProtocolId, UserId};
