//! `vigil projections rebuild [NAME]` and `vigil projections status`.

use std::process::ExitCode;

use vigil_projections::runner::{rebuild, status};
use vigil_projections::{INDEX_KEY_CONTEXT, IndexKey, Projection, ReadDb};

use crate::cli::{ProjectionsCommand, StoreArgs};

pub async fn run(args: &StoreArgs, command: ProjectionsCommand) -> anyhow::Result<ExitCode> {
    let (store, _) = super::open(args).await?;
    let location = super::location(args)?;
    let db = ReadDb::open(&location, 4).await?;
    match command {
        ProjectionsCommand::Rebuild { name } => {
            let projections = match name {
                Some(name) => vec![Projection::parse(&name)?],
                None => Projection::ALL.to_vec(),
            };
            let key = IndexKey::from_bytes(*store.system_secret(INDEX_KEY_CONTEXT).await?);
            let head = store.head_position().await?;
            let bar = super::progress(head, "rebuilding");
            let mut reached = 0;
            let report = rebuild(&store, &db, &key, &projections, |position, _| {
                reached = position;
                bar.set_position(position)
            })
            .await;
            let report = match report {
                Ok(report) => report,
                Err(e) => {
                    bar.abandon();
                    // The read models hold a consistent prefix: each batch committed with its
                    // checkpoint. Say where it stopped and how to go on.
                    anyhow::bail!(
                        "rebuild stopped after position {reached} of {head}: {e}. The read models hold the events \
                         up to {reached}; once the cause is fixed, run the rebuild again or start the server, \
                         which continues from there"
                    );
                }
            };
            bar.finish_and_clear();
            let names: Vec<&str> = projections.iter().map(|p| p.name()).collect();
            println!(
                "rebuilt {} from {} events in {:.2} s ({:.0} events/s)",
                names.join(", "),
                report.events,
                report.seconds,
                report.events_per_second()
            );
        }
        ProjectionsCommand::Status => {
            println!("{:<12} {:>12} {:>10}", "projection", "checkpoint", "lag");
            for s in status(&store, &db).await? {
                println!("{:<12} {:>12} {:>10}", s.projection.name(), s.position, s.lag);
            }
        }
    }
    db.close().await;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
