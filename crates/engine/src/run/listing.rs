//! One data type's listing: the main listing with its checkpoints and watermark, the listings
//! beside it (leavers, new people's travel, a file's records), totals and outdated records.

use super::*;

pub(super) fn now() -> String {
    stamp(chrono::Utc::now())
}

/// A time as the store keeps it: RFC 3339 in UTC, to the millisecond.
pub(super) fn stamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The cursor a listing that began at `began`, on the vendor's clock, leaves for the next
/// incremental listing; `None` when `began` is not a time (a checkpoint from elsewhere).
pub(super) fn watermark(began: &str, margin: chrono::Duration) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(began)
        .ok()
        .map(|at| stamp(at.with_timezone(&chrono::Utc) - margin))
}

impl TypeRun<'_> {
    pub(super) async fn run(
        &mut self,
        full: bool,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<(), TypeError> {
        let data_type = self.data_type;
        let state = self
            .store
            .state(self.connection, data_type.as_str())
            .await?
            .unwrap_or_default();
        let incremental =
            !full && self.connector.supports_incremental(data_type) && state.cursor.is_some();
        let mode = if incremental { "incremental" } else { "full" };
        self.summary.mode = mode.into();
        self.summary.cursor_before = state.cursor.clone();
        let pull_mode = match (&state.cursor, incremental) {
            (Some(cursor), true) => PullMode::ModifiedSince(cursor.clone()),
            _ => PullMode::Full,
        };
        // Resume an interrupted sync of the same kind where its last committed page left off.
        let resume = state
            .checkpoint
            .clone()
            .filter(|c| self.kind == RunKind::Sync && c.mode == mode);
        // The vendor's total is counted only from a sync's full listing seen whole in this run.
        let counting = self.kind == RunKind::Sync && !incremental && resume.is_none();
        // The watermark: the vendor's time as this listing began — for a resumed listing, as
        // the interrupted one began — read once the first answer has told the vendor's clock.
        let listing_began = chrono::Utc::now();
        let mut began = resume.as_ref().map(|c| c.started_at.clone());
        // A full listing asks only for the selected statuses, so excluded records cost no
        // calls; people the workspace already holds who left the selection since the last sync
        // come from a second, small listing of what changed. An incremental listing asks for
        // every change: it is as small, and it sees leavers in the same pages.
        let selected = match (self.statuses, self.status_path) {
            (StatusSelection::Only(list), Some(_)) if !incremental => Some(list.clone()),
            _ => None,
        };
        // Outdated records are known only from a listing of everything, seen whole in this run:
        // never from an incremental listing, nor one resumed from an earlier run's pages.
        if self.remove_outdated && !incremental && resume.is_none() {
            self.present = Some(HashSet::new());
        }
        progress(Progress::Started { data_type, mode });
        self.resolve_labels().await?;
        if let Some(list) = &selected {
            self.follow_leavers(&state, list).await?;
        }
        if incremental {
            self.follow_travellers(&state).await?;
        }
        if counting {
            self.tally = Some(Tally::default());
        }
        // The statuses the vendor leaves out of the listing, which it is asked to count.
        let left_to_vendor = selected
            .clone()
            .filter(|_| self.connector.lists_by_status(data_type));
        let mut spec = PullSpec {
            data_type,
            mode: pull_mode,
            resume_token: resume.and_then(|c| c.resume_token),
            statuses: selected.map_or(StatusQuery::Any, StatusQuery::In),
            concurrency: self.listing_concurrency,
        };
        let mut seen = 0u64;
        if self
            .store
            .count(self.connection, data_type.as_str())
            .await?
            == 0
        {
            self.written = Some(Written::new());
        }
        let mut calls_before = self.connector.calls();
        let mut pull = self.connector.pull(spec.clone()).await?;
        let mut fetched = pull.next_page().await;
        loop {
            let page = match fetched {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(ConnectorError::ExpiredPageToken { token }) if spec.resume_token.is_some() => {
                    tracing::info!(%token, %data_type, "the vendor forgot the resume token; listing again from the start");
                    spec.resume_token = None;
                    drop(pull);
                    pull = self.connector.pull(spec.clone()).await?;
                    fetched = pull.next_page().await;
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            let last = page.next_token.is_none();
            if page.total.is_some() {
                self.summary.vendor_total = page.total;
            }
            if let Some(plan) = page.plan {
                self.summary.partitions = plan.partitions;
                self.summary.split_calls = plan.extra_calls;
            }
            seen += page.records.len() as u64;
            let next_token = page.next_token.clone();
            // The next page is asked for while this one is mapped, so the vendor's time to answer
            // overlaps ours. Its outcome is looked at only after this page is committed: an
            // error there (quota, say) never costs the work already done.
            let Processed {
                upserts,
                feed,
                mut counts,
            } = if last {
                fetched = Ok(None);
                self.process(page).await?
            } else {
                let (next, processed) = tokio::join!(pull.next_page(), self.process(page));
                fetched = next;
                processed?
            };
            let removals = if last {
                self.outdated().await?
            } else {
                Vec::new()
            };
            if !removals.is_empty() {
                counts.insert(
                    ActionKind::Remove.as_str().to_string(),
                    removals.len() as u64,
                );
            }
            let calls = self.connector.calls() - calls_before;
            calls_before += calls;
            self.summary.api_calls += calls;
            for (action, n) in &counts {
                *self.summary.counts.entry(action.clone()).or_default() += n;
                if let Some(tally) = self.tally.as_mut() {
                    *tally.counts.entry(action.clone()).or_default() += n;
                }
            }
            match self.kind {
                RunKind::Sync => {
                    let finished = now();
                    let began = began
                        .get_or_insert_with(|| stamp(self.connector.vendor_time(listing_began)))
                        .clone();
                    // Only a listing seen to its end moves the cursor, to where it began (less
                    // the margin): whatever changed while it ran is listed again next time.
                    let cursor = if last {
                        watermark(&began, self.watermark_margin).or_else(|| state.cursor.clone())
                    } else {
                        state.cursor.clone()
                    };
                    let commit = PageCommit {
                        run_id: self.run_id,
                        connection: self.connection.to_string(),
                        data_type: data_type.as_str().to_string(),
                        upserts,
                        removals,
                        feed,
                        state: SyncState {
                            cursor: cursor.clone(),
                            checkpoint: (!last).then(|| Checkpoint {
                                mode: mode.into(),
                                resume_token: next_token,
                                started_at: began,
                            }),
                            last_success_at: if last {
                                Some(finished.clone())
                            } else {
                                state.last_success_at.clone()
                            },
                            last_attempt_at: Some(finished.clone()),
                            last_full_sync_at: if last && !incremental {
                                Some(finished)
                            } else {
                                state.last_full_sync_at.clone()
                            },
                        },
                        counts,
                        api_calls: calls,
                    };
                    self.queue(commit).await?;
                    if last {
                        self.land().await?;
                        self.summary.cursor_after = cursor;
                    }
                }
                RunKind::Preview => {
                    self.store
                        .add_run_progress(self.run_id, data_type.as_str(), &counts, calls)
                        .await?;
                    if last {
                        self.summary.cursor_after = state.cursor.clone();
                    }
                }
            }
            progress(Progress::Page {
                data_type,
                records: seen,
                total: self.summary.vendor_total,
            });
            // A page boundary: what was fetched is committed (or on its way), so a run asked to
            // stop stops here, and its checkpoint lets the next sync go on from this page.
            if !last && self.store.run_cancel_requested(self.run_id).await? {
                return Err(TypeError::Cancelled);
            }
        }
        if let Some(tally) = self.tally.take() {
            self.record_totals(&tally, seen, left_to_vendor).await?;
        }
        Ok(())
    }

    /// Keeps what this sync's whole full listing counted beside the stream's state: the
    /// vendor's total (the listing's size, plus — when the listing asked for the selected
    /// statuses only — the vendor's count of the others, one call) and what stayed out.
    pub(super) async fn record_totals(
        &mut self,
        tally: &Tally,
        listed: u64,
        left_to_vendor: Option<Vec<String>>,
    ) -> Result<(), TypeError> {
        let data_type = self.data_type;
        let workspace = self
            .store
            .count(self.connection, data_type.as_str())
            .await?;
        let others = match left_to_vendor {
            None => None,
            Some(statuses) => {
                let calls_before = self.connector.calls();
                let counted = match self
                    .connector
                    .count(data_type, StatusQuery::NotIn(statuses))
                    .await
                {
                    Ok(counted) => counted,
                    // The sync itself is done: an unknown total is said so, never guessed.
                    Err(error) => {
                        tracing::warn!(%error, %data_type, "the vendor did not count the statuses left out");
                        None
                    }
                };
                let calls = self.connector.calls() - calls_before;
                self.summary.api_calls += calls;
                self.store
                    .add_run_progress(self.run_id, data_type.as_str(), &BTreeMap::new(), calls)
                    .await?;
                Some(counted)
            }
        };
        let totals = tally.totals(listed, workspace, others, self.run_id, now());
        self.store
            .set_totals(self.connection, data_type.as_str(), &totals)
            .await?;
        Ok(())
    }

    /// Runs a file's records a page at a time; malformed rows are counted and reported as
    /// rejections with their reasons. Stored pages keep the stream's state as it was.
    pub(super) async fn run_file(
        &mut self,
        records: Vec<VendorRecord>,
        malformed: &[(String, String)],
        state: &SyncState,
    ) -> Result<(), TypeError> {
        let data_type = self.data_type;
        let reject = ActionKind::Reject.as_str();
        for (external_id, reason) in malformed {
            rejections::note(&mut self.summary.rejected, external_id, reason);
            self.add_row(
                reject,
                external_id,
                String::new(),
                reason.clone(),
                Cells::default(),
            )?;
        }
        if !malformed.is_empty() {
            let counts = BTreeMap::from([(reject.to_string(), malformed.len() as u64)]);
            *self.summary.counts.entry(reject.to_string()).or_default() += malformed.len() as u64;
            self.store
                .add_run_progress(self.run_id, data_type.as_str(), &counts, 0)
                .await?;
        }
        let mut records = records.into_iter().peekable();
        while records.peek().is_some() {
            let page = VendorPage {
                records: records.by_ref().take(FILE_PAGE).collect(),
                next_token: None,
                total: None,
                plan: None,
            };
            let processed = self.process(page).await?;
            self.apply_aside(processed, state, 0).await?;
        }
        Ok(())
    }

    /// Counts a page read aside from the stream's listing (a file, the leavers, new people's
    /// travel) and, in a sync, stores it with the stream's state unchanged.
    pub(super) async fn apply_aside(
        &mut self,
        processed: Processed,
        state: &SyncState,
        api_calls: u64,
    ) -> Result<(), StoreError> {
        let Processed {
            upserts,
            feed,
            counts,
        } = processed;
        for (action, n) in &counts {
            *self.summary.counts.entry(action.clone()).or_default() += n;
        }
        let data_type = self.data_type.as_str();
        match self.kind {
            RunKind::Sync => {
                self.store
                    .commit_page(&PageCommit {
                        run_id: self.run_id,
                        connection: self.connection.to_string(),
                        data_type: data_type.to_string(),
                        upserts,
                        removals: Vec::new(),
                        feed,
                        state: state.clone(),
                        counts,
                        api_calls,
                    })
                    .await
            }
            RunKind::Preview => {
                self.store
                    .add_run_progress(self.run_id, data_type, &counts, api_calls)
                    .await
            }
        }
    }

    /// Lists the records whose status is outside the selection and that changed since the last
    /// sync (all of them when there was none), so that people the workspace holds who left the
    /// selection — `Accepted` to `Cancelled` — are updated. Nothing else is kept from it, and
    /// the stream's state is left as it is: a killed run lists them again.
    pub(super) async fn follow_leavers(
        &mut self,
        state: &SyncState,
        selected: &[String],
    ) -> Result<(), TypeError> {
        let data_type = self.data_type;
        if self
            .store
            .count(self.connection, data_type.as_str())
            .await?
            == 0
        {
            return Ok(());
        }
        let mode = match &state.cursor {
            // Removing outdated records needs every record the vendor has, leavers included.
            Some(cursor)
                if self.present.is_none() && self.connector.supports_incremental(data_type) =>
            {
                PullMode::ModifiedSince(cursor.clone())
            }
            _ => PullMode::Full,
        };
        let spec = PullSpec {
            data_type,
            mode,
            resume_token: None,
            statuses: StatusQuery::NotIn(selected.to_vec()),
            // On a first sync every leaver is listed: as long a listing as the main one.
            concurrency: self.listing_concurrency,
        };
        self.list_aside(spec, state).await
    }

    /// A listing beside the main one (leavers, new people's travel): every page is processed
    /// and committed with the stream's state as it was, so the main listing's cursor and
    /// checkpoints are neither moved nor lost.
    pub(super) async fn list_aside(
        &mut self,
        spec: PullSpec,
        state: &SyncState,
    ) -> Result<(), TypeError> {
        let mut calls_before = self.connector.calls();
        let mut pull = self.connector.pull(spec).await?;
        while let Some(page) = pull.next_page().await? {
            let processed = self.process(page).await?;
            let calls = self.connector.calls() - calls_before;
            calls_before += calls;
            self.summary.api_calls += calls;
            self.apply_aside(processed, state, calls).await?;
        }
        Ok(())
    }

    /// Lists the travel requests of people new to the workspace in this run, by the attendees
    /// Cvent files them under (in batches within Cvent's filter limit): they were rejected
    /// when their person was missing, and an incremental listing would not bring them again.
    /// Like the leavers' listing, it leaves the stream's state as it is.
    pub(super) async fn follow_travellers(&mut self, state: &SyncState) -> Result<(), TypeError> {
        let data_type = self.data_type;
        if !self.connector.by_attendee(data_type) || self.created.travellers.is_empty() {
            return Ok(());
        }
        let attendees: Vec<String> = self.created.travellers.iter().cloned().collect();
        let spec = PullSpec {
            data_type,
            mode: PullMode::OfAttendees(attendees),
            resume_token: None,
            statuses: StatusQuery::Any,
            concurrency: 1,
        };
        self.list_aside(spec, state).await
    }

    /// Matches the data labels to the event's questions, once per run, and says in the summary
    /// what each fills.
    pub(super) async fn resolve_labels(&mut self) -> Result<(), TypeError> {
        if self.labels.is_empty() {
            return Ok(());
        }
        let answers = !self.connector.answer_paths(self.data_type).is_empty();
        let questions = match answers {
            true => self.connector.questions().await?,
            false => Vec::new(),
        };
        for label in self.labels {
            match (answers, pipeline::rules::labels::resolve(label, &questions)) {
                (true, Some(resolved)) => {
                    self.summary.labels.push(format!(
                        "{} ← question {} \"{}\"",
                        resolved.target, resolved.question_id, resolved.question_text
                    ));
                    self.resolved_labels.push(resolved);
                }
                (true, None) => self.summary.labels.push(format!(
                    "{} ← '{}' is neither the id nor the code of a question or custom field of this event: it stays empty",
                    label.target(),
                    label.question
                )),
                (false, _) => self.summary.labels.push(format!(
                    "{} ← this connection's {} have no answers to questions: it stays empty",
                    label.target(),
                    self.data_type
                )),
            }
        }
        Ok(())
    }

    /// The workspace records the vendor did not list, once a complete full listing has been
    /// seen (empty otherwise), each reported as a removal.
    pub(super) async fn outdated(&mut self) -> Result<Vec<String>, TypeError> {
        let Some(present) = self.present.take() else {
            return Ok(Vec::new());
        };
        let stored = self
            .store
            .external_ids(self.connection, self.data_type.as_str())
            .await?;
        let mut outdated: Vec<String> = stored
            .into_iter()
            // Records created in the workspace were never the vendor's to remove.
            .filter(|id| !present.contains(id) && !store::is_local_id(id))
            .collect();
        outdated.sort();
        for id in &outdated {
            self.add_row(
                ActionKind::Remove.as_str(),
                id,
                String::new(),
                "remove outdated data: the vendor no longer lists this record".to_string(),
                Cells::default(),
            )?;
        }
        Ok(outdated)
    }
}
