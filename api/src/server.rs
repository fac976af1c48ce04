//! `vigil serve`: migrations, the projection runner and the GraphQL API in one process, with
//! graceful shutdown on SIGTERM/Ctrl-C (in-flight requests finish, then the runner commits
//! its batch and stops). Must not hold business rules: it wires the service to HTTP.

mod checkpoints;
mod config;
mod documents;
mod edge;
mod hardening;
mod http;
mod input_errors;
pub mod listen;
mod security_txt;
mod ws;

use crate::cluster::Cluster;
use crate::cluster::revocations::Revocations;
use crate::maintenance::ReadOnlySwitch;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub use security_txt::SecurityTxt;

use anyhow::Context;
use vigil_eventstore::{EventStore, Location, StoreConfig};
use vigil_projections::{INDEX_KEY_CONTEXT, IndexKey, ProjectionRunner, ReadDb};

pub use config::ServeArgs;

use crate::auth::TokenKey;
use crate::cli::StoreArgs;
use crate::service::Service;

/// Runs the server until a shutdown signal.
pub async fn run(store_args: &StoreArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    config::warn_unknown_env();
    let location = crate::commands::location(store_args)?;
    // Checked before anything opens: a schedule without a dir or recipients is refused.
    let backups = crate::backup::job::Schedule::from_args(&args.backup)?;
    let keys = config::resolve_keys(&location, args.dev, args.checkpoint.checkpoint_origin.as_deref()).await?;
    // The public identity of this log's checkpoints (origin and key id; never the secret).
    tracing::info!(
        origin = keys.checkpoint.origin(),
        key_id = format!("{:08x}", keys.checkpoint.verifier().key_id()),
        "checkpoint key loaded"
    );
    // Mail settings are checked before anything starts: a server never runs without saying
    // where its mail goes.
    let mail_settings = args.mail.resolve(args.dev, &location)?;
    if args.metrics_listen.as_deref() == Some(args.listen.as_str()) && !args.listen.ends_with(":0") {
        anyhow::bail!("--metrics-listen must differ from --listen: /metrics is never served on the public port");
    }
    // Installed before anything runs, so nothing this process does goes uncounted; only with
    // --metrics-listen (without it no recorder exists and recording costs nothing).
    let metrics = match &args.metrics_listen {
        Some(_) => Some(crate::metrics::install(&crate::graphql::build(None, false).sdl())?),
        None => None,
    };
    let store = EventStore::open(StoreConfig::new(location.clone(), keys.master))
        .await
        .context("cannot open the event store")?;
    let stack = Stack::assemble(
        &store,
        &location,
        keys.token,
        Duration::from_millis(args.lag_timeout_ms),
        Surface {
            checkpoint_key: Some(keys.checkpoint.verifier()),
            ..config::surface(&args)?
        },
    )
    .await?;
    let app = stack.app.clone();
    // Mail: queued by the flows of this server, sent by a job on every server.
    let mailer = match mail_settings.transport {
        Some((transport, from)) => {
            let key = crate::mail::MailKey::from_bytes(&*store.system_secret(crate::mail::seal::CONTEXT).await?)?;
            let mail = crate::mail::Mail::new(mail_settings.verification, key);
            stack.service.set_mail(mail.clone());
            tracing::info!(verification = ?mail_settings.verification, "mail on");
            Some(crate::mail::sender::spawn(stack.service.clone(), mail, transport, from))
        }
        None => {
            tracing::warn!("mail is off (--no-mail): nothing is sent, addresses are not verified");
            None
        }
    };
    // Erasures a crash interrupted (here or on another server) finish now, and are looked
    // for again every minute.
    let resumer = crate::erasure::resume::spawn(stack.service.clone());
    // Accounts nobody used for the period: noticed, then erased (one server at a time).
    let inactivity = crate::erasure::inactivity::spawn(
        stack.service.clone(),
        args.inactivity.policy()?,
        args.inactivity_check,
        Arc::new(crate::erasure::inactivity::LogNotice),
    );
    // Signs and records checkpoints of the log; every node does, and they agree.
    let checkpoints = crate::checkpoint::job::spawn(
        store.clone(),
        keys.checkpoint.clone(),
        crate::checkpoint::job::Cadence {
            every: args.checkpoint_every,
            events: args.checkpoint_events,
        },
    );
    // Backup sets on a schedule (one server at a time), when asked for.
    let backup_job = backups.map(|schedule| {
        let data_dir = matches!(location, vigil_eventstore::Location::Sqlite(_)).then(|| store_args.data_dir.clone());
        tokio::spawn(crate::backup::job::run(
            stack.service.clone(),
            location.clone(),
            data_dir,
            schedule,
        ))
    });
    let idle = Duration::from_secs(args.idle_timeout);
    let listener = tokio::net::TcpListener::bind(args.listen.as_str())
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let bound: SocketAddr = listener.local_addr()?;
    let shutdown = shutdown_signal();
    let exporter = match (metrics, &args.metrics_listen) {
        (Some(handle), Some(address)) => {
            let listener = tokio::net::TcpListener::bind(address.as_str())
                .await
                .with_context(|| format!("cannot listen for metrics on {address}"))?;
            let bound = listener.local_addr()?;
            // Like the public line below: how scripts and tests learn the metrics port.
            println!("vigil metrics on http://{bound}/metrics");
            tracing::info!(%bound, "metrics listener");
            Some(tokio::spawn(crate::metrics::http::serve(
                listener,
                handle,
                stack.service.clone(),
                idle,
            )))
        }
        _ => None,
    };
    // The one line scripts and tests read to learn the port (with --listen 127.0.0.1:0).
    println!("vigil listening on http://{bound}");
    tracing::info!(%bound, dev = args.dev, "vigil serving");
    listen::serve(listener, app, idle, Some("http"), shutdown).await;
    if let Some(exporter) = exporter {
        exporter.abort();
    }
    if let Some(mailer) = mailer {
        mailer.abort();
    }
    resumer.abort();
    inactivity.abort();
    checkpoints.abort();
    if let Some(job) = backup_job {
        job.abort();
    }
    tracing::info!("shutting down: stopping projections");
    stack.close().await;
    store.close().await;
    tracing::info!("stopped: projections checkpointed, databases closed");
    Ok(ExitCode::SUCCESS)
}

