//! The systems of the organisation and how each names its access and its accounts.

use self::Key::{Dn, Email, EmployeeNumber, Login};
use self::Style::{
    Ad, AwsRoles, DbRoles, Groups, PermissionSets, Roles, SapRoles, SecurityGroups, Teams,
};
use super::depts::{ENG, EXEC, FIN, GENERAL, HR, IT, LEGAL, MKT, OPS, PROD, SALES, SUP};

/// How a source spells an entitlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    /// `memberOf` = `CN=Finance-Read,OU=Groups,DC=example,DC=com`
    Ad,
    /// `groups` = `finance-read`
    Groups,
    /// `permissionSets` = `Finance_Read`
    PermissionSets,
    /// `teams` = `example/finance-read`
    Teams,
    /// `roles` = `arn:aws:iam::123456789012:role/Finance-Read`
    AwsRoles,
    /// `roles` = `finance_read`
    Roles,
    /// `role` = `FINANCE_READ`
    DbRoles,
    /// `roles` = `Z_FINANCE_READ`
    SapRoles,
    /// `securityGroups` = `Finance Read`
    SecurityGroups,
}

/// What an account on the source is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
    Dn,
    Email,
    Login,
    EmployeeNumber,
}

#[derive(Debug)]
pub(super) struct Template {
    pub name: &'static str,
    pub source_type: &'static str,
    pub description: &'static str,
    pub style: Style,
    pub key: Key,
    /// The departments that use it, the owning one first; `GENERAL` when everyone does.
    pub depts: &'static [u8],
    /// How large its entitlement catalogue is, relative to the others.
    pub size: u32,
}

impl Template {
    pub(super) fn everyone(&self) -> bool {
        self.depts.contains(&GENERAL)
    }

    pub(super) fn owner_dept(&self) -> u8 {
        self.depts[0]
    }
}

const fn t(
    name: &'static str,
    source_type: &'static str,
    description: &'static str,
    style: Style,
    key: Key,
    depts: &'static [u8],
    size: u32,
) -> Template {
    Template {
        name,
        source_type,
        description,
        style,
        key,
        depts,
        size,
    }
}

const SAAS: &str = "SaaS";
const DB: &str = "Database";
const CLOUD: &str = "Cloud";

/// Most important first: small organisations get the first ones only.
#[rustfmt::skip] // one source a line reads as a table; rustfmt would spread each over nine
pub(super) const TEMPLATES: &[Template] = &[
    t("Active Directory", "Active Directory", "Corporate Windows domain",
        Ad, Dn, &[IT, GENERAL], 4),
    t("Okta", "Identity Provider", "Single sign-on and MFA", Groups, Email, &[IT, GENERAL], 2),
    t("Workday", "HR System", "Core HR and self-service",
        SecurityGroups, EmployeeNumber, &[HR, GENERAL], 2),
    t("Microsoft 365", SAAS, "Mail, calendars and files", Groups, Email, &[IT, GENERAL], 2),
    t("Slack", SAAS, "Company chat", Groups, Email, &[IT, GENERAL], 1),
    t("Salesforce", SAAS, "CRM: accounts and opportunities",
        PermissionSets, Email, &[SALES, SUP, MKT], 3),
    t("GitHub", "Source Control", "Source code and CI", Teams, Login, &[ENG, PROD, IT], 2),
    t("AWS Production", CLOUD, "Production AWS accounts", AwsRoles, Email, &[ENG, IT], 3),
    t("SAP Finance", "ERP", "General ledger, AP and AR", SapRoles, Login, &[FIN, OPS], 3),
    t("Jira", SAAS, "Issue tracking", Groups, Email, &[ENG, PROD, SUP, IT], 1),
    t("Confluence", SAAS, "Team wiki", Groups, Email, &[ENG, PROD, SUP, IT, LEGAL], 1),
    t("ServiceNow", "ITSM", "IT service management", Roles, Email, &[IT, SUP, OPS], 2),
    t("Snowflake", DB, "Data warehouse", DbRoles, Login, &[ENG, FIN, PROD, MKT], 2),
    t("GlobalProtect VPN", "Network", "Remote access VPN", Groups, Login, &[IT, GENERAL], 1),
    t("Zendesk", SAAS, "Customer support tickets", Roles, Email, &[SUP], 1),
    t("HubSpot", SAAS, "Marketing automation", PermissionSets, Email, &[MKT, SALES], 1),
    t("Tableau", "BI", "Dashboards and reports", Groups, Email, &[FIN, SALES, MKT, PROD, OPS], 1),
    t("Oracle Billing", DB, "Billing database", DbRoles, Login, &[FIN, ENG, IT], 2),
    t("Coupa", SAAS, "Procurement and spend", Roles, Email, &[OPS, FIN], 1),
    t("Greenhouse", SAAS, "Recruiting", Roles, Email, &[HR], 1),
    t("DocuSign", SAAS, "Electronic signatures", Groups, Email, &[LEGAL, SALES, FIN], 1),
    t("Linux Servers", "Unix", "Production Linux hosts", Groups, Login, &[IT, ENG], 2),
    t("Azure", CLOUD, "Azure subscriptions", Roles, Email, &[IT, ENG], 2),
    t("SAP Concur", SAAS, "Travel and expenses", Roles, Email, &[FIN, GENERAL], 1),
    t("ADP Payroll", "HR System", "Payroll", SecurityGroups, EmployeeNumber, &[HR, FIN], 1),
    t("CyberArk", "Privileged Access", "Privileged credential vault", Roles, Login, &[IT], 1),
    t("Datadog", SAAS, "Monitoring and logs", Roles, Email, &[ENG, IT, SUP], 1),
    t("Diligent Boards", SAAS, "Board materials", Roles, Email, &[EXEC, LEGAL, FIN], 1),
    t("Figma", SAAS, "Product design", Groups, Email, &[PROD, MKT, ENG], 1),
    t("PagerDuty", SAAS, "On-call and incidents", Roles, Email, &[ENG, IT, SUP], 1),
    t("AWS Staging", CLOUD, "Staging AWS accounts", AwsRoles, Email, &[ENG], 2),
    t("Kubernetes Production", CLOUD, "Production clusters", Roles, Login, &[ENG, IT], 2),
    t("PostgreSQL Orders", DB, "Order management database", DbRoles, Login, &[ENG, OPS], 1),
    t("Box", SAAS, "External file sharing", Groups, Email, &[IT, GENERAL], 1),
    t("Marketo", SAAS, "Marketing campaigns", Roles, Email, &[MKT], 1),
    t("Ironclad", SAAS, "Contract management", Roles, Email, &[LEGAL], 1),
    t("Splunk", "SIEM", "Security event logs", Roles, Login, &[IT, ENG], 1),
    t("Gong", SAAS, "Sales call recording", Roles, Email, &[SALES], 1),
    t("Adobe Creative Cloud", SAAS, "Design tools", Groups, Email, &[MKT, PROD], 1),
];

