//! Saved queries (IQA documents under `$/…`): the parameter each takes, which parties it finds
//! eligible and the columns it returns. The Query service (`/api/query`) and IQA (`/api/iqa`)
//! both run them; only their rows' shapes differ (`wire::query_row`, `wire::iqa_row`).

use serde::{Deserialize, Serialize};

use super::dataset::Party;
use super::filter::Condition;

/// What the query's one prompt is compared with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParameterKind {
    /// The query takes no parameter and lists every eligible party.
    None,
    /// The party's iMIS id.
    Id,
    /// Any of the party's emails.
    Email,
    /// Either.
    #[default]
    IdOrEmail,
}

/// Which parties the query returns at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Eligibility {
    #[default]
    None,
    /// `IsMember` is true.
    MembersOnly,
    /// `CustomerTypeCode` is one of these (without regard to case).
    CustomerTypes(Vec<String>),
}

/// A column a saved query may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Column {
    ImisId,
    FirstName,
    LastName,
    Email,
    Company,
    Title,
    MemberType,
}

impl Column {
    pub const ALL: [Column; 7] = [
        Column::ImisId,
        Column::FirstName,
        Column::LastName,
        Column::Email,
        Column::Company,
        Column::Title,
        Column::MemberType,
    ];

    /// The column's display name, as rows carry it.
    pub fn name(self) -> &'static str {
        match self {
            Column::ImisId => "ImisId",
            Column::FirstName => "FirstName",
            Column::LastName => "LastName",
            Column::Email => "Email",
            Column::Company => "Company",
            Column::Title => "Title",
            Column::MemberType => "MemberType",
        }
    }

    /// The party's value in this column; empty text where the party has none, as IQA answers.
    pub fn value(self, party: &Party) -> String {
        match self {
            Column::ImisId => party.id.clone(),
            Column::FirstName => party.first_name.clone(),
            Column::LastName => party.last_name.clone(),
            Column::Email => party.primary_email().to_string(),
            Column::Company => party.company.clone().unwrap_or_default(),
            Column::Title => party.title.clone().unwrap_or_default(),
            Column::MemberType => party.member_type.clone(),
        }
    }

    fn all() -> Vec<Column> {
        Column::ALL.to_vec()
    }
}

fn enabled() -> bool {
    true
}

/// A saved query as `PUT /_sandbox/queries` takes and `GET` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedQuery {
    /// The document path, such as `$/Events/Cvent/Eligible members`.
    pub name: String,
    /// Whether the query is available through the REST API; a call to one that is not is a 403.
    #[serde(default = "enabled")]
    pub rest_enabled: bool,
    #[serde(default)]
    pub parameter: ParameterKind,
    #[serde(default)]
    pub condition: Eligibility,
    #[serde(default = "Column::all")]
    pub columns: Vec<Column>,
}

impl SavedQuery {
    /// The queries a site starts with.
    pub fn defaults() -> Vec<SavedQuery> {
        vec![
            SavedQuery {
                name: "$/Events/Cvent/Eligible members".into(),
                rest_enabled: true,
                parameter: ParameterKind::IdOrEmail,
                condition: Eligibility::MembersOnly,
                columns: Column::all(),
            },
            SavedQuery {
                name: "$/Events/Cvent/Everyone".into(),
                rest_enabled: true,
                parameter: ParameterKind::IdOrEmail,
                condition: Eligibility::None,
                columns: Column::all(),
            },
            SavedQuery {
                name: "$/Events/Cvent/Not for REST".into(),
                rest_enabled: false,
                parameter: ParameterKind::IdOrEmail,
                condition: Eligibility::None,
                columns: Column::all(),
            },
        ]
    }

    /// Why the query cannot be saved, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        let name = self.name.trim();
        if !name.starts_with("$/") {
            return Err(format!("the query name '{name}' must start with $/"));
        }
        if self.columns.is_empty() {
            return Err(format!("the query '{name}' needs at least one column"));
        }
        Ok(())
    }

    pub fn is_eligible(&self, party: &Party) -> bool {
        match &self.condition {
            Eligibility::None => true,
            Eligibility::MembersOnly => party.is_member,
            Eligibility::CustomerTypes(types) => types
                .iter()
                .any(|code| code.trim().eq_ignore_ascii_case(&party.member_type)),
        }
    }

    /// Whether the party answers the prompt; a query without a parameter takes every party.
    pub fn answers(&self, party: &Party, prompt: Option<&Condition>) -> bool {
        let Some(prompt) = prompt else {
            return self.parameter == ParameterKind::None;
        };
        let by_id = || prompt.matches(&party.id);
        let by_email = || prompt.matches_any(&party.emails);
        match self.parameter {
            ParameterKind::None => true,
            ParameterKind::Id => by_id(),
            ParameterKind::Email => by_email(),
            ParameterKind::IdOrEmail => by_id() || by_email(),
        }
    }

    /// The parties the query returns, in id order.
    pub fn run<'a>(
        &self,
        parties: impl Iterator<Item = &'a Party>,
        prompt: Option<&Condition>,
    ) -> Vec<&'a Party> {
        parties
            .filter(|party| self.answers(party, prompt) && self.is_eligible(party))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(id: &str, email: &str, is_member: bool, member_type: &str) -> Party {
        Party {
            id: id.into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            emails: vec![email.into()],
            company: None,
            title: None,
            is_member,
            member_type: member_type.into(),
        }
    }

    #[test]
    fn parameters_and_eligibility() {
        let people = [
            party("1", "a@x.example", true, "M"),
            party("2", "b@x.example", false, "NM"),
            party("3", "a@x.example", false, "STU"),
        ];
        let defaults = SavedQuery::defaults();
        let by_email = Condition::parse("eq:A@x.example").expect("parses");
        let ids = |found: Vec<&Party>| found.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(defaults[0].run(people.iter(), Some(&by_email))), ["1"]);
        assert_eq!(
            ids(defaults[1].run(people.iter(), Some(&by_email))),
            ["1", "3"]
        );
        let by_id = Condition::parse("2").expect("parses");
        assert_eq!(ids(defaults[1].run(people.iter(), Some(&by_id))), ["2"]);
        let students = SavedQuery {
            name: "$/Students".into(),
            rest_enabled: true,
            parameter: ParameterKind::None,
            condition: Eligibility::CustomerTypes(vec!["stu".into()]),
            columns: vec![Column::ImisId],
        };
        assert_eq!(ids(students.run(people.iter(), None)), ["3"]);
        let read: SavedQuery = serde_json::from_value(serde_json::json!({
            "name": "$/Q", "condition": {"customer_types": ["M"]}, "parameter": "email"
        }))
        .expect("reads");
        assert_eq!(read.columns, Column::ALL);
        assert!(read.rest_enabled);
        let members: SavedQuery =
            serde_json::from_value(serde_json::json!({"name": "$/Q", "condition": "members_only"}))
                .expect("reads");
        assert_eq!(members.condition, Eligibility::MembersOnly);
    }
}
