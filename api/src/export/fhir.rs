//! The FHIR export: an R4 `Bundle` of type `collection` (`docs/export.md` maps each record to
//! its resource and cites the specification). A pseudonymous `Patient` (an id derived from the
//! account, no name, no email, no identifier); `MedicationStatement`s for the items of every
//! protocol version; `MedicationAdministration`s for taken doses; vital-sign `Observation`s
//! (LOINC codes and UCUM units from the domain's catalog, blood pressure as one observation
//! with systolic 8480-6 and diastolic 8462-4 components); laboratory `Observation`s with their
//! reference range and H/L/HH/LL/N interpretation, and a `DiagnosticReport` per panel.
//! Must not: name the person, or hold a resource longer than its page.

mod resources;

use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::records::rfc3339;
use super::sink::Sink;
use super::source::{Pages, Source};

/// The Patient's id: stable for one account (two exports of one person merge), and not the
/// account id, which would tie the bundle back to the account wherever it travels.
pub fn pseudonym(user: Uuid) -> Uuid {
    derived_id(&["patient", &user.to_string()])
}

/// A uuid (version 8) derived from `parts`, for resources with no id of their own (a lab
/// result, one item of one protocol version): the same record gets the same id every time.
pub fn derived_id(parts: &[&str]) -> Uuid {
    let mut hasher = blake3::Hasher::new_derive_key("vigil fhir resource id v1");
    for part in parts {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    Uuid::new_v8(bytes)
}

/// The bundle's entries, commas between them.
struct Entries {
    empty: bool,
}

impl Entries {
    fn push(&mut self, out: &mut Sink, id: Uuid, resource: &Value) -> anyhow::Result<()> {
        if !self.empty {
            out.put(b",");
        }
        self.empty = false;
        serde_json::to_writer(
            out.buf(),
            &json!({ "fullUrl": format!("urn:uuid:{id}"), "resource": resource }),
        )?;
        Ok(())
    }
}

/// Writes the whole bundle.
///
/// # Errors
/// Read errors, and [`super::sink::Gone`] when the client left.
pub async fn write(src: &Source<'_>, out: &mut Sink, now: OffsetDateTime) -> anyhow::Result<()> {
    let patient = pseudonym(src.user());
    let subject = json!({ "reference": format!("urn:uuid:{patient}") });
    let head = json!({
        "resourceType": "Bundle",
        "id": Uuid::new_v4().to_string(),
        "meta": { "lastUpdated": rfc3339(now) },
        "type": "collection",
        "timestamp": rfc3339(now),
    })
    .to_string();
    // The head's closing brace gives way to the entries.
    out.put(&head.as_bytes()[..head.len() - 1]);
    out.put(b",\"entry\":[");
    let mut entries = Entries { empty: true };
    entries.push(
        out,
        patient,
        &json!({ "resourceType": "Patient", "id": patient.to_string(), "active": true }),
    )?;

    let mut pages = Pages::default();
    while let Some(request) = pages.next() {
        for view in pages.take(src.protocols(&request).await?) {
            for (id, resource) in resources::medication_statements(&view, &subject, now.date()) {
                entries.push(out, id, &resource)?;
            }
        }
        out.flush_if_full().await?;
    }
    let mut pages = Pages::default();
    while let Some(request) = pages.next() {
        for view in pages.take(src.doses(&request).await?) {
            if let Some(resource) = resources::medication_administration(&view, &subject) {
                entries.push(out, view.dose_id, &resource)?;
            }
        }
        out.flush_if_full().await?;
    }
    let mut pages = Pages::default();
    while let Some(request) = pages.next() {
        for view in pages.take(src.health_logs(&request).await?) {
            entries.push(out, view.entry_id, &resources::vital(&view, &subject))?;
        }
        out.flush_if_full().await?;
    }
    let mut pages = Pages::default();
    while let Some(request) = pages.next() {
        for view in pages.take(src.panels(&request).await?) {
            let (results, report) = resources::panel(&view, &subject);
            for (id, resource) in &results {
                entries.push(out, *id, resource)?;
            }
            entries.push(out, view.panel_id, &report)?;
        }
        out.flush_if_full().await?;
    }
    out.put(b"]}");
    out.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_distinct_and_not_the_account_id() {
        let user = Uuid::from_u128(7);
        assert_eq!(pseudonym(user), pseudonym(user));
        assert_ne!(pseudonym(user), user);
        assert_ne!(pseudonym(user), pseudonym(Uuid::from_u128(8)));
        // Length-prefixed parts: ("ab", "c") and ("a", "bc") are different records.
        assert_ne!(derived_id(&["ab", "c"]), derived_id(&["a", "bc"]));
        assert_eq!(pseudonym(user).get_version_num(), 8);
    }
}
