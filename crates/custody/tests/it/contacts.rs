//! The people at a supplier whom custody writes to: added, listed, shown, removed, audited.

use crate::support::Env;

#[test]
fn a_suppliers_contacts_are_added_listed_and_removed_with_clear_refusals() {
    let env = Env::new();
    env.ok(&["supplier", "add", "Mailing House", "--role", "processor"]);
    let added = env.ok(&[
        "supplier",
        "contact",
        "add",
        "Mailing House",
        "--email",
        " Sam.Lee@Mailing.Example ",
        "--name",
        "Sam Lee",
        "--role",
        "security",
    ]);
    assert!(
        added.stdout.contains("sam.lee@mailing.example"),
        "{}",
        added.stdout
    );
    env.ok(&[
        "supplier",
        "contact",
        "add",
        "mailing house",
        "--email",
        "dpo@mailing.example",
        "--name",
        "Ada Roe",
        "--role",
        "dpo",
    ]);
    let listed = env
        .ok(&["supplier", "contact", "list", "Mailing House", "--json"])
        .json();
    let listed: Vec<(String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|contact| {
            (
                contact["role"].as_str().unwrap().to_owned(),
                contact["email"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("security".to_owned(), "sam.lee@mailing.example".to_owned()),
            ("dpo".to_owned(), "dpo@mailing.example".to_owned())
        ]
    );
    let shown = env.ok(&["supplier", "show", "Mailing House"]).stdout;
    assert!(
        shown.contains("Contact (dpo): Ada Roe <dpo@mailing.example>"),
        "{shown}"
    );

    // Refused, and nothing changed: the same address again, not an address, an unknown role or
    // supplier, a name over two lines.
    let again = env.fails(
        &[
            "supplier",
            "contact",
            "add",
            "Mailing House",
            "--email",
            "SAM.LEE@mailing.example",
            "--name",
            "S",
            "--role",
            "account",
        ],
        1,
    );
    assert!(again.contains("contact of this supplier already"), "{again}");
    let not_address = env.fails(
        &[
            "supplier",
            "contact",
            "add",
            "Mailing House",
            "--email",
            "sam at mailing",
            "--name",
            "S",
            "--role",
            "account",
        ],
        1,
    );
    assert!(not_address.contains("is not an email address"), "{not_address}");
    let role = env.fails(
        &[
            "supplier",
            "contact",
            "add",
            "Mailing House",
            "--email",
            "x@mailing.example",
            "--name",
            "S",
            "--role",
            "boss",
        ],
        2,
    );
    assert!(role.contains("security") && role.contains("account"), "{role}");
    let nobody = env.fails(
        &[
            "supplier",
            "contact",
            "add",
            "Printer",
            "--email",
            "x@printer.example",
            "--name",
            "S",
            "--role",
            "dpo",
        ],
        1,
    );
    assert!(nobody.contains("no supplier named"), "{nobody}");
    let two_lines = env.fails(
        &[
            "supplier",
            "contact",
            "add",
            "Mailing House",
            "--email",
            "x@mailing.example",
            "--name",
            "Sam\nLee",
            "--role",
            "dpo",
        ],
        1,
    );
    assert!(two_lines.contains("on one line"), "{two_lines}");
    let count = |env: &Env| {
        env.ok(&["supplier", "contact", "list", "Mailing House", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count(&env), 2);

    env.ok(&[
        "supplier",
        "contact",
        "remove",
        "Mailing House",
        "--email",
        "Sam.Lee@mailing.example",
    ]);
    assert_eq!(count(&env), 1);
    let gone = env.fails(
        &[
            "supplier",
            "contact",
            "remove",
            "Mailing House",
            "--email",
            "sam.lee@mailing.example",
        ],
        1,
    );
    assert!(gone.contains("is not a contact of Mailing House"), "{gone}");
    let audit = env.ok(&["audit", "export"]).stdout;
    assert_eq!(audit.matches("supplier.contact.add").count(), 2, "{audit}");
    assert_eq!(audit.matches("supplier.contact.remove").count(), 1, "{audit}");
    env.ok(&["audit", "verify"]);
}
