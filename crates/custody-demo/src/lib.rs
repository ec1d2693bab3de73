//! The demo organisation of DESIGN.md section 8: a party of about 430,000 members among two
//! million people, a dozen suppliers, years of shares, and the membership-data processor whose
//! incident the party learned of on Friday 29 October 2021. Everything is generated from a seed,
//! written as CSV files, and loaded through the same use cases a user runs: no direct inserts.
//! Generated people use reserved domains (example.org/.com/.net) and Ofcom's drama telephone
//! ranges that still parse as valid numbers; no real person is in it.

pub mod incident;
pub mod leak;
pub mod notices;
pub mod questionnaire;
pub mod requests;

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use custody_core::{CategoryKey, Instant, PersonCategory, Settings, SupplierRole, parse_instant};

use custody_app::clock::Clock;
use custody_app::ledger::holdings::{HoldingsReport, holdings};
use custody_app::ledger::people::{ImportOptions, import_people};
use custody_app::ledger::shares::{FeedInput, RecordInput, confirm_deletion, declare_feed, record_export};
use custody_app::ledger::suppliers::{SupplierInput, add_supplier};
use custody_app::{Error, Result};
use custody_app::{Ledger, init};

/// Marks a directory the demo made, so a rerun may replace it.
const MARKER: &str = "demo.marker";
/// The membership-data processor, where the incident happens.
pub const INCIDENT_SUPPLIER: &str = "Example Membership Services";
/// When the party became aware (UK time).
pub const AWARE_AT: &str = "2021-10-29 18:30";

/// Demo size and seed.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// People to generate.
    pub people: u32,
    /// Seed.
    pub seed: u64,
    /// A mail server to send the incident's notices to.
    pub smtp: Option<custody_mail::SmtpConfig>,
}

/// What the demo built.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    /// The data directory.
    pub dir: String,
    /// People per category: (current, former).
    pub people: Vec<(String, u64, u64)>,
    /// Suppliers registered.
    pub suppliers: usize,
    /// Shares recorded.
    pub shares: usize,
    /// What the membership-data processor held when the party became aware.
    pub incident_holdings: HoldingsReport,
    /// The incident at the membership-data processor, through the breach desk.
    pub incident: crate::incident::DemoIncident,
    /// The processor's questionnaire and its answer.
    pub questionnaire: crate::questionnaire::DemoQuestionnaire,
    /// The requests that followed, through the rights desk.
    pub requests: crate::requests::DemoRequests,
    /// The notices to the people affected.
    pub notices: crate::notices::DemoNotices,
    /// The leaked file that turned up, matched and recorded as evidence.
    pub leak: crate::leak::DemoLeak,
    /// Seconds the demo took.
    pub seconds: f64,
}

impl DemoSummary {
    /// The summary in words.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "Demo organisation built in {} ({:.0} s).\n\nPeople:\n",
            self.dir, self.seconds
        );
        for (category, current, former) in &self.people {
            out.push_str(&format!(
                "  {category:<22} {current:>9} current {former:>9} former\n"
            ));
        }
        out.push_str(&format!(
            "\nSuppliers: {}   Shares: {}\n\n",
            self.suppliers, self.shares
        ));
        let held = &self.incident_holdings;
        out.push_str(&format!(
            "{} held data of {} people on {} ({} canaries), by data category:\n",
            held.supplier, held.people, held.at_local, held.canaries
        ));
        for (key, count) in &held.categories {
            out.push_str(&format!("  {key:<40} {count:>9}\n"));
        }
        out.push_str(&format!(
            "\nTry: custody --dir {} holdings --supplier \"{}\" --at \"{AWARE_AT}\"\n",
            self.dir, held.supplier
        ));
        out.push_str(&crate::incident::to_text(&self.incident, &self.dir));
        out.push_str(&crate::questionnaire::to_text(&self.questionnaire, &self.dir));
        out.push_str(&crate::leak::to_text(&self.leak, &self.dir));
        out.push_str(&crate::notices::to_text(&self.notices, &self.dir));
        out.push_str(&crate::requests::to_text(&self.requests, &self.dir));
        out
    }
}

