//! The schema's versions. Each dialect applies the pending ones in one transaction at open and
//! records them in `schema_migrations`; a database newer than this build is refused, not touched.

pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "workspace",
        sqlite: include_str!("../migrations/sqlite/0001_workspace.sql"),
        postgres: include_str!("../migrations/postgres/0001_workspace.sql"),
    },
    Migration {
        version: 2,
        name: "serve",
        sqlite: include_str!("../migrations/sqlite/0002_serve.sql"),
        postgres: include_str!("../migrations/postgres/0002_serve.sql"),
    },
    Migration {
        version: 3,
        name: "totals",
        sqlite: include_str!("../migrations/sqlite/0003_totals.sql"),
        postgres: include_str!("../migrations/postgres/0003_totals.sql"),
    },
    Migration {
        version: 4,
        name: "packing dictionaries",
        sqlite: include_str!("../migrations/sqlite/0004_packing_dictionaries.sql"),
        postgres: include_str!("../migrations/postgres/0004_packing_dictionaries.sql"),
    },
    Migration {
        version: 5,
        name: "run leases",
        sqlite: include_str!("../migrations/sqlite/0005_run_leases.sql"),
        postgres: include_str!("../migrations/postgres/0005_run_leases.sql"),
    },
    Migration {
        version: 6,
        name: "rate budgets",
        sqlite: include_str!("../migrations/sqlite/0006_rate_budgets.sql"),
        postgres: include_str!("../migrations/postgres/0006_rate_budgets.sql"),
    },
    Migration {
        version: 7,
        name: "planned intervals",
        sqlite: include_str!("../migrations/sqlite/0007_planned_intervals.sql"),
        postgres: include_str!("../migrations/postgres/0007_planned_intervals.sql"),
    },
    Migration {
        version: 8,
        name: "change feed",
        sqlite: include_str!("../migrations/sqlite/0008_change_feed.sql"),
        postgres: include_str!("../migrations/postgres/0008_change_feed.sql"),
    },
    Migration {
        version: 9,
        name: "token scopes",
        sqlite: include_str!("../migrations/sqlite/0009_token_scopes.sql"),
        postgres: include_str!("../migrations/postgres/0009_token_scopes.sql"),
    },
];

pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |migration| migration.version)
}

/// The migrations a database at `applied` still needs, or why it cannot be used.
pub(crate) fn pending(applied: i64) -> Result<&'static [Migration], crate::StoreError> {
    let latest = latest_version();
    if applied > latest {
        return Err(crate::StoreError::Migration(format!(
            "the database is at schema version {applied}, newer than this build knows ({latest}): \
             upgrade eventsync, or point --database at another database"
        )));
    }
    let first_pending = MIGRATIONS.partition_point(|migration| migration.version <= applied);
    Ok(&MIGRATIONS[first_pending..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_without_gaps_from_one() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, index as i64 + 1, "{}", migration.name);
        }
    }

    #[test]
    fn a_fresh_database_needs_everything_and_a_current_one_nothing() {
        assert_eq!(pending(0).unwrap().len(), MIGRATIONS.len());
        assert!(pending(latest_version()).unwrap().is_empty());
        assert!(matches!(
            pending(latest_version() + 1),
            Err(crate::StoreError::Migration(_))
        ));
    }
}
