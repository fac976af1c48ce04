//! Injection sites in and out: where an IM or SubQ dose went (area and side), as the domain
//! records them for site rotation. Which routes take a site is the domain's rule
//! (`SiteNotApplicable`, answered as `BAD_USER_INPUT` naming `site`); this module only parses,
//! each failure naming its field as `site.area` or `site.side`.
//! Must not decide whether a site fits a dose.

use async_graphql::{InputObject, SimpleObject};
use vigil_domain::compounds::Route;
use vigil_domain::dose::InjectionSite as Site;

use super::inputs::{name_of, named};
use crate::service::ApiResult;

/// Where an injection went.
#[derive(InputObject)]
pub struct InjectionSiteInput {
    /// `glute`, `ventrogluteal`, `deltoid`, `quad`, `abdomen`, `upper_arm` or `other`.
    pub area: String,
    /// `left` or `right`, when the area has sides.
    pub side: Option<String>,
}

/// Where an injection went.
#[derive(SimpleObject)]
#[graphql(name = "InjectionSite")]
pub struct InjectionSiteOut {
    /// `glute`, `ventrogluteal`, `deltoid`, `quad`, `abdomen`, `upper_arm` or `other`.
    pub area: String,
    /// `left` or `right`, if given.
    pub side: Option<String>,
}

impl From<Site> for InjectionSiteOut {
    fn from(s: Site) -> Self {
        InjectionSiteOut {
            area: name_of(&s.area),
            side: s.side.as_ref().map(name_of),
        }
    }
}

/// The domain's site from the input.
pub fn parse(input: &InjectionSiteInput) -> ApiResult<Site> {
    Ok(Site {
        area: named("site.area", &input.area)?,
        side: input.side.as_deref().map(|s| named("site.side", s)).transpose()?,
    })
}

/// A correction's site: the one given, none when `site: null` was sent, and when `site` was
/// left out the one recorded, as long as the corrected route still takes a site (a site
/// cannot outlive a change to an oral or transdermal route).
pub fn corrected(
    given: async_graphql::MaybeUndefined<InjectionSiteInput>,
    recorded: Option<Site>,
    route: Route,
) -> ApiResult<Option<Site>> {
    use async_graphql::MaybeUndefined as M;
    match given {
        M::Value(input) => parse(&input).map(Some),
        M::Null => Ok(None),
        M::Undefined => Ok(recorded.filter(|_| route.takes_injection_site())),
    }
}
