//! `vigil serve` in production says where its mail goes before it starts: without an SMTP
//! server, a mail folder or an explicit `--no-mail`, it refuses, and it refuses settings that
//! could not work or would leak (plain SMTP off the loopback, credentials in the URL, no mail
//! while addresses must be verified). Secrets never reach the error.

use crate::{CHECKPOINT_KEY, KEY_A, KEY_B, assert_refused, vigil};

#[test]
fn production_serve_refuses_to_start_without_a_usable_mail_setting() {
    let dir = tempfile::tempdir().unwrap();
    let keys = [
        ("VIGIL_MASTER_KEY", KEY_A),
        ("VIGIL_TOKEN_KEY", KEY_B),
        ("VIGIL_CHECKPOINT_KEY", CHECKPOINT_KEY),
    ];
    let serve = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut all = keys.to_vec();
        all.extend_from_slice(env);
        vigil(dir.path(), &args, &all)
    };
    assert_refused(&serve(&[], &[]), "no mail setting");
    assert_refused(&serve(&["--no-mail"], &[]), "--no-mail needs --email-verification off");
    assert_refused(
        &serve(&["--smtp-url", "smtp+plain://mail.example.org:25"], &[]),
        "plain SMTP is allowed only to a loopback address",
    );
    let run = serve(&["--smtp-url", "smtps://vigil:hunter2-secret@mail.example.org"], &[]);
    assert_refused(&run, "must not hold credentials");
    assert!(!run.stderr.contains("hunter2-secret"), "{}", run.stderr);
    assert_refused(
        &serve(&["--smtp-url", "smtps://mail.example.org"], &[]),
        "--smtp-from (VIGIL_SMTP_FROM) is needed",
    );
    let run = serve(
        &[
            "--smtp-url",
            "smtps://mail.example.org",
            "--smtp-from",
            "vigil <no-reply@example.org>",
        ],
        &[("VIGIL_SMTP_USERNAME", "vigil")],
    );
    assert_refused(&run, "VIGIL_SMTP_USERNAME is set without VIGIL_SMTP_PASSWORD");
    assert_refused(
        &serve(&["--no-mail", "--mail-dir", "/tmp/x"], &[]),
        "give only one of --smtp-url, --mail-dir and --no-mail",
    );
}
