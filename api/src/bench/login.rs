//! `vigil bench login`: whether a failed sign-in tells anything by its time. Unknown email,
//! wrong password and locked account are attempted in turn (interleaved, so drift of a noisy
//! machine touches all three alike) through the service the resolvers call; so are
//! registrations of free and taken emails. Each pair of kinds gets its medians and the
//! two-sample Kolmogorov–Smirnov statistic D with its 5 % critical value: D below it means
//! the samples are consistent with one distribution. Figures only; nothing is asserted.

use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use uuid::Uuid;
use vigil_eventstore::EventStore;
use zeroize::Zeroizing;

use super::{BenchDb, median};
use crate::auth::TokenKey;
use crate::cli::LoginBenchArgs;
use crate::server::Stack;
use crate::service::Service;

/// Wrong passwords per account before the next account (the fifth would lock it).
const TRIES_PER_ACCOUNT: u32 = 4;
const PASSWORD: &str = "bench-login-passphrase-81";

pub async fn login(db: &BenchDb, store: &EventStore, a: &LoginBenchArgs) -> anyhow::Result<()> {
    let stack = Stack::assemble(
        store,
        &db.location,
        TokenKey::generate()?,
        Duration::from_secs(2),
        crate::server::Surface::internal(1 << 20),
    )
    .await?;
    let svc = stack.service.clone();
    let result = measure(&svc, a).await;
    stack.close().await;
    result
}

async fn measure(svc: &Service, a: &LoginBenchArgs) -> anyhow::Result<()> {
    let run = Uuid::new_v4().simple().to_string();
    let accounts = a.attempts.div_ceil(TRIES_PER_ACCOUNT);
    let email = |kind: &str, i: u32| format!("{kind}-{i}-{run}@example.org");
    let setup = Instant::now();
    let registered: Vec<anyhow::Result<()>> = stream::iter((0..=accounts).map(|i| {
        let email = if i == accounts {
            email("locked", 0)
        } else {
            email("wrong", i)
        };
        async move {
            svc.register(&email, Zeroizing::new(PASSWORD.to_owned()), None).await?;
            Ok(())
        }
    }))
    .buffer_unordered(16)
    .collect()
    .await;
    registered.into_iter().collect::<anyhow::Result<()>>()?;
    // Lock one account for the whole run (15 minutes).
    for _ in 0..5 {
        let _ = svc
            .login(&email("locked", 0), Zeroizing::new("wrong-pass-000".into()))
            .await;
    }
    println!(
        "login: {} attempts per kind, interleaved; {accounts} wrong-password accounts ({TRIES_PER_ACCOUNT} tries each), \
         {accounts} unknown emails ({TRIES_PER_ACCOUNT} tries each), one locked account; set up in {:.1} s",
        a.attempts,
        setup.elapsed().as_secs_f64()
    );
    let (mut unknown, mut wrong, mut locked) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..a.attempts {
        let account = i / TRIES_PER_ACCOUNT;
        for (target, password, into) in [
            (email("unknown", account), "wrong-pass-111", &mut unknown),
            (email("wrong", account), "wrong-pass-222", &mut wrong),
            (email("locked", 0), PASSWORD, &mut locked),
        ] {
            let started = Instant::now();
            let answer = svc.login(&target, Zeroizing::new(password.to_owned())).await;
            into.push(started.elapsed());
            anyhow::ensure!(answer.is_err(), "a bench login that must fail succeeded");
        }
    }
    report("unknown email", &unknown, "wrong password", &wrong);
    report("unknown email", &unknown, "locked account", &locked);
    report("wrong password", &wrong, "locked account", &locked);

    if a.registrations > 0 {
        let (mut free, mut taken) = (Vec::new(), Vec::new());
        for i in 0..a.registrations {
            for (target, into) in [(email("new", i), &mut free), (email("wrong", 0), &mut taken)] {
                let started = Instant::now();
                svc.register(&target, Zeroizing::new(PASSWORD.to_owned()), None).await?;
                into.push(started.elapsed());
            }
        }
        println!("register: {} per kind, interleaved", a.registrations);
        report("free email", &free, "taken email", &taken);
    }
    Ok(())
}

fn ms(xs: &[Duration]) -> Vec<f64> {
    xs.iter().map(|d| d.as_secs_f64() * 1e3).collect()
}

fn report(a_label: &str, a: &[Duration], b_label: &str, b: &[Duration]) {
    let (a, b) = (ms(a), ms(b));
    let d = ks_statistic(&a, &b);
    let (n, m) = (a.len() as f64, b.len() as f64);
    let critical = 1.358 * ((n + m) / (n * m)).sqrt();
    println!(
        "  {a_label:<15} median {:>7.2} ms | {b_label:<15} median {:>7.2} ms | KS D {d:.4} (5 % critical {critical:.4}) {}",
        median(a.clone()),
        median(b.clone()),
        if d < critical { "same distribution" } else { "DIFFERENT" }
    );
}

/// The largest distance between the two samples' empirical distribution functions.
pub fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return 0.0;
    }
    let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
    while i < n && j < m {
        let x = a[i].min(b[j]);
        while i < n && a[i] <= x {
            i += 1;
        }
        while j < m && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / n as f64 - j as f64 / m as f64).abs());
    }
    d
}

#[cfg(test)]
mod tests {
    use super::ks_statistic;

    #[test]
    fn ks_is_zero_for_equal_samples_and_one_for_disjoint_ones() {
        let a = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(ks_statistic(&a, &a), 0.0);
        assert_eq!(ks_statistic(&a, &[10.0, 11.0]), 1.0);
        assert!((ks_statistic(&[1.0, 2.0, 3.0, 4.0], &[3.0, 4.0, 5.0, 6.0]) - 0.5).abs() < 1e-12);
    }
}