struct DemoPerson {
    reference: String,
    first: &'static str,
    last: &'static str,
    email: Option<String>,
    phone: Option<String>,
    postcode: String,
    street: String,
    town: &'static str,
    dob: (i16, i8, i8),
    category: PersonCategory,
    joined: (i16, i8, i8),
    left: Option<(i16, i8, i8)>,
    /// Where they live when not in the UK.
    abroad: Option<&'static Abroad>,
}

/// A place abroad some members live in, so an incident has the obligations of several
/// jurisdictions: EU authorities, US states, Canada and Quebec, Australia.
struct Abroad {
    country: &'static str,
    region: &'static str,
    town: &'static str,
    postcode: &'static str,
}

const ABROAD: &[Abroad] = &[
    Abroad {
        country: "IE",
        region: "",
        town: "Dublin",
        postcode: "D02 X285",
    },
    Abroad {
        country: "FR",
        region: "",
        town: "Paris",
        postcode: "75011",
    },
    Abroad {
        country: "DE",
        region: "",
        town: "Berlin",
        postcode: "10115",
    },
    Abroad {
        country: "ES",
        region: "",
        town: "Madrid",
        postcode: "28013",
    },
    Abroad {
        country: "US",
        region: "CA",
        town: "San Francisco",
        postcode: "94103",
    },
    Abroad {
        country: "US",
        region: "NY",
        town: "New York",
        postcode: "10001",
    },
    Abroad {
        country: "US",
        region: "MA",
        town: "Boston",
        postcode: "02108",
    },
    Abroad {
        country: "CA",
        region: "QC",
        town: "Montréal",
        postcode: "H2X 1Y4",
    },
    Abroad {
        country: "AU",
        region: "NSW",
        town: "Sydney",
        postcode: "2000",
    },
];

/// One person in 40 lives abroad, spread over [`ABROAD`] (by index, not drawn from the seed's
/// generator, so every other value stays as it was).
fn abroad(index: u32) -> Option<&'static Abroad> {
    (index % 40 == 17)
        .then(|| ABROAD.get((index / 40) as usize % ABROAD.len()))
        .flatten()
}

const FIRST: &[&str] = &[
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Freya", "Lily", "Ella", "Sophie", "Ruth", "Margaret",
    "Oliver", "George", "Noah", "Arthur", "Harry", "Leo", "Jack", "Oscar", "Thomas", "David", "Peter",
    "Aisha", "Mohammed", "Priya", "Rahul", "Siobhan", "Ciaran", "Eilidh", "Callum", "Rhys", "Cerys",
    "Tomasz", "Anna", "José", "Zoë", "Chloé", "Seán", "Bethan", "Fatima", "Yusuf", "Hannah", "Joseph",
    "Samuel", "Emily", "Jessica", "William",
];
const LAST: &[&str] = &[
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Khan",
    "Hughes",
    "Edwards",
    "Murphy",
    "Campbell",
    "Kaur",
    "Begum",
    "Nowak",
    "Okafor",
    "Mensah",
    "Lewis",
    "Harris",
    "O'Brien",
    "MacDonald",
    "Ní Bhriain",
    "Øberg",
    "García",
    "Müller",
    "Ahmed",
    "Singh",
    "Jenkins",
    "Morgan",
    "Price",
];
const DOMAINS: &[&str] = &["example.org", "example.com", "example.net"];
/// Ofcom drama ranges (geographic) that the phone metadata accepts as valid: 1,000 numbers each.
const PHONE_PREFIXES: &[&str] = &[
    "020 7946 0",
    "0113 496 0",
    "0114 496 0",
    "0115 496 0",
    "0116 496 0",
    "0117 496 0",
    "0118 496 0",
    "0121 496 0",
    "0131 496 0",
    "0141 496 0",
    "0151 496 0",
    "0161 496 0",
];
const POSTCODE_AREAS: &[&str] = &[
    "SW", "SE", "N", "E", "LS", "M", "B", "G", "EH", "CF", "BS", "NE", "L", "S", "NG",
];

/// The post town of each of [`POSTCODE_AREAS`].
const POST_TOWNS: &[&str] = &[
    "London",
    "London",
    "London",
    "London",
    "Leeds",
    "Manchester",
    "Birmingham",
    "Glasgow",
    "Edinburgh",
    "Cardiff",
    "Bristol",
    "Newcastle upon Tyne",
    "Liverpool",
    "Sheffield",
    "Nottingham",
];

