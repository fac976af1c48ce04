//! The crash cases of an email move (see `privacy::rectify`), step by step on a real SQLite
//! store, read database and runner: the steps (reserve, append, settle) are run one at a time,
//! and the process "dies" between them. Times are passed in, so a reservation goes stale
//! without waiting.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use vigil_domain::account::{Account, AccountCommand, Role};
use vigil_domain::values::EmailAddress;
use vigil_eventstore::Metadata;
use vigil_projections::streams;
use zeroize::Zeroizing;

use super::ClaimKind;
use crate::access::SignIn;
use crate::service::tests::service;
use crate::service::{ApiError, Committed, Service};

const OLD: &str = "old@example.org";
const NEW: &str = "new@example.org";

fn password() -> Zeroizing<String> {
    Zeroizing::new("violet-lantern-orbit-42".into())
}

fn index(svc: &Service, email: &str) -> String {
    svc.index().email(&EmailAddress::parse(email).expect("email"))
}

/// Whom `email` signs in as, if anyone.
async fn signs_in_as(svc: &Service, email: &str) -> Option<Uuid> {
    match svc.login(email, password()).await {
        Ok(SignIn::Tokens(tokens)) => Some(tokens.user),
        Ok(_) => panic!("no second factor in these tests"),
        Err(ApiError::Unauthenticated(_)) => None,
        Err(e) => panic!("{e}"),
    }
}

async fn person(svc: &Service, email: &str, now: OffsetDateTime) -> Uuid {
    let (user, _) = svc
        .create_account(email, password(), None, Role::User, now)
        .await
        .expect("registered");
    user
}

/// Step 2 alone: the event, appended as `privacy::rectify` appends it, and no settle by the
/// api.
async fn append_move(svc: &Service, user: Uuid, email: &str, now: OffsetDateTime) -> Committed {
    let stream = streams::account(user);
    svc.commit::<Account>(&stream, user, Metadata::actor(format!("user:{user}")), |_| {
        Ok(AccountCommand::ChangeEmail {
            email: email.to_owned(),
            changed_at: now,
        })
    })
    .await
    .expect("appended")
}

#[tokio::test]
async fn a_crash_after_the_reservation_loses_no_account_and_keeps_no_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_store, svc) = service(dir.path()).await;
    let now = OffsetDateTime::now_utc();
    let user = person(&svc, OLD, now).await;

    // Step 1 of a move to NEW, then the process dies.
    svc.claim(ClaimKind::Email, &index(&svc, NEW), user, now, "taken")
        .await
        .expect("reserved");
    assert_eq!(signs_in_as(&svc, OLD).await, Some(user), "the account is not lost");
    assert_eq!(signs_in_as(&svc, NEW).await, None, "a reservation signs nobody in");

    // Within the stale period the address stays reserved; past it, the next person takes it
    // over, because the account's stream does not give it to the account.
    let soon = svc
        .create_account(NEW, password(), None, Role::User, now + Duration::minutes(5))
        .await;
    assert!(matches!(soon, Err(ApiError::Conflict(_))), "{:?}", soon.err());
    let other = person(&svc, NEW, now + Duration::minutes(11)).await;
    assert_eq!(signs_in_as(&svc, NEW).await, Some(other));
    assert_eq!(signs_in_as(&svc, OLD).await, Some(user));
}

#[tokio::test]
async fn a_crash_after_the_event_is_completed_by_the_projection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_store, svc) = service(dir.path()).await;
    let now = OffsetDateTime::now_utc();
    let user = person(&svc, OLD, now).await;

    svc.claim(ClaimKind::Email, &index(&svc, NEW), user, now, "taken")
        .await
        .expect("reserved");
    let committed = append_move(&svc, user, NEW, now).await;
    // The api dies here; the runner applies the event and settles the claim itself.
    svc.settled(&committed).await.expect("projected");
    assert_eq!(signs_in_as(&svc, NEW).await, Some(user));
    assert_eq!(signs_in_as(&svc, OLD).await, None, "the old address is gone");

    // A reservation the log gives its holder is never taken over, however old.
    let later = svc
        .create_account(NEW, password(), None, Role::User, now + Duration::minutes(30))
        .await;
    assert!(matches!(later, Err(ApiError::Conflict(_))), "{:?}", later.err());
    assert_eq!(signs_in_as(&svc, NEW).await, Some(user));
}

#[tokio::test]
async fn settles_arriving_out_of_order_leave_the_last_move_in_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_store, svc) = service(dir.path()).await;
    let now = OffsetDateTime::now_utc();
    let user = person(&svc, OLD, now).await;
    let (first, second) = ("first@example.org", "second@example.org");

    svc.claim(ClaimKind::Email, &index(&svc, first), user, now, "taken")
        .await
        .expect("reserved");
    let to_first = append_move(&svc, user, first, now).await;
    svc.claim(ClaimKind::Email, &index(&svc, second), user, now, "taken")
        .await
        .expect("reserved");
    let to_second = append_move(&svc, user, second, now).await;
    assert!(to_second.version > to_first.version);

    // The later move settles first, the earlier one after it (a slow request, a lagging or
    // replaying projection): the later one stays in force.
    svc.settle_claim(ClaimKind::Email, &index(&svc, second), user, to_second.version, now)
        .await
        .expect("settled");
    svc.settle_claim(ClaimKind::Email, &index(&svc, first), user, to_first.version, now)
        .await
        .expect("settled");
    svc.settled(&to_second).await.expect("projected");
    assert_eq!(signs_in_as(&svc, second).await, Some(user));
    assert_eq!(signs_in_as(&svc, first).await, None);
    assert_eq!(signs_in_as(&svc, OLD).await, None);
}
