//! Seeded parties: the same seed and count always give the same people in the same order, with
//! ids from [`FIRST_PARTY_ID`], names, emails, companies and titles drawn from the seed, and about
//! three in five of them members.

use std::collections::HashSet;

use super::dataset::Party;
use crate::seeded::{draw, pick};

/// The first seeded party's iMIS id; the others follow one by one.
pub const FIRST_PARTY_ID: u64 = 10001;

const FIRST_NAMES: [&str; 32] = [
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "John",
    "Margaret",
    "Niklaus",
    "Radia",
    "Ken",
    "Shafi",
    "Tim",
    "Lynn",
    "Dennis",
    "Sophie",
    "Leslie",
    "Anita",
    "Robin",
    "Joan",
    "Vinton",
    "Adele",
    "Colette",
    "Hedy",
    "Guido",
    "Mary",
    "Seymour",
    "Evelyn",
    "Brian",
    "Carol",
];

const LAST_NAMES: [&str; 32] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Johnson",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Backus",
    "Hamilton",
    "Wirth",
    "Perlman",
    "Thompson",
    "Goldwasser",
    "Berners-Lee",
    "Conway",
    "Ritchie",
    "Wilson",
    "Lamport",
    "Borg",
    "Milner",
    "Clarke",
    "Cerf",
    "Goldberg",
    "Shannon",
    "Lamarr",
    "van Rossum",
    "Keller",
    "Papert",
    "Boyd",
    "O'Brien",
    "Shaw",
];

/// Companies and their mail domains (under `.example`, which never resolves).
const COMPANIES: [(&str, &str); 16] = [
    ("Northwind Health", "northwind-health.example"),
    ("Contoso Engineering", "contoso-eng.example"),
    ("Fabrikam Partners", "fabrikam.example"),
    ("Tailspin Consulting", "tailspin.example"),
    ("Adventure Works Cycles", "adventure-works.example"),
    ("Wide World Importers", "wideworld.example"),
    ("Lakeshore University", "lakeshore-u.example"),
    ("Coho Vineyard", "coho.example"),
    ("Alpine Ski House", "alpineski.example"),
    ("Blue Yonder Airlines", "blueyonder.example"),
    ("City Power & Light", "cpandl.example"),
    ("Proseware Inc.", "proseware.example"),
    ("Litware Labs", "litware.example"),
    ("Woodgrove Bank", "woodgrove.example"),
    ("Trey Research", "treyresearch.example"),
    ("Margie's Travel", "margiestravel.example"),
];

/// Where people without a company (and everyone's second address) get their mail.
const PERSONAL_DOMAIN: &str = "mail.example";

const TITLES: [&str; 10] = [
    "Director",
    "Manager",
    "Engineer",
    "Analyst",
    "Consultant",
    "Professor",
    "Coordinator",
    "Chief Executive Officer",
    "Administrator",
    "Student",
];

/// `CustomerTypeCode`s of members and of the others, drawn with these weights.
const MEMBER_TYPES: [&str; 5] = ["M", "M", "M", "STU", "LIFE"];
const NON_MEMBER_TYPES: [&str; 4] = ["NM", "NM", "NM", "STAFF"];

/// Field numbers of the draws, so each field is independent of the others.
const FIRST_NAME: u64 = 1;
const LAST_NAME: u64 = 2;
const HAS_COMPANY: u64 = 3;
const COMPANY: u64 = 4;
const HAS_TITLE: u64 = 5;
const TITLE: u64 = 6;
const IS_MEMBER: u64 = 7;
const MEMBER_TYPE: u64 = 8;
const SECOND_EMAIL: u64 = 9;

/// A name as the local part of an email: lower case, letters and digits only.
fn mailbox(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `count` parties from `seed`. Emails are unique: a name taken at its domain gets the id added.
pub fn parties(seed: u64, count: u64) -> Vec<Party> {
    let mut taken = HashSet::new();
    (0..count)
        .map(|index| {
            let id = (FIRST_PARTY_ID + index).to_string();
            let first_name = pick(&FIRST_NAMES, draw(seed, index, FIRST_NAME));
            let last_name = pick(&LAST_NAMES, draw(seed, index, LAST_NAME));
            let company = (draw(seed, index, HAS_COMPANY) % 100 >= 15)
                .then(|| pick(&COMPANIES, draw(seed, index, COMPANY)));
            let domain = company.map_or(PERSONAL_DOMAIN, |(_, domain)| domain);
            let local = format!("{}.{}", mailbox(first_name), mailbox(last_name));
            let mut email = format!("{local}@{domain}");
            if !taken.insert(email.clone()) {
                email = format!("{local}{id}@{domain}");
                taken.insert(email.clone());
            }
            let mut emails = vec![email];
            if draw(seed, index, SECOND_EMAIL).is_multiple_of(10) {
                // The id keeps it unique without a look at the others.
                emails.push(format!("{local}.{id}@{PERSONAL_DOMAIN}"));
            }
            let is_member = draw(seed, index, IS_MEMBER) % 5 < 3;
            let types: &[&str] = if is_member {
                &MEMBER_TYPES
            } else {
                &NON_MEMBER_TYPES
            };
            Party {
                id,
                first_name: first_name.to_string(),
                last_name: last_name.to_string(),
                emails,
                company: company.map(|(name, _)| name.to_string()),
                title: (draw(seed, index, HAS_TITLE) % 100 >= 20)
                    .then(|| pick(&TITLES, draw(seed, index, TITLE)).to_string()),
                is_member,
                member_type: pick(types, draw(seed, index, MEMBER_TYPE)).to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_parties() {
        assert_eq!(parties(7, 50), parties(7, 50));
        assert_ne!(parties(7, 50), parties(8, 50));
        let people = parties(7, 500);
        assert_eq!(people[0].id, "10001");
        assert_eq!(people[499].id, "10500");
        let emails: HashSet<&String> = people.iter().flat_map(|p| &p.emails).collect();
        let total: usize = people.iter().map(|p| p.emails.len()).sum();
        assert_eq!(emails.len(), total, "seeded emails are unique");
        let members = people.iter().filter(|p| p.is_member).count();
        assert!((200..400).contains(&members), "{members} members");
        assert!(people.iter().any(|p| p.company.is_none()));
        assert!(people.iter().any(|p| p.emails.len() == 2));
    }
}
