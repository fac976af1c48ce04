//! Output types: read-model views as GraphQL objects. Decimals are strings (exact), times
//! RFC 3339, dates ISO. There is no email field anywhere, by design.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{ComplexObject, OutputType, SimpleObject};
use time::Date;
use vigil_domain::bloodwork::{MarkerRef, RecordedResult};
use vigil_domain::dose::DoseOutcome;
use vigil_domain::protocol::{ProtocolItem, ProtocolVersion};
use vigil_projections::read::{AccountView, DoseView, HealthLogView, MarkerPoint, Page, PanelView, ProtocolView};

use super::inputs::{name_of, rfc3339};
use super::serial::{Serial, SerialList};

/// A page as a Relay connection.
pub fn connection<V, T: OutputType>(
    page: Page<V>,
    map: impl Fn(V) -> T,
) -> Connection<String, T, EmptyFields, EmptyFields> {
    let mut c = Connection::new(page.has_previous_page, page.has_next_page);
    c.edges.extend(
        page.items
            .into_iter()
            .map(|(cursor, v)| Edge::new(cursor.encode(), map(v))),
    );
    c
}

/// Connection type alias.
pub type Conn<T> = Connection<String, T, EmptyFields, EmptyFields>;

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Me {
    pub id: String,
    pub handle: String,
    pub role: String,
    pub tier: String,
    pub settings: SettingsOut,
    pub ai_consent: bool,
    pub registered_at: String,
}

#[derive(SimpleObject)]
#[graphql(name = "Settings")]
pub struct SettingsOut {
    pub lab_units: String,
    pub weight_unit: String,
}