/// How the HTTP surface is configured.
#[derive(Debug, Clone)]
pub struct Surface {
    /// Development mode: GraphiQL, introspection, suggestions.
    pub dev: bool,
    /// Largest request body, in bytes.
    pub body_limit: u64,
    /// `/.well-known/security.txt`, when a contact is configured.
    pub security_txt: Option<Arc<SecurityTxt>>,
    /// Rate limits; `None` for commands that serve nobody.
    pub limits: Option<crate::limits::RateLimits>,
    /// Browser origins allowed to call the API (CORS); empty: none.
    pub cors_origins: Vec<String>,
    /// How long a connection may stay silent: an HTTP connection between requests, a
    /// WebSocket without subscriptions between messages.
    pub idle: Duration,
    /// The checkpoint verifier key served at `/checkpoint/key` (public; `None`: not served).
    pub checkpoint_key: Option<vigil_proofs::note::VerifierKey>,
    /// Witness verifier keys whose cosignatures the log accepts and serves.
    pub witness_keys: Vec<vigil_proofs::note::VerifierKey>,
}

impl Surface {
    /// For commands and benches that build the stack without serving it to the public:
    /// production settings, a body limit of `body_limit`.
    pub fn internal(body_limit: u64) -> Surface {
        Surface {
            dev: false,
            body_limit,
            security_txt: None,
            limits: None,
            cors_origins: Vec::new(),
            idle: Duration::from_secs(config::DEFAULT_IDLE_SECS),
            checkpoint_key: None,
            witness_keys: Vec::new(),
        }
    }
}

/// The read database, the projection runner, the service and the HTTP surface over an open
/// store: what `serve` runs, and what `vigil bench api` measures in-process.
pub struct Stack {
    /// The application service.
    pub service: Service,
    /// The whole HTTP surface.
    pub app: axum::Router,
    db: ReadDb,
}

impl Stack {
    /// Opens the read database (migrating it), starts the projection runner and builds the
    /// schema and router.
    ///
    /// # Errors
    /// Read database, migration and store errors.
    pub async fn assemble(
        store: &EventStore,
        location: &Location,
        token: TokenKey,
        lag_timeout: Duration,
        surface: Surface,
    ) -> anyhow::Result<Stack> {
        // SQLite: few connections. Each keeps its own page cache, which every commit of the
        // runner invalidates, so a connection used often stays warm; with 16, the mixed
        // phase of `vigil bench api` re-read pages and served 7–19 % fewer requests. One
        // writer at a time anyway. Postgres answers over the network: more in flight.
        let size = match location {
            Location::Sqlite(_) => 4,
            Location::Postgres(_) => 16,
        };
        let db = ReadDb::open(location, size)
            .await
            .context("cannot open the read database")?;
        let problems = vigil_projections::row_security_problems(&db).await?;
        if !problems.is_empty() {
            anyhow::bail!(
                "refusing to serve: the read database's row-level security is not in force: {}",
                problems.join("; ")
            );
        }
        let index = IndexKey::from_bytes(*store.system_secret(INDEX_KEY_CONTEXT).await?);
        let runner = ProjectionRunner::start(store.clone(), db.clone(), index.clone()).await?;
        let revocations = Revocations::for_location(location)?;
        let maintenance = ReadOnlySwitch::follow(store)
            .await
            .context("cannot read the maintenance switch")?;
        let service = Service::new(
            store.clone(),
            db.clone(),
            runner,
            index,
            token,
            lag_timeout,
            Cluster {
                revocations,
                maintenance,
            },
        )?;
        service
            .passwords()
            .warm()
            .await
            .context("cannot prepare password hashing")?;
        let schemas = http::Schemas {
            full: crate::graphql::build(Some(service.clone()), surface.dev),
            validated: crate::graphql::build_for_validated(Some(service.clone()), surface.dev),
        };
        let app = http::router(service.clone(), schemas, &surface);
        Ok(Stack { service, app, db })
    }

    /// Stops the runner after its current batch and closes the read database.
    pub async fn close(self) {
        self.service.shutdown().await;
        self.db.close().await;
    }
}

/// Resolves on SIGTERM or Ctrl-C. The SIGTERM handler is installed when this is called, not
/// when first polled: a signal that arrives right after the "listening" line (a supervisor
/// or a test stopping a server it just started) then shuts down gracefully instead of killing
/// the process.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async move {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = term => {},
        }
    }
}
