//! `custody serve` and `custody demo --serve`: the web desk.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;

use custody_app::desk::accounts;
use custody_core::DeskRole;
use custody_desk::{DeskOptions, route_table};

use crate::output;

/// How to serve the desk.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one). Anything but loopback should sit behind a
    /// TLS-terminating proxy: use --behind-https there.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// The desk is reached through HTTPS: cookies are marked Secure and browsers keep to HTTPS.
    #[arg(long)]
    behind_https: bool,
    /// Serve plain HTTP on an address other than loopback (passwords and session cookies then
    /// cross the network unencrypted; only for a network you trust entirely).
    #[arg(long)]
    allow_plain_http: bool,
    /// Print every route with who may use it (JSON), and exit.
    #[arg(long)]
    routes: bool,
}

/// Serves the desk until the process is stopped.
pub fn serve(dir: Option<PathBuf>, args: ServeArgs) -> anyhow::Result<()> {
    if args.routes {
        return output::json(&route_table());
    }
    if !args.addr.ip().is_loopback() && !args.behind_https && !args.allow_plain_http {
        anyhow::bail!(
            "{} is not a loopback address: put the desk behind an HTTPS proxy and pass --behind-https \
             (or, on a network you trust entirely, --allow-plain-http)",
            args.addr
        );
    }
    let ledger = crate::cli::open(dir)?;
    if accounts::users(&ledger)?
        .iter()
        .all(|user| user.disabled_at.is_some())
    {
        eprintln!(
            "custody: no one can sign in yet; add an account with `custody user add NAME --role admin`"
        );
    }
    let options = DeskOptions {
        dir: ledger.dir.clone(),
        behind_https: args.behind_https,
    };
    drop(ledger);
    custody_desk::serve(options, args.addr, |bound| {
        crate::say!("custody desk: http://{bound}/");
    })?;
    Ok(())
}

/// Serves a freshly built demo, with an admin account made for it (the caller has checked that
/// the address is loopback: the demo has no TLS in front of it).
pub fn serve_demo(dir: &Path, addr: SocketAddr) -> anyhow::Result<()> {
    let mut ledger = custody_app::Ledger::open(
        dir,
        Box::new(custody_app::clock::SystemClock),
        &crate::cli::actor(),
    )?;
    let password = accounts::random_password()?;
    accounts::add_user(&mut ledger, "demo", DeskRole::Admin, None, &password)?;
    drop(ledger);
    let options = DeskOptions {
        dir: dir.to_owned(),
        behind_https: false,
    };
    custody_desk::serve(options, addr, |bound| {
        crate::say!("\ncustody desk: http://{bound}/");
        crate::say!("sign in as demo with the password {password}");
    })?;
    Ok(())
}