/// About 30 sources for a thousand people and 50 for a hundred thousand: organisations add
/// systems much more slowly than people.
pub(super) fn source_count(identities: usize) -> usize {
    (3 * identities.max(1).ilog2() as usize + 3).clamp(3, 90)
}

/// The template of the `k`-th source and its name; past the end of the table the list starts
/// over with numbered second instances (another AWS account, an acquired company's directory).
pub(super) fn source_name(k: usize) -> (&'static Template, String) {
    let tpl = &TEMPLATES[k % TEMPLATES.len()];
    match k / TEMPLATES.len() {
        0 => (tpl, tpl.name.to_owned()),
        round => (tpl, format!("{} {}", tpl.name, round + 1)),
    }
}

/// The attribute name, entitlement name and value for access `base` (`Area-Level`).
pub(super) fn spell(style: Style, base: &str, aws_account: u64) -> (&'static str, String, String) {
    let lower = || base.to_ascii_lowercase();
    let upper = || base.to_ascii_uppercase().replace('-', "_");
    match style {
        Ad => (
            "memberOf",
            base.to_owned(),
            format!("CN={base},OU=Groups,DC=example,DC=com"),
        ),
        Groups => ("groups", lower(), lower()),
        PermissionSets => (
            "permissionSets",
            base.replace('-', " "),
            base.replace('-', "_"),
        ),
        Teams => ("teams", lower(), format!("example/{}", lower())),
        AwsRoles => (
            "roles",
            base.to_owned(),
            format!("arn:aws:iam::{aws_account:012}:role/{base}"),
        ),
        Roles => (
            "roles",
            lower().replace('-', "_"),
            lower().replace('-', "_"),
        ),
        DbRoles => ("role", upper(), upper()),
        SapRoles => ("roles", format!("Z_{}", upper()), format!("Z_{}", upper())),
        SecurityGroups => (
            "securityGroups",
            base.replace('-', " "),
            base.replace('-', " "),
        ),
    }
}

/// Where the permissions of an entitlement on `area` point: the area itself, then its reports
/// and its archive.
pub(super) fn targets(style: Style, area: &str) -> [String; 3] {
    let lower = area.to_ascii_lowercase();
    let (base, reports, archive) = match style {
        Ad => (
            format!("\\\\files.example.com\\{area}"),
            "\\Reports",
            "\\Archive",
        ),
        AwsRoles => (
            format!("arn:aws:s3:::example-{lower}"),
            "/reports/*",
            "/archive/*",
        ),
        DbRoles | SapRoles => (
            area.to_ascii_uppercase().replace('-', "_"),
            ".REPORTS",
            ".ARCHIVE",
        ),
        _ => (format!("/{lower}"), "/reports", "/archive"),
    };
    let (reports, archive) = (base.clone() + reports, base.clone() + archive);
    [base, reports, archive]
}