impl From<AccountView> for Me {
    fn from(a: AccountView) -> Self {
        Me {
            id: a.user_id.to_string(),
            handle: a.handle,
            role: name_of(&a.role),
            tier: name_of(&a.tier),
            settings: SettingsOut {
                lab_units: name_of(&a.settings.lab_units),
                weight_unit: name_of(&a.settings.weight_unit),
            },
            ai_consent: a.ai_consent,
            registered_at: rfc3339(a.registered_at),
        }
    }
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Protocol {
    pub id: String,
    pub name: String,
    /// Status as of today (UTC).
    pub status: String,
    pub current_version: u32,
    pub created_at: String,
    pub versions: SerialList<Version>,
    #[graphql(skip)]
    pub view: ProtocolView,
}

#[ComplexObject]
impl Protocol {
    /// The version in force on `date` (YYYY-MM-DD), if any.
    async fn in_force_at(&self, date: String) -> super::GqlResult<Option<Version>> {
        use super::IntoGql;
        let date = super::inputs::date("date", &date).gql()?;
        Ok(self.view.state.in_force_at(date).map(Version::from))
    }
}

impl Protocol {
    pub fn new(view: ProtocolView, today: Date) -> Self {
        Protocol {
            id: view.protocol_id.to_string(),
            name: view.name.clone(),
            status: name_of(&view.state.status_at(today)),
            current_version: view.current_version,
            created_at: rfc3339(view.created_at),
            versions: view.state.versions.iter().map(Version::from).collect(),
            view,
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "ProtocolVersion")]
pub struct Version {
    pub version: u32,
    pub name: String,
    pub effective_from: String,
    pub reason: Option<String>,
    pub items: SerialList<Item>,
}

impl From<&ProtocolVersion> for Version {
    fn from(v: &ProtocolVersion) -> Self {
        Version {
            version: v.version,
            name: v.name.clone(),
            effective_from: v.effective_from.to_string(),
            reason: v.reason.clone(),
            items: v.items.iter().map(Item::from).collect(),
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "ProtocolItem")]
pub struct Item {
    pub id: String,
    pub compound: String,
    pub amount: String,
    pub unit: String,
    pub route: String,
    pub schedule: String,
    pub time_of_day: String,
    pub start: String,
    pub end: Option<String>,
}

pub fn compound_name(c: &vigil_domain::compounds::Compound) -> String {
    match c {
        vigil_domain::compounds::Compound::Catalog(key) => name_of(key),
        vigil_domain::compounds::Compound::Custom { name, .. } => name.clone(),
    }
}

impl From<&ProtocolItem> for Item {
    fn from(i: &ProtocolItem) -> Self {
        Item {
            id: i.item_id.as_uuid().to_string(),
            compound: compound_name(&i.compound),
            amount: i.dose.amount.to_string(),
            unit: i.dose.unit.symbol().to_owned(),
            route: name_of(&i.route),
            schedule: i.schedule.raw.clone(),
            time_of_day: format!("{:02}:{:02}", i.time_of_day.hour(), i.time_of_day.minute()),
            start: i.start.to_string(),
            end: i.end.map(|d| d.to_string()),
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Dose")]
pub struct DoseOut {
    pub id: String,
    pub protocol_id: String,
    pub item_id: String,
    /// `taken` or `skipped`.
    pub outcome: String,
    pub compound: Option<String>,
    pub amount: Option<String>,
    pub unit: Option<String>,
    pub route: Option<String>,
    /// Where an IM or SubQ dose went, if recorded.
    pub site: Option<super::site::InjectionSiteOut>,
    pub taken_at: Option<String>,
    pub scheduled_for: Option<String>,
    pub note: Option<String>,
    pub corrections: u32,
    pub retracted: bool,
}

impl From<DoseView> for DoseOut {
    fn from(d: DoseView) -> Self {
        let (amount, unit, route, site, taken_at) = match &d.entry.outcome {
            DoseOutcome::Taken {
                dose,
                route,
                site,
                taken_at,
                ..
            } => (
                Some(dose.amount.to_string()),
                Some(dose.unit.symbol().to_owned()),
                Some(name_of(route)),
                site.map(Into::into),
                Some(rfc3339(*taken_at)),
            ),
            DoseOutcome::Skipped => (None, None, None, None, None),
        };
        DoseOut {
            id: d.dose_id.to_string(),
            protocol_id: d.entry.protocol_id.as_uuid().to_string(),
            item_id: d.entry.item_id.as_uuid().to_string(),
            outcome: if taken_at.is_some() { "taken" } else { "skipped" }.into(),
            compound: d.entry.compound.as_ref().map(compound_name),
            amount,
            unit,
            route,
            site,
            taken_at,
            scheduled_for: d.entry.scheduled_for.map(rfc3339),
            note: d.note,
            corrections: d.entry.corrections,
            retracted: d.entry.retracted,
        }
    }
}

#[derive(SimpleObject)]
pub struct HealthLog {
    pub id: String,
    pub vital: String,
    pub loinc: String,
    pub components: SerialList<Component>,
    pub measured_at: String,
    pub note: Option<String>,
    pub corrections: u32,
    pub retracted: bool,
}

#[derive(SimpleObject)]
pub struct Component {
    pub loinc: String,
    pub value: String,
    pub unit: String,
    pub canonical_value: String,
    pub canonical_unit: String,
}

impl From<HealthLogView> for HealthLog {
    fn from(h: HealthLogView) -> Self {
        HealthLog {
            id: h.entry_id.to_string(),
            vital: name_of(&h.kind),
            loinc: h.loinc,
            components: h
                .components
                .into_iter()
                .map(|c| Component {
                    loinc: c.loinc,
                    value: c.value.to_string(),
                    unit: c.unit,
                    canonical_value: c.canonical_value.to_string(),
                    canonical_unit: c.canonical_unit,
                })
                .collect(),
            measured_at: rfc3339(h.measured_at),
            note: h.note,
            corrections: h.corrections,
            retracted: h.retracted,
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "BloodworkPanel")]
pub struct Panel {
    pub id: String,
    pub drawn_at: String,
    pub lab_name: Option<String>,
    pub results: SerialList<LabResult>,
    pub corrections: u32,
    pub retracted: bool,
}

#[derive(SimpleObject)]
pub struct LabResult {
    /// Catalog marker name (`total_testosterone`) or `custom:<name>`.
    pub marker: String,
    pub name: String,
    pub loinc: Option<String>,
    pub value: String,
    pub unit: String,
    pub canonical_value: Option<String>,
    pub canonical_unit: Option<String>,
    pub si_value: Option<String>,
    pub si_unit: Option<String>,
    /// `H`, `L`, `HH`, `LL`, `N`, or null when no range applies.
    pub flag: Option<String>,
}

impl From<&RecordedResult> for LabResult {
    fn from(r: &RecordedResult) -> Self {
        LabResult {
            marker: match &r.marker {
                MarkerRef::Catalog { marker } => name_of(marker),
                MarkerRef::Custom { name } => format!("custom:{}", name.to_lowercase()),
            },
            name: r.name.clone(),
            loinc: r.loinc.clone(),
            value: r.value.to_string(),
            unit: r.unit.clone(),
            canonical_value: r.canonical.as_ref().map(|q| q.value.to_string()),
            canonical_unit: r.canonical.as_ref().map(|q| q.unit.clone()),
            si_value: r.si.as_ref().map(|q| q.value.to_string()),
            si_unit: r.si.as_ref().map(|q| q.unit.clone()),
            flag: r.flag.as_ref().map(name_of),
        }
    }
}

impl From<PanelView> for Panel {
    fn from(p: PanelView) -> Self {
        Panel {
            id: p.panel_id.to_string(),
            drawn_at: rfc3339(p.drawn_at),
            lab_name: p.lab_name,
            results: p.results.iter().map(LabResult::from).collect(),
            corrections: p.corrections,
            retracted: p.retracted,
        }
    }
}

#[derive(SimpleObject)]
pub struct MarkerPointOut {
    pub panel_id: String,
    pub drawn_at: String,
    pub value: String,
    pub unit: String,
    pub canonical_value: Option<String>,
    pub canonical_unit: Option<String>,
    pub si_value: Option<String>,
    pub si_unit: Option<String>,
    pub flag: Option<String>,
}

impl From<MarkerPoint> for MarkerPointOut {
    fn from(p: MarkerPoint) -> Self {
        MarkerPointOut {
            panel_id: p.panel_id.to_string(),
            drawn_at: rfc3339(p.drawn_at),
            value: p.value,
            unit: p.unit,
            canonical_value: p.canonical.as_ref().map(|c| c.0.clone()),
            canonical_unit: p.canonical.map(|c| c.1),
            si_value: p.si.as_ref().map(|c| c.0.clone()),
            si_unit: p.si.map(|c| c.1),
            flag: p.flag,
        }
    }
}

#[derive(SimpleObject)]
pub struct DueDose {
    pub protocol_id: String,
    pub protocol_name: String,
    pub item_id: String,
    pub compound: String,
    pub due_at: String,
}

#[derive(SimpleObject)]
pub struct Dashboard {
    pub active_protocols: SerialList<Protocol>,
    pub latest_vitals: SerialList<HealthLog>,
    pub latest_panel: Option<Serial<Panel>>,
    pub next_due: SerialList<DueDose>,
}

#[derive(SimpleObject)]
pub struct LevelPointOut {
    pub at: String,
    pub value: f64,
}

#[derive(SimpleObject)]
pub struct LevelSeriesOut {
    pub substance: String,
    pub points: Vec<LevelPointOut>,
    /// Doses that could not be modelled (custom compounds without parameters).
    pub unmodelled_doses: u32,
}

#[derive(SimpleObject)]
pub struct ItemAdherence {
    pub item_id: String,
    pub compound: String,
    pub due: u32,
    pub on_time: u32,
    pub late: u32,
    pub skipped: u32,
    pub missed: u32,
    pub on_time_percent: Option<String>,
}
