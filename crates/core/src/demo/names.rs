//! Word lists the organisation is made from. ASCII letters only, so that every name is also a
//! valid account name, e-mail local part and LDAP relative name without escaping.

use super::depts::{ENG, EXEC, FIN, GENERAL, HR, IT, LEGAL, MKT, OPS, PROD, SALES, SUP};

/// Separated by whitespace: one string keeps two hundred names on a dozen lines.
pub(super) const FIRST_NAMES: &str = "\
James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara \
Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony \
Sandra Mark Ashley Steven Emily Paul Donna Andrew Michelle Joshua Carol Kevin Amanda Brian \
Melissa George Deborah Timothy Stephanie Ronald Rebecca Jason Laura Ryan Helen Jacob Sharon \
Gary Cynthia Nicholas Kathleen Eric Amy Jonathan Angela Stephen Anna Larry Ruth Justin \
Brenda Scott Pamela Brandon Nicole Benjamin Katherine Samuel Samantha Gregory Christine \
Alexander Emma Patrick Catherine Frank Debra Raymond Rachel Jack Carolyn Dennis Janet Jerry \
Maria Tyler Heather Aaron Diane Jose Julie Adam Joyce Nathan Victoria Henry Olivia Zachary \
Kelly Peter Christina Kyle Lauren Noah Joan Ethan Evelyn Jeremy Judith Walter Megan \
Christian Andrea Keith Cheryl Roger Hannah Terry Jacqueline Austin Martha Sean Madison \
Gerald Teresa Carl Gloria Harold Sara Dylan Janice Arthur Ann Lawrence Kathryn Jordan \
Abigail Jesse Sophia Bryan Frances Billy Jean Bruce Alice Gabriel Judy Joe Isabella Logan \
Julia Alan Grace Juan Amber Wayne Denise Elijah Danielle Randy Marilyn Roy Beverly Vincent \
Charlotte Ralph Natalie Eugene Theresa Russell Diana Bobby Brittany Mason Doris Philip Kayla \
Louis Alexis Priya Wei Aisha Mohammed Yuki Carlos Fatima Arjun Mei Lucas Ingrid Mateo Sofia
";

pub(super) const LAST_NAMES: &str = "\
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez \
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris \
Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill \
Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips \
Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook \
Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward \
Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez \
Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan \
Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson \
Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera \
Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison \
Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker \
Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason \
Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox \
Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan \
Gardner Payne Grant Dunn Kumar Singh Wang Zhang Tanaka Muller Schneider Rossi
";

/// Offices and how many people (in relative terms) work in each.
pub(super) const LOCATIONS: &[(&str, u32)] = &[
    ("London", 24),
    ("New York", 20),
    ("San Francisco", 15),
    ("Berlin", 10),
    ("Austin", 9),
    ("Toronto", 8),
    ("Singapore", 8),
    ("Dublin", 6),
];

/// What entitlements give access to, and the department that mostly works there (`GENERAL`
/// for company-wide areas and projects).
pub(super) const AREAS: &[(&str, u8)] = &[
    ("Board", EXEC),
    ("Strategy", EXEC),
    ("Platform", ENG),
    ("Payments", ENG),
    ("Mobile", ENG),
    ("Frontend", ENG),
    ("Backend", ENG),
    ("Data-Platform", ENG),
    ("ML", ENG),
    ("Release", ENG),
    ("Roadmap", PROD),
    ("Design", PROD),
    ("Research", PROD),
    ("Product-Analytics", PROD),
    ("Sales-EMEA", SALES),
    ("Sales-NA", SALES),
    ("Sales-APAC", SALES),
    ("Partners", SALES),
    ("Deals", SALES),
    ("Campaigns", MKT),
    ("Brand", MKT),
    ("Web", MKT),
    ("Events", MKT),
    ("Support-Tier1", SUP),
    ("Support-Tier2", SUP),
    ("Escalations", SUP),
    ("Knowledge-Base", SUP),
    ("Logistics", OPS),
    ("Facilities", OPS),
    ("Procurement", OPS),
    ("Vendors", OPS),
    ("Payroll", FIN),
    ("Accounts-Payable", FIN),
    ("Accounts-Receivable", FIN),
    ("Treasury", FIN),
    ("Tax", FIN),
    ("Audit", FIN),
    ("Recruiting", HR),
    ("Benefits", HR),
    ("Compensation", HR),
    ("People-Data", HR),
    ("Contracts", LEGAL),
    ("Compliance", LEGAL),
    ("Litigation", LEGAL),
    ("Infrastructure", IT),
    ("Network", IT),
    ("Security", IT),
    ("Helpdesk", IT),
    ("Identity", IT),
    ("Backups", IT),
    ("All-Staff", GENERAL),
    ("Apollo", GENERAL),
    ("Orion", GENERAL),
    ("Atlas", GENERAL),
    ("Phoenix", GENERAL),
    ("Reporting", GENERAL),
];

/// An access level: its name, how a description starts, and the rights it grants.
#[derive(Debug)]
pub(super) struct Level {
    pub name: &'static str,
    pub phrase: &'static str,
    pub rights: &'static [&'static str],
}

const fn level(name: &'static str, phrase: &'static str, rights: &'static [&'static str]) -> Level {
    Level {
        name,
        phrase,
        rights,
    }
}

pub(super) const LEVELS: &[Level] = &[
    level("Read", "Read-only access to", &["read"]),
    level("Viewer", "View access to", &["read"]),
    level("Write", "Read and write access to", &["read", "write"]),
    level("Editor", "Edit access to", &["read", "write"]),
    level(
        "Contributor",
        "Contributor access to",
        &["read", "write", "create"],
    ),
    level("Approver", "Approval rights on", &["read", "approve"]),
    level("Reporter", "Reporting access to", &["read", "export"]),
    level("User", "Standard user access to", &["read", "write"]),
];

/// Levels that make an entitlement privileged.
pub(super) const ADMIN_LEVELS: &[Level] = &[
    level(
        "Admin",
        "Administrative access to",
        &["read", "write", "delete", "admin"],
    ),
    level(
        "Owner",
        "Full ownership of",
        &["read", "write", "delete", "admin", "grant"],
    ),
    level(
        "Superuser",
        "Unrestricted access to",
        &["read", "write", "delete", "admin"],
    ),
    level(
        "FullControl",
        "Full control over",
        &["read", "write", "delete", "admin", "grant"],
    ),
    level(
        "Operator",
        "Privileged operator access to",
        &["read", "write", "execute", "admin"],
    ),
];

/// Names of the systems behind service accounts.
pub(super) const SERVICE_WORDS: &[&str] = &[
    "backup",
    "jenkins",
    "deploy",
    "monitoring",
    "etl",
    "reporting",
    "sync",
    "scanner",
    "batch",
    "integration",
    "ldap-bind",
    "billing",
    "mailer",
    "terraform",
    "airflow",
    "sso-bridge",
];

/// How access profiles are named after their area.
pub(super) const PROFILE_KINDS: &[&str] = &[
    "Standard Access",
    "Power User",
    "Read Only",
    "Team Access",
    "Approvers",
    "Analysts",
];
