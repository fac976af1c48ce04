//! `/.well-known/security.txt` (RFC 9116): where to report a vulnerability. Every field comes
//! from the configuration; `Expires` is computed per request, `--security-txt-days` ahead
//! (under a year, as the RFC recommends), so the file never goes stale on a long-running
//! server. Without a configured contact the file is not served (a file naming nobody would
//! mislead reporters), and the server says so at start.
//! Must not invent a contact or accept one a reporter could not use.

use std::sync::Arc;

use anyhow::{bail, ensure};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The fields of the file, checked.
#[derive(Debug, Clone)]
pub struct SecurityTxt {
    contacts: Vec<String>,
    policy: Option<String>,
    canonical: Option<String>,
    languages: String,
    days: u16,
}

impl SecurityTxt {
    /// Checks the configured fields; `None` when no contact is configured.
    ///
    /// # Errors
    /// A contact that is not a `mailto:`, `https://` or `tel:` URI, a policy or canonical URL
    /// that is not `https://`, a line break in any field, or an expiry of a year or more.
    pub fn from_config(
        contacts: &[String],
        policy: Option<&str>,
        canonical: Option<&str>,
        languages: &str,
        days: u16,
    ) -> anyhow::Result<Option<SecurityTxt>> {
        let contacts: Vec<String> = contacts
            .iter()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        if contacts.is_empty() {
            return Ok(None);
        }
        for contact in &contacts {
            one_line(contact)?;
            ensure!(
                ["mailto:", "https://", "tel:"].iter().any(|s| contact.starts_with(s)),
                "--security-contact {contact:?}: must be a mailto:, https:// or tel: URI (RFC 9116 §2.5.3)"
            );
        }
        for (flag, url) in [("--security-policy", policy), ("--security-canonical", canonical)] {
            if let Some(url) = url {
                one_line(url)?;
                ensure!(url.starts_with("https://"), "{flag} {url:?}: must be an https:// URL");
            }
        }
        one_line(languages)?;
        if !(1..=364).contains(&days) {
            bail!("--security-txt-days {days}: must be 1 to 364 (RFC 9116 recommends under a year)");
        }
        Ok(Some(SecurityTxt {
            contacts,
            policy: policy.map(str::to_owned),
            canonical: canonical.map(str::to_owned),
            languages: languages.trim().to_owned(),
            days,
        }))
    }

    /// The file's text as of `now`.
    pub fn render(&self, now: OffsetDateTime) -> String {
        let expires = (now + Duration::days(i64::from(self.days)))
            .replace_nanosecond(0)
            .unwrap_or(now)
            .format(&Rfc3339)
            .unwrap_or_default();
        let mut text = String::new();
        for contact in &self.contacts {
            text.push_str(&format!("Contact: {contact}\n"));
        }
        text.push_str(&format!("Expires: {expires}\n"));
        if !self.languages.is_empty() {
            text.push_str(&format!("Preferred-Languages: {}\n", self.languages));
        }
        if let Some(canonical) = &self.canonical {
            text.push_str(&format!("Canonical: {canonical}\n"));
        }
        if let Some(policy) = &self.policy {
            text.push_str(&format!("Policy: {policy}\n"));
        }
        text
    }
}

fn one_line(value: &str) -> anyhow::Result<()> {
    ensure!(
        !value.chars().any(char::is_control),
        "security.txt field {value:?} contains a control character"
    );
    Ok(())
}

/// `GET /.well-known/security.txt`.
pub async fn respond(file: Option<Arc<SecurityTxt>>) -> Response {
    match file {
        Some(file) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            file.render(OffsetDateTime::now_utc()),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_fields_are_refused_and_no_contact_means_no_file() {
        let ok = |c: &str| SecurityTxt::from_config(&[c.to_owned()], None, None, "en", 180);
        assert!(ok("mailto:security@vigil.example").is_ok());
        assert!(ok("security@vigil.example").is_err(), "a bare address is not a URI");
        assert!(ok("mailto:a@b\nExpires: never").is_err());
        assert!(SecurityTxt::from_config(&[], None, None, "en", 180).unwrap().is_none());
        let http = SecurityTxt::from_config(&["tel:+3312".into()], Some("http://x"), None, "en", 180);
        assert!(http.is_err(), "a policy over plain http");
        assert!(SecurityTxt::from_config(&["tel:+3312".into()], None, None, "en", 365).is_err());
    }
}
