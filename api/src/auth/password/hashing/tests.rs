//! Hashing tests. Only two of them pay for the real 19 MiB parameters; the others use tiny
//! ones, which exercise the same code.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;

fn tiny() -> Params {
    Params::new(8, 1, 1, None).unwrap()
}

fn secret(text: &str) -> Zeroizing<String> {
    Zeroizing::new(text.to_owned())
}

#[test]
fn the_default_parameters_are_the_owasp_minimum_for_argon2id() {
    assert_eq!(
        (
            Params::DEFAULT.m_cost(),
            Params::DEFAULT.t_cost(),
            Params::DEFAULT.p_cost()
        ),
        (19 * 1024, 2, 1)
    );
}

#[tokio::test]
async fn a_password_hashed_with_owasp_parameters_verifies_and_needs_no_rehash() {
    let hasher = PasswordHasher::new();
    let stored = hasher.hash(secret("violet-kettle-harbour")).await.unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    let verification = hasher
        .verify(secret("violet-kettle-harbour"), Some(stored))
        .await
        .unwrap();
    assert_eq!(
        verification,
        Verification {
            matched: true,
            needs_rehash: false
        }
    );
}

#[tokio::test]
async fn a_wrong_password_does_not_match() {
    let hasher = PasswordHasher::with_params(tiny(), 1);
    let stored = hasher.hash(secret("violet-kettle-harbour")).await.unwrap();
    for wrong in ["violet-kettle-harbouR", "violet-kettle-harbour ", ""] {
        let verification = hasher.verify(secret(wrong), Some(stored.clone())).await.unwrap();
        assert_eq!(verification, Verification::FAILED, "{wrong:?}");
    }
}

#[tokio::test]
async fn two_hashes_of_one_password_differ_by_their_16_byte_salt() {
    let hasher = PasswordHasher::with_params(tiny(), 1);
    let a = hasher.hash(secret("violet-kettle-harbour")).await.unwrap();
    let b = hasher.hash(secret("violet-kettle-harbour")).await.unwrap();
    assert_ne!(a, b);
    let salt = PasswordHash::new(&a).unwrap().salt.unwrap();
    assert_eq!(salt.len(), 16);
}

#[tokio::test]
async fn a_hash_made_with_lower_parameters_matches_and_needs_a_rehash() {
    let old = Argon2id::new(Params::new(4096, 1, 1, None).unwrap());
    let stored = old.hash(b"violet-kettle-harbour").unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=4096,t=1,p=1$"), "{stored}");
    let current = PasswordHasher::new();
    let verification = current
        .verify(secret("violet-kettle-harbour"), Some(stored.clone()))
        .await
        .unwrap();
    assert_eq!(
        verification,
        Verification {
            matched: true,
            needs_rehash: true
        }
    );
    // A wrong password never asks for a rehash: there is nothing to rehash with.
    let wrong = current
        .verify(secret("violet-kettle-harbor"), Some(stored))
        .await
        .unwrap();
    assert_eq!(wrong, Verification::FAILED);
}

#[test]
fn another_argon2_variant_or_output_length_needs_a_rehash() {
    let current = Argon2id::new(tiny());
    let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, tiny())
        .hash_password_with_salt(b"violet-kettle-harbour", &[7; 16])
        .unwrap()
        .to_string();
    let long_output = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(8, 1, 1, Some(64)).unwrap(),
    )
    .hash_password_with_salt(b"violet-kettle-harbour", &[7; 16])
    .unwrap()
    .to_string();
    let short_salt = Argon2::new(Algorithm::Argon2id, Version::V0x13, tiny())
        .hash_password_with_salt(b"violet-kettle-harbour", &[7; 8])
        .unwrap()
        .to_string();
    for stored in [argon2i, long_output, short_salt] {
        let verification = current.verify(b"violet-kettle-harbour", &stored).unwrap();
        assert!(verification.matched && verification.needs_rehash, "{stored}");
    }
    let same = current.hash(b"violet-kettle-harbour").unwrap();
    assert!(!current.verify(b"violet-kettle-harbour", &same).unwrap().needs_rehash);
}

