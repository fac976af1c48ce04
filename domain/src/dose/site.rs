//! Injection sites, for rotation read models.

use serde::{Deserialize, Serialize};

/// Body area of an injection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteArea {
    /// Gluteus (dorsogluteal).
    Glute,
    /// Ventrogluteal.
    Ventrogluteal,
    /// Deltoid.
    Deltoid,
    /// Vastus lateralis / quadriceps.
    Quad,
    /// Abdomen (SubQ).
    Abdomen,
    /// Back of the upper arm (SubQ).
    UpperArm,
    /// Anywhere else.
    Other,
}

/// Left or right.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodySide {
    /// Left.
    Left,
    /// Right.
    Right,
}

/// Where an injection went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InjectionSite {
    /// Area.
    pub area: SiteArea,
    /// Side, when the area has one.
    pub side: Option<BodySide>,
}
