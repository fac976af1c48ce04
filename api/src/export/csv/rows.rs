//! The CSV files of the paged read models: doses, readings (a row per component), panels (a
//! row per result) and the access log. Must not: hold more than a page of rows.

use super::{Archive, Cell, flag, row, text, value};
use crate::export::records;
use crate::export::sink::Sink;
use crate::export::source::{Pages, Source};

pub(super) async fn doses(src: &Source<'_>, a: &mut Archive, out: &mut Sink) -> anyhow::Result<()> {
    a.start(
        "doses.csv",
        &[
            "id",
            "protocol_id",
            "item_id",
            "outcome",
            "compound",
            "amount",
            "unit",
            "route",
            "site",
            "taken_at",
            "scheduled_for",
            "note",
            "corrections",
            "retracted",
            "recorded_at",
        ],
    )?;
    let mut pages = Pages::default();
    while let Some(request) = pages.next() {
        for view in pages.take(src.doses(&request).await?) {
            let d = records::Dose::from(&view);
            let corrections = d.corrections.to_string();
            row(
                &mut a.rows,
                &[
                    Cell::Value(&d.id),
                    Cell::Value(&d.protocol_id),
                    Cell::Value(&d.item_id),
                    Cell::Value(&d.outcome),
                    text(&d.compound),
                    value(&d.amount),
                    value(&d.unit),
                    value(&d.route),
                    value(&d.site),
                    value(&d.taken_at),
                    value(&d.scheduled_for),
                    text(&d.note),
                    Cell::Value(&corrections),
                    flag(d.retracted),
                    Cell::Value(&d.recorded_at),
                ],
            );
        }
        a.drain(out).await?;
    }
    Ok(())
}

pub(super) async fn health_logs(src: &Source<'_>, a: &mut Archive, out: &mut Sink) -> anyhow::Result<()> {
    a.start(
        "health_logs.csv",
        &[
            "id",
            "vital",
            "loinc",
            "measured_at",
            "note",
            "corrections",
            "retracted",
            "component_loinc",
            "value",
            "unit",
            "canonical_value",
            "canonical_unit",
        ],
    )?;
    let mut pages = Pages::default();
    while let Some(request) = pages.next() {
        for view in pages.take(src.health_logs(&request).await?) {
            let h = records::HealthLog::from(&view);
            let corrections = h.corrections.to_string();
            for c in &h.components {
                row(
                    &mut a.rows,
                    &[
                        Cell::Value(&h.id),
                        Cell::Value(&h.vital),
                        Cell::Value(&h.loinc),
                        Cell::Value(&h.measured_at),
                        text(&h.note),
                        Cell::Value(&corrections),
                        flag(h.retracted),
                        Cell::Value(&c.loinc),
                        Cell::Value(&c.value),
                        Cell::Text(&c.unit),
                        Cell::Value(&c.canonical_value),
                        Cell::Value(&c.canonical_unit),
                    ],
                );
            }
        }
        a.drain(out).await?;
    }
    Ok(())
}

pub(super) async fn bloodwork(src: &Source<'_>, a: &mut Archive, out: &mut Sink) -> anyhow::Result<()> {
    a.start(
        "bloodwork.csv",
        &[
            "panel_id",
            "drawn_at",
            "lab_name",
            "corrections",
            "retracted",
            "marker",
            "name",
            "loinc",
            "value",
            "unit",
            "canonical_value",
            "canonical_unit",
            "si_value",
            "si_unit",
            "flag",
            "flag_basis",
            "lab_range_low",
            "lab_range_high",
            "lab_range_critical_low",
            "lab_range_critical_high",
            "lab_range_text",
        ],
    )?;
    let mut pages = Pages::default();
    while let Some(request) = pages.next() {
        for view in pages.take(src.panels(&request).await?) {
            let p = records::Panel::from(&view);
            let corrections = p.corrections.to_string();
            for r in &p.results {
                let range = r.lab_range.as_ref();
                let none: Option<String> = None;
                let pick = |f: fn(&records::LabRangeOut) -> &Option<String>| range.map_or(&none, f);
                row(
                    &mut a.rows,
                    &[
                        Cell::Value(&p.id),
                        Cell::Value(&p.drawn_at),
                        text(&p.lab_name),
                        Cell::Value(&corrections),
                        flag(p.retracted),
                        Cell::Text(&r.marker),
                        Cell::Text(&r.name),
                        value(&r.loinc),
                        Cell::Value(&r.value),
                        Cell::Text(&r.unit),
                        value(&r.canonical_value),
                        value(&r.canonical_unit),
                        value(&r.si_value),
                        value(&r.si_unit),
                        value(&r.flag),
                        value(&r.flag_basis),
                        value(pick(|l| &l.low)),
                        value(pick(|l| &l.high)),
                        value(pick(|l| &l.critical_low)),
                        value(pick(|l| &l.critical_high)),
                        text(pick(|l| &l.text)),
                    ],
                );
            }
        }
        a.drain(out).await?;
    }
    Ok(())
}

pub(super) async fn access(src: &Source<'_>, a: &mut Archive, out: &mut Sink) -> anyhow::Result<()> {
    a.start(
        "access_log.csv",
        &[
            "position",
            "at",
            "kind",
            "actor_role",
            "actor_handle",
            "query",
            "fields",
            "grant_id",
            "reason",
            "detail",
        ],
    )?;
    let mut pages = Pages::default();
    while let Some(request) = pages.next() {
        for entry in pages.take(src.access(&request).await?) {
            let e = records::Access::from(&entry);
            let position = e.position.to_string();
            // Field names are identifiers; `;` never occurs in one.
            let fields = e.fields.join(";");
            row(
                &mut a.rows,
                &[
                    Cell::Value(&position),
                    Cell::Value(&e.at),
                    Cell::Value(&e.kind),
                    value(&e.actor_role),
                    text(&e.actor_handle),
                    value(&e.query),
                    Cell::Value(&fields),
                    value(&e.grant_id),
                    text(&e.reason),
                    text(&e.detail),
                ],
            );
        }
        a.drain(out).await?;
    }
    Ok(())
}
