//! `balagh`: the Balagh service and its administration commands.

use balagh::config::{
    DatabaseArgs, FileConfig, LogFormat, ServeArgs, Settings, resolve_database_url,
};
use balagh::{database, demo::DemoData, gazetteer, generate, import, server, telemetry};
use balagh_domain::Slug;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "balagh",
    version,
    about = "Public-service problem reports for communes: intake, routing to operators, follow-up"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (migrates the database; loads the demo data into an empty one).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Load (or refresh) the Tétouan demo data: services, operators, contract zones.
    SeedDemo(DatabaseArgs),
    /// Import (or refresh) a commune from a folder laid out like `backend/balagh/demo/tetouan`:
    /// jurisdiction.json, boundary.geojson, services.json, zones.geojson, and optionally
    /// sla.json, places.geojson and gtfs/. Communes share one deployment side by side.
    ImportJurisdiction {
        dir: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Import contract zones from a GeoJSON FeatureCollection.
    ImportZones {
        /// GeoJSON file; each feature: properties contract, operator, operator_name,
        /// service_group, zone, valid_from, optional valid_until; a (Multi)Polygon geometry.
        file: PathBuf,
        /// Jurisdiction the zones belong to.
        #[arg(long, default_value = "tetouan")]
        jurisdiction: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Import named places (the gazetteer of the map-free path) from a GeoJSON
    /// FeatureCollection of Points; properties name, optional name_ar, kind (street, square,
    /// landmark, market, school, mosque, other), optional id. Places are updated by id.
    ImportPlaces {
        file: PathBuf,
        #[arg(long, default_value = "tetouan")]
        jurisdiction: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Replace the bus lines and stops with those of a GTFS folder (routes.txt, stops.txt,
    /// and trips.txt with stop_times.txt for each line's stops).
    ImportGtfs {
        folder: PathBuf,
        #[arg(long, default_value = "tetouan")]
        jurisdiction: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Fill the database with synthetic reports (for benchmarks and dashboards).
    GenerateReports {
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        /// Spread creation times over this many past days.
        #[arg(long, default_value_t = 365)]
        days: u32,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Create a user (the first staff administrator, typically). The password is read from
    /// the first line of standard input.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// staff_admin, staff_agent, staff_analyst, operator_manager or operator_agent
        #[arg(long)]
        role: String,
        /// For staff roles: the jurisdiction.
        #[arg(long, default_value = "tetouan")]
        jurisdiction: String,
        /// For operator roles: the operator's slug.
        #[arg(long)]
        operator: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Issue, revoke or list the API keys of Open311 clients.
    #[command(name = "open311-key", subcommand)]
    Open311Key(balagh::open311_keys::KeyCommand),
    /// Print the OpenAPI document.
    Openapi,
}

async fn open_store(
    args: &DatabaseArgs,
) -> Result<std::sync::Arc<dyn balagh_store::Store>, String> {
    let file = FileConfig::load(args.config.as_deref())?;
    let url = resolve_database_url(args, &file);
    let max_connections = file.database.max_connections.unwrap_or(8);
    database::open_migrated(&url, max_connections)
        .await
        .map_err(|e| format!("{url}: {e}"))
}

/// Loads (or refreshes) the Tétouan demo data: `seed-demo`, and `generate-reports` on an
/// empty database.
async fn seed_demo(
    store: &dyn balagh_store::Store,
) -> Result<balagh_store::ZoneImportSummary, String> {
    DemoData::load()
        .map_err(|e| e.to_string())?
        .seed(store)
        .await
        .map_err(|e| e.to_string())
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => serve(&args).await,
        Command::Migrate(args) => migrate(&args).await,
        Command::SeedDemo(args) => seed_demo_command(&args).await,
        Command::ImportJurisdiction { dir, database } => import_jurisdiction(&dir, &database).await,
        Command::ImportZones {
            file,
            jurisdiction,
            database,
        } => import_zones(file, &jurisdiction, &database).await,
        Command::ImportPlaces {
            file,
            jurisdiction,
            database,
        } => import_places(&file, &jurisdiction, &database).await,
        Command::ImportGtfs {
            folder,
            jurisdiction,
            database,
        } => import_gtfs(&folder, &jurisdiction, &database).await,
        Command::GenerateReports {
            count,
            days,
            database,
        } => generate_reports(count, days, &database).await,
        Command::CreateUser {
            email,
            name,
            role,
            jurisdiction,
            operator,
            database,
        } => {
            let user = UserArgs {
                email: &email,
                name: &name,
                role: &role,
                jurisdiction: &jurisdiction,
                operator: operator.as_deref(),
            };
            create_user(&user, &database).await
        }
        Command::Open311Key(command) => {
            telemetry::init_logging(LogFormat::Text);
            let store = open_store(command.database()).await?;
            balagh::open311_keys::run(store.as_ref(), command).await
        }
        Command::Openapi => {
            println!(
                "{}",
                balagh_api::openapi()
                    .to_pretty_json()
                    .map_err(|e| e.to_string())?
            );
            Ok(())
        }
    }
}

/// `serve`: runs the HTTP service until a shutdown signal.
async fn serve(args: &ServeArgs) -> Result<(), String> {
    let settings = Settings::resolve(args)?;
    telemetry::init_logging(settings.log_format);
    tracing::info!(database = %settings.database_url, "starting");
    let app = server::Application::build(&settings)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        address = %app.local_addr(),
        docs = balagh_api::DOCS_PATH,
        "listening"
    );
    app.run_until(server::shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

/// `migrate`: opening the store applies the migrations.
async fn migrate(args: &DatabaseArgs) -> Result<(), String> {
    telemetry::init_logging(LogFormat::Text);
    open_store(args).await?;
    eprintln!("migrations applied");
    Ok(())
}

/// `seed-demo`.
async fn seed_demo_command(args: &DatabaseArgs) -> Result<(), String> {
    telemetry::init_logging(LogFormat::Text);
    let store = open_store(args).await?;
    let summary = seed_demo(store.as_ref()).await?;
    eprintln!(
        "demo data loaded: {} operators, {} contracts",
        summary.operators, summary.contracts
    );
    Ok(())
}

/// `import-jurisdiction`: reads the whole folder before opening the database.
async fn import_jurisdiction(dir: &Path, database: &DatabaseArgs) -> Result<(), String> {
    telemetry::init_logging(LogFormat::Text);
    let commune = DemoData::from_dir(dir).map_err(|e| e.to_string())?;
    let store = open_store(database).await?;
    let summary = commune
        .seed(store.as_ref())
        .await
        .map_err(|e| e.to_string())?;
    eprintln!(
        "{} imported: {} services, {} operators, {} contracts, {} places",
        commune.jurisdiction.id,
        commune.services.len(),
        summary.operators,
        summary.contracts,
        commune.places.len()
    );
    Ok(())
}

/// `import-zones`.
async fn import_zones(
    file: PathBuf,
    jurisdiction: &str,
    database: &DatabaseArgs,
) -> Result<(), String> {
    telemetry::init_logging(LogFormat::Text);
    let jurisdiction = Slug::parse("--jurisdiction", jurisdiction).map_err(|e| e.to_string())?;
    // Check the whole file before touching the database.
    let zones = tokio::task::spawn_blocking(move || import::read_zones(&file))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let store = open_store(database).await?;
    let summary = import::write_zones(store.as_ref(), &jurisdiction, &zones)
        .await
        .map_err(|e| e.to_string())?;
    eprintln!(
        "imported {} contracts of {} operators into {jurisdiction}",
        summary.contracts, summary.operators
    );
    Ok(())
}

/// `import-places`.
async fn import_places(
    file: &Path,
    jurisdiction: &str,
    database: &DatabaseArgs,
) -> Result<(), String> {
    telemetry::init_logging(LogFormat::Text);
    let jurisdiction = Slug::parse("--jurisdiction", jurisdiction).map_err(|e| e.to_string())?;
    let places = gazetteer::read_places(file)?;
    let store = open_store(database).await?;
    let count = gazetteer::write_places(store.as_ref(), &jurisdiction, &places).await?;
    eprintln!("imported {count} places into {jurisdiction}");
    Ok(())
}

/// `import-gtfs`.
async fn import_gtfs(
    folder: &Path,
    jurisdiction: &str,
    database: &DatabaseArgs,
) -> Result<(), String> {
    telemetry::init_logging(LogFormat::Text);
    let jurisdiction = Slug::parse("--jurisdiction", jurisdiction).map_err(|e| e.to_string())?;
    let network = gazetteer::read_gtfs(folder)?;
    let store = open_store(database).await?;
    let summary = gazetteer::write_gtfs(store.as_ref(), &jurisdiction, &network).await?;
    eprintln!(
        "imported {} bus lines and {} stops into {jurisdiction}",
        summary.lines, summary.stops
    );
    Ok(())
}

/// `generate-reports`.
async fn generate_reports(count: usize, days: u32, database: &DatabaseArgs) -> Result<(), String> {
    telemetry::init_logging(LogFormat::Text);
    let store = open_store(database).await?;
    // Synthetic reports need a commune, operators and contracts to route to: an
    // empty database gets the demo data first, as `serve` does.
    if store
        .jurisdictions()
        .await
        .map_err(|e| e.to_string())?
        .is_empty()
    {
        let summary = seed_demo(store.as_ref()).await?;
        eprintln!(
            "empty database: loaded the Tétouan demo data first ({} operators, {} contracts)",
            summary.operators, summary.contracts
        );
    }
    generate::generate(&store, count, days)
        .await
        .map_err(|e| e.to_string())
}

/// The user `create-user` creates (the password comes from standard input).
struct UserArgs<'a> {
    email: &'a str,
    name: &'a str,
    role: &'a str,
    jurisdiction: &'a str,
    operator: Option<&'a str>,
}

/// `create-user`: reads the password before opening the database.
async fn create_user(args: &UserArgs<'_>, database: &DatabaseArgs) -> Result<(), String> {
    telemetry::init_logging(LogFormat::Text);
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let store = open_store(database).await?;
    let user = balagh::accounts::create_user(
        store.as_ref(),
        balagh::accounts::NewUserInput {
            email: args.email,
            name: args.name,
            role: args.role,
            jurisdiction: args.jurisdiction,
            operator: args.operator,
            password: password.trim_end_matches(['\n', '\r']),
        },
    )
    .await?;
    eprintln!(
        "created {} ({}) with id {}",
        user.email.as_str(),
        args.role,
        user.id
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