const STREETS: &[&str] = &[
    "High Street",
    "Station Road",
    "Church Lane",
    "Victoria Road",
    "Park Avenue",
    "Mill Lane",
    "King Street",
    "Queens Road",
    "The Crescent",
    "Albert Street",
    "Manor Way",
    "Green Lane",
    "School Lane",
    "North Road",
];

fn day((year, month, day): (i16, i8, i8)) -> String {
    format!("{day:02}/{month:02}/{year:04}")
}

fn random_day(rng: &mut fastrand::Rng, from_year: i16, to_year: i16) -> (i16, i8, i8) {
    (rng.i16(from_year..=to_year), rng.i8(1..=12), rng.i8(1..=28))
}

fn generate(rng: &mut fastrand::Rng, count: u32) -> Vec<DemoPerson> {
    let mut phone_pool = 0usize;
    (0..count)
        .map(|index| {
            let roll = rng.u32(0..1000);
            let category = match roll {
                0..215 => PersonCategory::Member,
                215..665 => PersonCategory::RegisteredSupporter,
                665..955 => PersonCategory::AffiliatedSupporter,
                955..990 => PersonCategory::Donor,
                990..998 => PersonCategory::Volunteer,
                _ => PersonCategory::Staff,
            };
            let first = FIRST.get(rng.usize(..FIRST.len())).copied().unwrap_or("Alex");
            let last = LAST.get(rng.usize(..LAST.len())).copied().unwrap_or("Smith");
            let email = (rng.u8(0..100) < 92).then(|| {
                let domain = DOMAINS
                    .get(rng.usize(..DOMAINS.len()))
                    .copied()
                    .unwrap_or("example.org");
                let local: String = deunicode_ascii(&format!("{first}.{last}")).to_lowercase();
                format!("{local}.{index}@{domain}")
            });
            let phone = (phone_pool < PHONE_PREFIXES.len() * 1000 && rng.u8(0..100) < 30).then(|| {
                let prefix = PHONE_PREFIXES
                    .get(phone_pool / 1000)
                    .copied()
                    .unwrap_or("020 7946 0");
                let number = format!("{prefix}{:03}", phone_pool % 1000);
                phone_pool += 1;
                number
            });
            let area_index = rng.usize(..POSTCODE_AREAS.len());
            let area = POSTCODE_AREAS.get(area_index).copied().unwrap_or("SW");
            let town = POST_TOWNS.get(area_index).copied().unwrap_or("London");
            // Not drawn from the generator, so every other value stays as it was.
            let street = format!(
                "{} {}",
                index % 197 + 1,
                STREETS
                    .get(index as usize / 7 % STREETS.len())
                    .copied()
                    .unwrap_or("High Street")
            );
            let postcode = format!(
                "{area}{} {}{}{}",
                rng.u8(1..30),
                rng.u8(0..10),
                char::from(b'A' + rng.u8(0..26)),
                char::from(b'A' + rng.u8(0..26))
            );
            let joined = random_day(rng, 2000, 2023);
            let left = (rng.u8(0..100) < 18)
                .then(|| random_day(rng, joined.0, 2024))
                .filter(|left| *left > joined);
            let abroad = abroad(index);
            DemoPerson {
                reference: format!("P{:08}", index + 1),
                first,
                last,
                email,
                phone,
                postcode: abroad.map_or(postcode, |place| place.postcode.to_owned()),
                street,
                town: abroad.map_or(town, |place| place.town),
                abroad,
                dob: random_day(rng, 1935, 2005),
                category,
                joined,
                left,
            }
        })
        .collect()
}

fn deunicode_ascii(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'é' => Some('e'),
            'ë' => Some('e'),
            'á' => Some('a'),
            'í' => Some('i'),
            'ø' | 'Ø' => Some('o'),
            'ü' => Some('u'),
            'ç' => Some('c'),
            c if c.is_ascii_alphanumeric() || c == '.' => Some(c),
            _ => None,
        })
        .collect()
}

fn create(path: &Path) -> Result<BufWriter<fs::File>> {
    fs::File::create(path)
        .map(BufWriter::new)
        .map_err(|source| Error::io(path, source))
}

