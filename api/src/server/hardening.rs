//! The security headers every response carries, and the narrowest Content-Security-Policy
//! that still lets the dev-only GraphiQL page run.
//!
//! The API serves JSON only, so its policy forbids everything (`default-src 'none'`) and any
//! framing. HSTS is two years with subdomains (the whitepaper's figure); the server itself
//! speaks plain HTTP behind a TLS proxy, and browsers honour the header only over HTTPS, so
//! sending it always is harmless and cannot be forgotten at the proxy.
//! Must not decide anything per caller: these are the same for every request.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The API's policy: nothing may load, nothing may frame it.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// Two years, subdomains included.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";
/// Every powerful feature denied to any document this origin serves.
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), ambient-light-sensor=(), autoplay=(), battery=(), \
     bluetooth=(), camera=(), display-capture=(), document-domain=(), encrypted-media=(), \
     fullscreen=(), gamepad=(), geolocation=(), gyroscope=(), hid=(), idle-detection=(), \
     magnetometer=(), microphone=(), midi=(), payment=(), picture-in-picture=(), \
     publickey-credentials-get=(), screen-wake-lock=(), serial=(), sync-xhr=(), usb=(), \
     web-share=(), xr-spatial-tracking=()";

/// The headers every response carries, whatever produced it (the edge middleware sets them;
/// the Content-Security-Policy is [`API_CSP`] unless a handler set its own, as GraphiQL does).
pub const FIXED_HEADERS: [(HeaderName, &str); 8] = [
    (header::STRICT_TRANSPORT_SECURITY, HSTS),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    // Every answer may be personal (health data, tokens): no cache may keep one.
    (header::CACHE_CONTROL, "no-store"),
    (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    (HeaderName::from_static("cross-origin-resource-policy"), "same-origin"),
    (HeaderName::from_static("permissions-policy"), PERMISSIONS_POLICY),
    (header::X_FRAME_OPTIONS, "DENY"),
];

/// Whether a handler marked its answer cacheable by anyone (`public, max-age=…`): only the
/// checkpoint endpoints do, whose answers are hashes and signatures. Every other answer gets
/// `no-store` whatever its handler set.
pub fn public_cache(value: Option<&HeaderValue>) -> bool {
    value
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("public, max-age="))
}

/// CORS: without configured origins, no CORS headers at all (browsers then refuse every
/// cross-origin read); with them, exactly those origins may send GET and POST with
/// `Authorization` and `Content-Type`, and nothing is sent with cookies (the API uses none).
pub fn with_cors(router: Router, origins: &[String]) -> Router {
    if origins.is_empty() {
        return router;
    }
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    router.layer(
        tower_http::cors::CorsLayer::new()
            .allow_origin(allowed)
            .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// The longest `x-request-id` kept from a client.
const MAX_REQUEST_ID: usize = 64;

/// Whether a client's `x-request-id` is a bounded token (letters, digits, `.`, `_`, `-`, at
/// most 64): only such an id is echoed and logged; anything else is replaced by a fresh one.
pub fn acceptable_request_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The policy for GraphiQL's `html`: its scripts and styles from unpkg, its inline scripts
/// by their SHA-256 (not `'unsafe-inline'`), its requests to this origin only.
pub fn graphiql_csp(html: &str) -> String {
    let hashes: Vec<String> = inline_scripts(html)
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
        })
        .collect();
    format!(
        "default-src 'none'; script-src https://unpkg.com {}; style-src https://unpkg.com 'unsafe-inline'; \
         img-src https://graphql.org data:; font-src https://unpkg.com data:; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        hashes.join(" ")
    )
}

/// The bodies of `<script>` elements without a `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, body) = rest.split_once('>')?;
        if attributes.contains("src=") {
            return None;
        }
        body.split_once("</script>").map(|(script, _)| script)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_bounded_tokens() {
        assert!(acceptable_request_id(b"01HZ-abc_1.2"));
        assert!(acceptable_request_id(&[b'a'; 64]));
        assert!(!acceptable_request_id(&[b'a'; 65]));
        assert!(!acceptable_request_id(b""));
        assert!(!acceptable_request_id(b"<script>"));
        assert!(!acceptable_request_id(b"a b"));
    }

    #[test]
    fn only_inline_scripts_are_hashed() {
        let html = "<script src=\"https://unpkg.com/a.js\"></script><script>run()</script>\
                    <script type=\"module\">go()</script>";
        let scripts: Vec<&str> = inline_scripts(html).collect();
        assert_eq!(scripts, vec!["run()", "go()"]);
        let csp = graphiql_csp(html);
        assert_eq!(csp.matches("'sha256-").count(), 2, "{csp}");
        let scripts = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_default();
        assert!(!scripts.contains("unsafe"), "scripts are allowed by hash only: {csp}");
    }
}
