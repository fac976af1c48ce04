//! Access-token tests: every forgery a JWT library has been caught by, at fixed times.

use time::macros::datetime;
use zeroize::Zeroizing;

use super::*;

const NOW: OffsetDateTime = datetime!(2026-11-21 12:00:00 UTC);

fn key(byte: u8) -> TokenKey {
    TokenKey::new(Zeroizing::new([byte; 32]))
}

fn ids() -> (Uuid, Uuid) {
    (
        Uuid::parse_str("0194a6c2-7a3e-7c1d-8e2f-3a4b5c6d7e8f").unwrap(),
        Uuid::parse_str("0194a6c2-7a3e-7c1d-8e2f-000000000001").unwrap(),
    )
}

fn issue(key: &TokenKey) -> String {
    let (subject, session) = ids();
    key.issue_access_token(subject, session, NOW)
        .unwrap()
        .expose_secret()
        .to_owned()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with any header and payload, correctly MACed with `key`: what an attacker who
/// knows the key (or a library bug) could produce.
fn sign_raw(key: &TokenKey, header: &str, payload: &str) -> String {
    let signed = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let signature = key.mac(signed.as_bytes()).unwrap().finalize().into_bytes();
    format!("{signed}.{}", b64(&signature))
}

fn payload_json(iss: &str, aud: &str, iat: i64, exp: i64) -> String {
    let (sub, sid) = ids();
    format!(r#"{{"iss":"{iss}","aud":"{aud}","sub":"{sub}","sid":"{sid}","iat":{iat},"exp":{exp},"jti":"{sub}"}}"#)
}

fn good_payload() -> String {
    let iat = NOW.unix_timestamp();
    payload_json("vigil", "vigil-api", iat, iat + 900)
}

fn segments(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

#[test]
fn an_issued_token_verifies_and_carries_only_ids_and_times() {
    let key = key(1);
    let (subject, session) = ids();
    let issued = key.issue_access_token(subject, session, NOW).unwrap();
    let claims = key.verify_access_token(issued.expose_secret(), NOW).unwrap();
    assert_eq!(claims, issued.claims);
    assert_eq!(claims.subject, subject);
    assert_eq!(claims.session, session);
    assert_eq!(claims.issued_at, NOW);
    assert_eq!(claims.expires_at, NOW + Duration::minutes(15));

    let payload = URL_SAFE_NO_PAD.decode(&segments(issued.expose_secret())[1]).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let mut fields: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    assert_eq!(fields, ["aud", "exp", "iat", "iss", "jti", "sid", "sub"]);
    assert_eq!(json["iss"], "vigil");
    assert_eq!(json["aud"], "vigil-api");
}

#[test]
fn each_issued_token_has_its_own_id() {
    let key = key(1);
    let (subject, session) = ids();
    let a = key.issue_access_token(subject, session, NOW).unwrap();
    let b = key.issue_access_token(subject, session, NOW).unwrap();
    assert_ne!(a.claims.token_id, b.claims.token_id);
}

#[test]
fn a_token_is_valid_until_just_before_exp() {
    let key = key(1);
    let token = issue(&key);
    let last_second = NOW + Duration::minutes(15) - Duration::seconds(1);
    assert!(key.verify_access_token(&token, last_second).is_ok());
    assert_eq!(
        key.verify_access_token(&token, NOW + Duration::minutes(15)),
        Err(AuthError::TokenExpired)
    );
    assert_eq!(
        key.verify_access_token(&token, NOW + Duration::days(3)),
        Err(AuthError::TokenExpired)
    );
}

#[test]
fn a_token_issued_more_than_a_minute_in_the_future_is_rejected() {
    let key = key(1);
    let token = issue(&key);
    assert!(key.verify_access_token(&token, NOW - Duration::seconds(60)).is_ok());
    assert_eq!(
        key.verify_access_token(&token, NOW - Duration::seconds(61)),
        Err(AuthError::TokenIssuedInFuture)
    );
}

#[test]
fn a_token_with_a_tampered_payload_is_rejected() {
    let key = key(1);
    let parts = segments(&issue(&key));
    let other_subject = good_payload().replace(
        "0194a6c2-7a3e-7c1d-8e2f-3a4b5c6d7e8f",
        "00000000-0000-4000-8000-000000000000",
    );
    let forged = format!("{}.{}.{}", parts[0], b64(other_subject.as_bytes()), parts[2]);
    assert_eq!(
        key.verify_access_token(&forged, NOW),
        Err(AuthError::TokenSignatureInvalid)
    );
}

#[test]
fn a_token_with_a_tampered_signature_is_rejected() {
    let key = key(1);
    let token = issue(&key);
    let parts = segments(&token);
    let mut signature = parts[2].clone().into_bytes();
    signature[5] = if signature[5] == b'A' { b'B' } else { b'A' };
    let forged = format!("{}.{}.{}", parts[0], parts[1], String::from_utf8(signature).unwrap());
    assert_eq!(
        key.verify_access_token(&forged, NOW),
        Err(AuthError::TokenSignatureInvalid)
    );
    let truncated = format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]);
    assert_eq!(
        key.verify_access_token(&truncated, NOW),
        Err(AuthError::TokenSignatureInvalid)
    );
}

#[test]
fn a_token_signed_with_another_key_is_rejected() {
    assert_eq!(
        key(1).verify_access_token(&issue(&key(2)), NOW),
        Err(AuthError::TokenSignatureInvalid)
    );
}

#[test]
fn a_token_signed_with_alg_none_is_rejected() {
    let key = key(1);
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(good_payload().as_bytes())
    );
    assert_eq!(
        key.verify_access_token(&unsigned, NOW),
        Err(AuthError::TokenHeaderRejected)
    );
    // Also with a valid HS256 MAC attached: the header alone decides.
    let signed = sign_raw(&key, r#"{"alg":"none"}"#, &good_payload());
    assert_eq!(
        key.verify_access_token(&signed, NOW),
        Err(AuthError::TokenHeaderRejected)
    );
}

#[test]
fn a_token_claiming_another_algorithm_is_rejected_even_with_a_valid_mac() {
    let key = key(1);
    for header in [
        r#"{"alg":"HS512","typ":"JWT"}"#,
        r#"{"alg":"RS256","typ":"JWT"}"#,
        r#"{"alg":"hs256"}"#,
        r#"{"alg":"HS256 "}"#,
        r#"{"alg":null}"#,
        r#"{"alg":256}"#,
        r#"{"typ":"JWT"}"#,
        r#"{}"#,
    ] {
        let token = sign_raw(&key, header, &good_payload());
        assert_eq!(
            key.verify_access_token(&token, NOW),
            Err(AuthError::TokenHeaderRejected),
            "{header}"
        );
    }
}

#[test]
fn a_header_with_crit_or_any_other_extra_field_is_rejected() {
    let key = key(1);
    for header in [
        r#"{"alg":"HS256","crit":["exp"],"exp":1}"#,
        r#"{"alg":"HS256","kid":"../../dev/null"}"#,
        r#"{"alg":"HS256","jku":"https://attacker.example/keys"}"#,
        r#"{"alg":"HS256","typ":"JWS"}"#,
        r#"{"alg":"HS256","alg":"HS256"}"#,
    ] {
        let token = sign_raw(&key, header, &good_payload());
        assert_eq!(
            key.verify_access_token(&token, NOW),
            Err(AuthError::TokenHeaderRejected),
            "{header}"
        );
    }
}

#[test]
fn a_header_with_only_the_algorithm_is_accepted() {
    let key = key(1);
    let token = sign_raw(&key, r#"{"alg":"HS256"}"#, &good_payload());
    assert!(key.verify_access_token(&token, NOW).is_ok());
}

#[test]
fn a_token_for_another_issuer_or_audience_is_rejected() {
    let key = key(1);
    let iat = NOW.unix_timestamp();
    let cases = [
        (payload_json("vigil-staging", "vigil-api", iat, iat + 900), "iss"),
        (payload_json("Vigil", "vigil-api", iat, iat + 900), "iss"),
        (payload_json("vigil", "vigil-admin", iat, iat + 900), "aud"),
        (payload_json("vigil", "", iat, iat + 900), "aud"),
    ];
    for (payload, claim) in cases {
        let token = sign_raw(&key, HEADER_JSON, &payload);
        assert_eq!(
            key.verify_access_token(&token, NOW),
            Err(AuthError::TokenClaimMismatch { claim }),
            "{payload}"
        );
    }
}

#[test]
fn validly_signed_claims_of_the_wrong_shape_are_malformed() {
    let key = key(1);
    let (sub, sid) = ids();
    for payload in [
        "null".to_owned(),
        "[]".to_owned(),
        good_payload().replace(r#""aud":"vigil-api""#, r#""aud":["vigil-api"]"#),
        good_payload().replace(&format!(r#""sub":"{sub}""#), r#""sub":"ann@example.org""#),
        good_payload().replace(&format!(r#","sid":"{sid}""#), ""),
    ] {
        let token = sign_raw(&key, HEADER_JSON, &payload);
        assert_eq!(
            key.verify_access_token(&token, NOW),
            Err(AuthError::TokenMalformed),
            "{payload}"
        );
    }
}

#[test]
fn a_token_without_exactly_three_segments_is_malformed() {
    let key = key(1);
    let parts = segments(&issue(&key));
    for token in [
        format!("{}.{}", parts[0], parts[1]),
        format!("{}.{}.{}.{}", parts[0], parts[1], parts[2], parts[2]),
        format!("{}.{}.{}.", parts[0], parts[1], parts[2]),
        String::new(),
        "..".to_owned(),
    ] {
        assert_eq!(
            key.verify_access_token(&token, NOW),
            Err(AuthError::TokenMalformed),
            "{token}"
        );
    }
}

#[test]
fn padding_and_characters_outside_base64url_are_malformed() {
    let key = key(1);
    let token = issue(&key);
    let parts = segments(&token);
    for forged in [
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}=", parts[0], parts[1], parts[2]),
        format!("{token} "),
        format!("Bearer {token}"),
        token.replacen('-', "+", 1).replacen('_', "/", 1),
    ] {
        if forged != token {
            assert_eq!(
                key.verify_access_token(&forged, NOW),
                Err(AuthError::TokenMalformed),
                "{forged}"
            );
        }
    }
}

#[test]
fn an_oversized_token_is_rejected_before_any_work() {
    let key = key(1);
    let header = format!(r#"{{"alg":"HS256","pad":"{}"}}"#, "x".repeat(4096));
    let token = sign_raw(&key, &header, &good_payload());
    assert!(token.len() > 4096);
    assert_eq!(key.verify_access_token(&token, NOW), Err(AuthError::TokenMalformed));
    assert_eq!(
        key.verify_access_token(&"A".repeat(1 << 20), NOW),
        Err(AuthError::TokenMalformed)
    );
}

#[test]
fn a_header_that_is_not_a_json_object_is_malformed() {
    let key = key(1);
    for header in ["", "HS256", r#"["alg","HS256"]"#, r#"{"alg":"HS256""#] {
        let token = sign_raw(&key, header, &good_payload());
        assert_eq!(
            key.verify_access_token(&token, NOW),
            Err(AuthError::TokenMalformed),
            "{header:?}"
        );
    }
}

#[test]
fn the_debug_output_of_an_issued_token_hides_the_token() {
    let (subject, session) = ids();
    let issued = key(1).issue_access_token(subject, session, NOW).unwrap();
    let printed = format!("{issued:?}");
    assert!(!printed.contains(issued.expose_secret()), "{printed}");
    assert!(printed.contains("<redacted>"), "{printed}");
}
