//! The departments: their share of the headcount, their titles and their roles.

pub(super) const EXEC: u8 = 0;
pub(super) const ENG: u8 = 1;
pub(super) const PROD: u8 = 2;
pub(super) const SALES: u8 = 3;
pub(super) const MKT: u8 = 4;
pub(super) const SUP: u8 = 5;
pub(super) const OPS: u8 = 6;
pub(super) const FIN: u8 = 7;
pub(super) const HR: u8 = 8;
pub(super) const LEGAL: u8 = 9;
pub(super) const IT: u8 = 10;
/// Not a department: marks what the whole company uses.
pub(super) const GENERAL: u8 = u8::MAX;

#[derive(Debug)]
pub(super) struct Dept {
    pub name: &'static str,
    /// Share of the headcount, relative to the other departments.
    pub weight: u32,
    pub head: &'static str,
    /// The title of managers who report to the head.
    pub director: &'static str,
    pub manager: &'static str,
    /// Titles of people without reports, separated by `|` to keep the table compact.
    pub staff: &'static str,
    /// Role names separated by `|`; the first is the birthright role of the department.
    pub roles: &'static str,
}

const fn dept(
    name: &'static str,
    weight: u32,
    head: &'static str,
    director: &'static str,
    manager: &'static str,
    staff: &'static str,
    roles: &'static str,
) -> Dept {
    Dept {
        name,
        weight,
        head,
        director,
        manager,
        staff,
        roles,
    }
}

/// Indexed by the constants above. The executive office is the CEO alone.
pub(super) const DEPTS: &[Dept] = &[
    dept(
        "Executive",
        0,
        "Chief Executive Officer",
        "Chief of Staff",
        "Chief of Staff",
        "Executive Assistant",
        "Base Access|Board Reporting",
    ),
    dept(
        "Engineering",
        24,
        "Chief Technology Officer",
        "Director of Engineering",
        "Engineering Manager",
        "Software Engineer|Senior Software Engineer|Staff Software Engineer|QA Engineer|\
         Site Reliability Engineer|Data Engineer|DevOps Engineer|Principal Engineer",
        "Base Access|Developer|Senior Developer|Release Manager|On-Call Responder",
    ),
    dept(
        "Product",
        6,
        "Chief Product Officer",
        "Director of Product",
        "Group Product Manager",
        "Product Manager|Senior Product Manager|Product Designer|UX Researcher|Technical Writer",
        "Base Access|Product Manager|Designer|Product Analytics",
    ),
    dept(
        "Sales",
        15,
        "Chief Revenue Officer",
        "Regional Sales Director",
        "Sales Manager",
        "Account Executive|Senior Account Executive|Sales Development Representative|\
         Sales Engineer|Sales Operations Analyst",
        "Base Access|Account Executive|Sales Operations|Sales Leadership",
    ),
    dept(
        "Marketing",
        7,
        "Chief Marketing Officer",
        "Director of Marketing",
        "Marketing Manager",
        "Marketing Specialist|Content Writer|Growth Analyst|Event Coordinator|SEO Specialist",
        "Base Access|Campaign Manager|Content Editor|Marketing Analytics",
    ),
    dept(
        "Support",
        11,
        "VP Customer Support",
        "Director of Support",
        "Support Team Lead",
        "Support Engineer|Senior Support Engineer|Customer Success Manager|\
         Technical Account Manager",
        "Base Access|Tier 1 Agent|Tier 2 Agent|Knowledge Base Editor",
    ),
    dept(
        "Operations",
        9,
        "Chief Operating Officer",
        "Director of Operations",
        "Operations Manager",
        "Operations Analyst|Logistics Coordinator|Facilities Coordinator|Business Analyst|\
         Procurement Specialist",
        "Base Access|Procurement|Logistics|Facilities",
    ),
    dept(
        "Finance",
        7,
        "Chief Financial Officer",
        "Finance Director",
        "Finance Manager",
        "Financial Analyst|Senior Accountant|Accounts Payable Specialist|Payroll Specialist|\
         Controller|Tax Analyst",
        "Base Access|Analyst|Accounts Payable|Payroll|Controller",
    ),
    dept(
        "HR",
        4,
        "Chief People Officer",
        "HR Director",
        "HR Manager",
        "HR Business Partner|Recruiter|Compensation Analyst|People Operations Specialist",
        "Base Access|Recruiter|HR Business Partner|Compensation",
    ),
    dept(
        "Legal",
        3,
        "General Counsel",
        "Associate General Counsel",
        "Legal Manager",
        "Corporate Counsel|Paralegal|Compliance Analyst|Contracts Manager",
        "Base Access|Counsel|Compliance",
    ),
    dept(
        "IT",
        8,
        "Chief Information Officer",
        "Director of IT",
        "IT Manager",
        "Systems Administrator|IT Support Specialist|Network Engineer|Security Engineer|\
         Identity Engineer|Database Administrator",
        "Base Access|Helpdesk|System Administrator|Security Operations|Identity Administrator",
    ),
];