fn write_crm(path: &Path, people: &[DemoPerson]) -> Result<()> {
    let mut out = create(path)?;
    let io = |source| Error::io(path, source);
    writeln!(
        out,
        "Member Number,Forename,Surname,Email,Mobile,Address Line 1,Town,Post Code,DOB,Category,Status,Joined,Left,State/Province,Country"
    )
    .map_err(io)?;
    for person in people {
        let status = if person.left.is_some() { "Lapsed" } else { "Active" };
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            person.reference,
            person.first,
            csv_field(person.last),
            person.email.as_deref().unwrap_or(""),
            // A UK-style number would not read in another country: the CRM keeps none for
            // people abroad (a supplier's export may still carry one).
            person
                .phone
                .as_deref()
                .filter(|_| person.abroad.is_none())
                .unwrap_or(""),
            person.street,
            person.town,
            person.postcode,
            day(person.dob),
            person.category.as_str().replace('_', " "),
            status,
            day(person.joined),
            person.left.map(day).unwrap_or_default(),
            person.abroad.map_or("", |place| place.region),
            person.abroad.map_or("GB", |place| place.country),
        )
        .map_err(io)?;
    }
    out.flush().map_err(io)
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Which columns an export file carries.
#[derive(Clone, Copy)]
enum Layout {
    /// Reference, names, email, postcode.
    Mailing,
    /// Reference, names, phone.
    Telephony,
    /// Email only (no reference: linked by identifier).
    Survey,
    /// Reference, names, postcode, date of birth.
    Print,
}

fn write_export(path: &Path, people: &[&DemoPerson], layout: Layout) -> Result<()> {
    let mut out = create(path)?;
    let io = |source| Error::io(path, source);
    let header = match layout {
        Layout::Mailing => "Member Number,First Name,Last Name,Email,Postcode",
        Layout::Telephony => "Member Number,First Name,Last Name,Telephone",
        Layout::Survey => "Email",
        Layout::Print => "Member Number,First Name,Last Name,Postcode,Date of Birth",
    };
    writeln!(out, "{header}").map_err(io)?;
    for person in people {
        let last = csv_field(person.last);
        let line = match layout {
            Layout::Mailing => format!(
                "{},{},{last},{},{}",
                person.reference,
                person.first,
                person.email.as_deref().unwrap_or(""),
                person.postcode
            ),
            Layout::Telephony => format!(
                "{},{},{last},{}",
                person.reference,
                person.first,
                person.phone.as_deref().unwrap_or("")
            ),
            Layout::Survey => person.email.clone().unwrap_or_default(),
            Layout::Print => format!(
                "{},{},{last},{},{}",
                person.reference,
                person.first,
                person.postcode,
                day(person.dob)
            ),
        };
        writeln!(out, "{line}").map_err(io)?;
    }
    out.flush().map_err(io)
}

fn prepare_dir(dir: &Path) -> Result<()> {
    if dir.join(MARKER).exists() {
        for name in [
            "custody.db",
            "custody.db-wal",
            "custody.db-shm",
            "settings.toml",
            "custody.key",
            "audit.head",
            MARKER,
        ] {
            let path = dir.join(name);
            if path.exists() {
                fs::remove_file(&path).map_err(|source| Error::io(&path, source))?;
            }
        }
        let files = dir.join("files");
        if files.exists() {
            fs::remove_dir_all(&files).map_err(|source| Error::io(&files, source))?;
        }
    } else if dir.exists()
        && fs::read_dir(dir)
            .map_err(|source| Error::io(dir, source))?
            .next()
            .is_some()
    {
        return Err(Error::Directory(format!(
            "{} exists and was not made by the demo; pass --dir with a new or empty directory",
            dir.display()
        )));
    }
    let files = dir.join("files");
    fs::create_dir_all(&files).map_err(|source| Error::io(dir, source))?;
    // The generated exports look like people's data: kept like the data directory.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&files, fs::Permissions::from_mode(0o700))
            .map_err(|source| Error::io(&files, source))?;
    }
    fs::write(
        dir.join(MARKER),
        "made by custody demo; a rerun replaces this directory\n",
    )
    .map_err(|source| Error::io(dir, source))
}

fn demo_settings() -> Settings {
    let mut settings = Settings::new("Example Democratic Party");
    settings.dpo.email = "dpo@party.example.org".to_owned();
    settings.canary_domain = "canary.party.example.org".to_owned();
    let political = vec!["user.demographic.political_opinion".to_owned()];
    for category in ["member", "registered_supporter", "affiliated_supporter"] {
        settings
            .special_categories
            .insert(category.to_owned(), political.clone());
    }
    settings
}