#[test]
fn a_stored_hash_that_is_malformed_or_too_costly_is_an_error_not_a_mismatch() {
    let argon = Argon2id::new(tiny());
    for stored in [
        "",
        "violet-kettle-harbour",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "$argon2id$v=19$m=8,t=1,p=1$",
        "$argon2id$v=19$m=8,t=1,p=1,x=3$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        "$scrypt$ln=16,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
        // Well-formed but asking for just over the ceilings (256 MiB, 16 passes, 16 lanes):
        // refused before any work.
        "$argon2id$v=19$m=262145,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhcw",
        "$argon2id$v=19$m=8,t=17,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhcw",
        "$argon2id$v=19$m=136,t=1,p=17$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhcw",
    ] {
        assert_eq!(
            argon.verify(b"violet-kettle-harbour", stored),
            Err(AuthError::StoredHashMalformed),
            "{stored}"
        );
    }
}

#[tokio::test]
async fn verifying_for_a_missing_account_does_the_same_work_and_never_matches() {
    let hasher = PasswordHasher::with_params(tiny(), 1);
    assert!(hasher.argon.dummy_hash.get().is_none());
    let verification = hasher.verify(secret("violet-kettle-harbour"), None).await.unwrap();
    assert_eq!(verification, Verification::FAILED);

    // The dummy hash is made once, with the parameters of real hashes.
    let dummy = hasher.argon.dummy_hash.get().unwrap().clone();
    let real = hasher.hash(secret("violet-kettle-harbour")).await.unwrap();
    let params_of = |phc: &str| PasswordHash::new(phc).unwrap().params.to_string();
    assert_eq!(params_of(&dummy), params_of(&real));
    hasher.verify(secret("another-password"), None).await.unwrap();
    assert_eq!(hasher.argon.dummy_hash.get(), Some(&dummy));
}

#[tokio::test]
async fn a_password_longer_than_any_the_policy_allows_does_not_match() {
    let hasher = PasswordHasher::with_params(tiny(), 1);
    let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
    // Even against a hash of that very text: nobody could have set it.
    let stored = hasher.argon.hash(long.as_bytes()).unwrap();
    let verification = hasher.verify(secret(&long), Some(stored)).await.unwrap();
    assert_eq!(verification, Verification::FAILED);
    let unknown = hasher.verify(secret(&"y".repeat(1 << 20)), None).await.unwrap();
    assert_eq!(unknown, Verification::FAILED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_more_hashes_run_at_once_than_there_are_permits() {
    let hasher = PasswordHasher::with_params(tiny(), 2);
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (hasher, running, peak) = (hasher.clone(), running.clone(), peak.clone());
        tasks.push(tokio::spawn(async move {
            hasher
                .run(move |_| {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(2));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(peak.load(Ordering::SeqCst), 2);
    assert_eq!(hasher.permits.available_permits(), 2);
}

#[test]
fn the_default_hasher_allows_one_hash_per_cpu() {
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(PasswordHasher::new().permits.available_permits(), cpus);
}

#[tokio::test]
async fn warming_makes_the_dummy_hash_before_the_first_login_for_an_unknown_account() {
    let hasher = PasswordHasher::with_params(tiny(), 1);
    assert!(hasher.argon.dummy_hash.get().is_none());
    hasher.warm().await.unwrap();
    let warmed = hasher.argon.dummy_hash.get().cloned().unwrap();
    // Same parameters as a real hash, so verifying against it costs the same.
    let real = hasher.hash(secret("violet-kettle-harbour")).await.unwrap();
    let params_of = |phc: &str| Params::try_from(&PasswordHash::new(phc).unwrap()).unwrap();
    let (dummy, real) = (params_of(&warmed), params_of(&real));
    assert_eq!(
        (dummy.m_cost(), dummy.t_cost(), dummy.p_cost()),
        (real.m_cost(), real.t_cost(), real.p_cost())
    );
    // An unknown account's login uses that hash rather than making one.
    let verification = hasher.verify(secret("violet-kettle-harbour"), None).await.unwrap();
    assert!(!verification.matched);
    assert_eq!(hasher.argon.dummy_hash.get(), Some(&warmed));
}