/// Builds the demo in `dir`, reporting each step to `progress`.
pub fn run(
    dir: &Path,
    options: DemoOptions,
    clock: &dyn Clock,
    actor: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<DemoSummary> {
    let started = std::time::Instant::now();
    prepare_dir(dir)?;
    init(dir, demo_settings(), clock, actor)?;
    let mut ledger = Ledger::open(dir, Box::new(custody_app::clock::FixedClock(clock.now())), actor)?;
    let mut rng = fastrand::Rng::with_seed(options.seed);
    progress(&format!("Generating {} people…", options.people));
    let people = generate(&mut rng, options.people);
    let files = dir.join("files");
    let crm = files.join("crm-export.csv");
    write_crm(&crm, &people)?;
    progress("Importing the CRM export…");
    import_people(&mut ledger, &crm, &ImportOptions::default())?;
    progress("Registering suppliers…");
    register_suppliers(&mut ledger)?;
    progress("Recording shares…");
    record_shares(&mut ledger, &people, &files, &mut rng, progress)?;
    let at = parse_instant(AWARE_AT, &ledger.zone)?;
    let incident_holdings = holdings(&ledger, INCIDENT_SUPPLIER, at, false)?;
    progress("Opening the incident of 29 October 2021…");
    let incident = crate::incident::run(&mut ledger, INCIDENT_SUPPLIER, AWARE_AT)?;
    progress("Sending the processor its questionnaire…");
    let questionnaire = crate::questionnaire::run(&mut ledger, incident.incident, options.smtp.clone())?;
    progress("Loading the requests that followed…");
    let senders: Vec<String> = people
        .iter()
        .filter(|person| person.left.is_none())
        .filter_map(|person| person.email.clone())
        .take(50_000)
        .collect();
    let requests = crate::requests::run(&mut ledger, &files, &senders, &mut rng)?;
    progress(if options.smtp.is_some() {
        "Sending the notices to the mail server…"
    } else {
        "Counting the notices…"
    });
    let incident_id = incident.incident;
    progress("Matching a leaked file against the ledger…");
    let leak = crate::leak::run(&mut ledger, &files, incident_id)?;
    let notices = crate::notices::run(dir, actor, incident_id, options.smtp.clone())?;
    let counts = custody_store::Store::people_counts(ledger.store.as_ref())?;
    let people_summary = PersonCategory::ALL
        .iter()
        .map(|category| {
            let count = |status| {
                counts
                    .iter()
                    .filter(|(c, s, _)| c == category && *s == status)
                    .map(|(_, _, n)| *n)
                    .sum()
            };
            (
                category.as_str().to_owned(),
                count(custody_core::PersonStatus::Current),
                count(custody_core::PersonStatus::Former),
            )
        })
        .collect();
    Ok(DemoSummary {
        dir: dir.display().to_string(),
        people: people_summary,
        suppliers: custody_store::Store::suppliers(ledger.store.as_ref())?.len(),
        shares: custody_store::Store::shares(ledger.store.as_ref(), None)?.len(),
        incident_holdings,
        incident,
        questionnaire,
        requests,
        notices,
        leak,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn register_suppliers(ledger: &mut Ledger) -> Result<()> {
    let processor = |name: &str, hours: u32| SupplierInput {
        name: name.to_owned(),
        role: SupplierRole::Processor,
        parent: None,
        notice_hours: Some(hours),
        contract: Some(format!("DPA-{}", name.len() * 37)),
        contact: Some("privacy@supplier.example.com".to_owned()),
        country: Some("GB".to_owned()),
        transfer_safeguard: None,
    };
    for (name, hours) in [
        (INCIDENT_SUPPLIER, 24),
        ("Example Hosted CRM", 48),
        ("Example Payments", 24),
        ("Example Telephony Agency", 72),
        ("Example Events", 72),
        ("Example Survey Tool", 48),
        ("Example Print House", 72),
        ("Example Fundraising Platform", 48),
        ("Example Data Cleansing", 72),
        ("Example Canvassing App", 48),
    ] {
        add_supplier(ledger, processor(name, hours))?;
    }
    for (name, email, role) in [
        (
            "Sam Okafor",
            "security@membership-services.example",
            custody_core::ContactRole::Security,
        ),
        (
            "Priya Shah",
            "dpo@membership-services.example",
            custody_core::ContactRole::Dpo,
        ),
        (
            "Tom Reyes",
            "accounts@membership-services.example",
            custody_core::ContactRole::Account,
        ),
    ] {
        custody_app::ledger::contacts::add(
            ledger,
            INCIDENT_SUPPLIER,
            custody_app::ledger::contacts::ContactInput {
                name: name.to_owned(),
                email: email.to_owned(),
                role,
            },
        )?;
    }
    for name in ["Example Cloud Backup", "Example Mail Delivery"] {
        add_supplier(
            ledger,
            SupplierInput {
                role: SupplierRole::SubProcessor,
                parent: Some(INCIDENT_SUPPLIER.to_owned()),
                // The mail sub-processor keeps data in the US under the UK's transfer agreement
                // (access answers name it, Art. 15(2)).
                country: (name == "Example Mail Delivery").then(|| "US".to_owned()),
                transfer_safeguard: (name == "Example Mail Delivery")
                    .then(|| "the UK International Data Transfer Agreement (IDTA)".to_owned()),
                ..processor(name, 24)
            },
        )?;
    }
    Ok(())
}

fn at(ledger: &Ledger, text: &str) -> Result<Instant> {
    Ok(parse_instant(text, &ledger.zone)?)
}

struct Export<'a> {
    supplier: &'a str,
    at: &'a str,
    purpose: &'a str,
    layout: Layout,
    canaries: usize,
    retention_days: Option<u32>,
    deleted: Option<(&'a str, Option<&'a str>)>,
}

fn record_shares(
    ledger: &mut Ledger,
    people: &[DemoPerson],
    files: &Path,
    rng: &mut fastrand::Rng,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    let keys = |list: &[&str]| {
        list.iter()
            .map(|key| CategoryKey::parse(key))
            .collect::<custody_core::Result<Vec<_>>>()
    };
    let feed = |supplier: &str,
                from: &str,
                to: Option<&str>,
                audience: Vec<PersonCategory>,
                categories: Vec<CategoryKey>| {
        (
            supplier.to_owned(),
            from.to_owned(),
            to.map(str::to_owned),
            audience,
            categories,
        )
    };
    let feeds = vec![
        feed(
            INCIDENT_SUPPLIER,
            "2016-04-01",
            None,
            vec![PersonCategory::Member, PersonCategory::RegisteredSupporter],
            keys(&[
                "user.unique_id",
                "user.name",
                "user.contact.email",
                "user.contact.phone_number",
                "user.contact.address.postal_code",
                "user.demographic.date_of_birth",
            ])?,
        ),
        feed(
            "Example Hosted CRM",
            "2018-01-15",
            None,
            PersonCategory::ALL.to_vec(),
            keys(&[
                "user.unique_id",
                "user.name",
                "user.contact.email",
                "user.contact.address.postal_code",
            ])?,
        ),
        feed(
            "Example Payments",
            "2019-06-01",
            None,
            vec![PersonCategory::Donor, PersonCategory::Member],
            keys(&["user.unique_id", "user.name", "user.financial.bank_account"])?,
        ),
    ];
    for (supplier, from, to, audience, categories) in feeds {
        let from = at(ledger, &from)?;
        let to = to.map(|text| at(ledger, &text)).transpose()?;
        declare_feed(
            ledger,
            FeedInput {
                supplier,
                categories,
                audience,
                from,
                to,
                purpose: "standing sync".to_owned(),
                marketing: false,
                retention_days: None,
            },
        )?;
    }
    let exports = [
        Export {
            supplier: INCIDENT_SUPPLIER,
            at: "2020-03-02 09:00",
            purpose: "spring members' mailing",
            layout: Layout::Mailing,
            canaries: 5,
            retention_days: Some(90),
            deleted: None,
        },
        Export {
            supplier: INCIDENT_SUPPLIER,
            at: "2021-09-01 09:00",
            purpose: "conference mailing",
            layout: Layout::Mailing,
            canaries: 5,
            retention_days: Some(90),
            deleted: None,
        },
        Export {
            supplier: "Example Mail Delivery",
            at: "2021-09-02 10:00",
            purpose: "conference mailing delivery",
            layout: Layout::Mailing,
            canaries: 0,
            retention_days: Some(30),
            deleted: None,
        },
        Export {
            supplier: "Example Cloud Backup",
            at: "2020-11-01 02:00",
            purpose: "backup of the mailing database",
            layout: Layout::Print,
            canaries: 0,
            retention_days: Some(365),
            deleted: Some(("2021-11-30 12:00", None)),
        },
        Export {
            supplier: "Example Telephony Agency",
            at: "2019-10-10 12:00",
            purpose: "general election phone bank",
            layout: Layout::Telephony,
            canaries: 3,
            retention_days: Some(60),
            deleted: Some(("2020-01-20 12:00", None)),
        },
        Export {
            supplier: "Example Events",
            at: "2021-08-15 12:00",
            purpose: "conference registrations",
            layout: Layout::Mailing,
            canaries: 0,
            retention_days: Some(60),
            deleted: None,
        },
        Export {
            supplier: "Example Survey Tool",
            at: "2021-05-05 12:00",
            purpose: "members' survey",
            layout: Layout::Survey,
            canaries: 0,
            retention_days: Some(180),
            deleted: Some(("2021-12-01 12:00", None)),
        },
        Export {
            supplier: "Example Print House",
            at: "2020-02-01 12:00",
            purpose: "ballot papers",
            layout: Layout::Print,
            canaries: 2,
            retention_days: Some(30),
            deleted: Some(("2020-06-01 12:00", Some("2020-09-01 00:00"))),
        },
        Export {
            supplier: "Example Fundraising Platform",
            at: "2021-01-10 12:00",
            purpose: "winter appeal",
            layout: Layout::Mailing,
            canaries: 2,
            retention_days: Some(90),
            deleted: None,
        },
        Export {
            supplier: "Example Data Cleansing",
            at: "2017-05-01 12:00",
            purpose: "address cleansing",
            layout: Layout::Print,
            canaries: 0,
            retention_days: Some(30),
            deleted: Some(("2017-07-01 12:00", None)),
        },
        Export {
            supplier: "Example Canvassing App",
            at: "2021-04-01 12:00",
            purpose: "local election canvassing",
            layout: Layout::Telephony,
            canaries: 5,
            retention_days: Some(45),
            deleted: None,
        },
    ];
    for (index, export) in exports.iter().enumerate() {
        let when = at(ledger, export.at)?;
        let today = when.local_day(&ledger.zone).date();
        let civil = |(year, month, day): (i16, i8, i8)| jiff::civil::Date::new(year, month, day).ok();
        let chosen: Vec<&DemoPerson> = people
            .iter()
            .filter(|person| civil(person.joined).is_some_and(|joined| joined <= today))
            .filter(|person| person.left.and_then(civil).is_none_or(|left| left > today))
            .filter(|person| match export.layout {
                Layout::Mailing | Layout::Print => {
                    matches!(person.category, PersonCategory::Member) || rng.u8(0..100) < 3
                }
                Layout::Telephony => person.phone.is_some() || rng.u16(0..1000) < 5,
                Layout::Survey => {
                    matches!(person.category, PersonCategory::Member)
                        && person.email.is_some()
                        && rng.u8(0..100) < 40
                }
            })
            .collect();
        let path = files.join(format!("share-{:02}.csv", index + 1));
        write_export(&path, &chosen, export.layout)?;
        progress(&format!(
            "  {} ({} rows) to {}",
            export.purpose,
            chosen.len(),
            export.supplier
        ));
        let canaries = (export.canaries > 0).then(|| (export.canaries, path.with_extension("sent.csv")));
        let report = record_export(
            ledger,
            RecordInput {
                supplier: export.supplier.to_owned(),
                purpose: export.purpose.to_owned(),
                marketing: false,
                at: Some(when),
                retention_days: export.retention_days,
                maps: Vec::new(),
                canaries,
                file: path.clone(),
            },
        )?;
        if let Some((confirmed, backups)) = export.deleted {
            let confirmed = at(ledger, confirmed)?;
            let backups = backups.map(|text| at(ledger, text)).transpose()?;
            confirm_deletion(ledger, report.share, confirmed, backups, None)?;
        }
    }
    Ok(())
}

/// The default demo directory.
pub fn default_dir() -> PathBuf {
    PathBuf::from("custody-demo")
}
