// Part of `mod chats` (imports in chat_queries.rs): the writes of a
// reconciliation — the plan applied many rows per statement, and its log.

fn key_columns(key: ChatKey) -> (Option<i64>, Option<i64>, Option<i64>) {
    match key {
        ChatKey::StaffRoom { year } => (year, None, None),
        ChatKey::Class { class_id } | ChatKey::Parents { class_id } => (None, Some(class_id), None),
        ChatKey::Subject { section_id } => (None, None, Some(section_id)),
    }
}

/// A `provisioning_log` row about to be written.
struct LogRow<'p> {
    chat: i64,
    person: Option<i64>,
    change: Cow<'p, str>,
    reason: Cow<'p, str>,
}

impl<'p> LogRow<'p> {
    fn new(chat: i64, person: Option<i64>, change: impl Into<Cow<'p, str>>, reason: impl Into<Cow<'p, str>>) -> Self {
        LogRow { chat, person, change: change.into(), reason: reason.into() }
    }
}

/// A roster membership to insert.
struct NewMemberRow {
    chat: i64,
    person: i64,
    admin: bool,
    status: MemberStatus,
    reasons: String,
}

/// Rows per multi-row statement when each row binds `binds` values.
fn rows_per_statement(binds: usize) -> usize {
    MAX_BINDS / binds
}

/// Runs the statements `build` makes of `rows`, as many rows each as `binds`
/// values a row allow, and builds the next while the database runs one. A full
/// statement recurs organisation after organisation and is kept prepared; a
/// shorter one is prepared once and would crowd the cache.
async fn in_chunks<'r, T: Sync>(
    tx: &mut Tx,
    rows: &'r [T],
    binds: usize,
    build: impl Fn(&'r [T]) -> QueryBuilder<'r, Db>,
) -> Result<(), sqlx::Error> {
    let size = rows_per_statement(binds);
    let mut chunks = rows.chunks(size);
    let mut next = chunks.next().map(|c| (c.len() == size, build(c)));
    while let Some((full, mut qb)) = next.take() {
        let execute = qb.build().persistent(full).execute(&mut **tx);
        let prepare = async { chunks.next().map(|c| (c.len() == size, build(c))) };
        let (done, prepared) = futures_util::future::join(execute, prepare).await;
        done?;
        next = prepared;
    }
    Ok(())
}

async fn insert_log(tx: &mut Tx, org: i64, now: i64, rows: &[LogRow<'_>]) -> Result<(), sqlx::Error> {
    in_chunks(tx, rows, 6, |chunk| {
        let mut qb =
            QueryBuilder::new("INSERT INTO provisioning_log (org_id, chat_id, person_id, change, reason, at) ");
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(org)
                .push_bind(r.chat)
                .push_bind(r.person)
                .push_bind(r.change.as_ref())
                .push_bind(r.reason.as_ref())
                .push_bind(now);
        });
        qb
    })
    .await
}

/// Logs new chats and their members in the plan's order, a chat's line then
/// one per member, the members read back from the rows just written: a first
/// reconciliation logs a region's millions of memberships without sending
/// them to the database a second time.
async fn log_created(tx: &mut Tx, org: i64, now: i64, chats: &[(i64, &str)]) -> Result<(), sqlx::Error> {
    let numbered: Vec<(i64, i64, &str)> =
        chats.iter().enumerate().map(|(n, &(chat, reason))| (n as i64, chat, reason)).collect();
    // MAX_BINDS leaves room for the two values more: the organisation and the time.
    in_chunks(tx, &numbered, 3, |chunk| {
        let mut qb = QueryBuilder::new("WITH v (n, chat_id, reason) AS (");
        qb.push_values(chunk, |mut b, &(n, chat, reason)| {
            b.push_bind(n).push_bind(chat).push_bind(reason);
        });
        qb.push(") INSERT INTO provisioning_log (org_id, chat_id, person_id, change, reason, at) SELECT ")
            .push_bind(org)
            .push(", t.chat_id, t.person_id, t.change, t.reason, ")
            .push_bind(now)
            .push(
                " FROM (SELECT n, chat_id, NULL AS person_id, 'create' AS change, reason FROM v \
                 UNION ALL SELECT v.n, m.chat_id, m.person_id, 'add:' || m.status, m.reasons \
                 FROM v JOIN chat_members m ON m.chat_id = v.chat_id) AS t \
                 ORDER BY t.n, t.person_id IS NOT NULL, t.person_id",
            );
        qb
    })
    .await
}

/// Inserts roster members; with `upsert` a row already there (a stale one) is
/// overwritten, otherwise the chats are new and so are their rows.
async fn insert_members(tx: &mut Tx, rows: &[NewMemberRow], upsert: bool) -> Result<(), sqlx::Error> {
    in_chunks(tx, rows, 5, |chunk| {
        let mut qb =
            QueryBuilder::new("INSERT INTO chat_members (chat_id, person_id, admin, source, status, reasons) ");
        qb.push_values(chunk, |mut b, m| {
            b.push_bind(m.chat)
                .push_bind(m.person)
                .push_bind(m.admin)
                .push("'roster'")
                .push_bind(m.status.as_str())
                .push_bind(m.reasons.as_str());
        });
        if upsert {
            qb.push(
                " ON CONFLICT (chat_id, person_id) DO UPDATE SET admin = excluded.admin, source = excluded.source, \
                 status = excluded.status, reasons = excluded.reasons",
            );
        }
        qb
    })
    .await
}

/// Runs `head` (`UPDATE chat_members SET …` or `DELETE FROM chat_members`) on
/// the memberships `keys`, `(chat_id, person_id)`, many at a time.
async fn members_where(tx: &mut Tx, head: &'static str, keys: &[(i64, i64)]) -> Result<(), sqlx::Error> {
    in_chunks(tx, keys, 2, |chunk| {
        let mut qb = QueryBuilder::new(head);
        qb.push(" WHERE (chat_id, person_id) IN (");
        qb.push_values(chunk, |mut b, &(chat, person)| {
            b.push_bind(chat).push_bind(person);
        });
        qb.push(")");
        qb
    })
    .await
}

/// Sets a text column of chats, each to its own value. A VALUES list names its
/// columns `column1`, `column2`, … in both dialects.
async fn set_chats_text(tx: &mut Tx, column: &'static str, rows: &[(i64, &str)]) -> Result<(), sqlx::Error> {
    in_chunks(tx, rows, 2, |chunk| {
        let mut qb = QueryBuilder::new(format!("UPDATE chats SET {column} = v.column2 FROM ("));
        qb.push_values(chunk, |mut b, &(id, value)| {
            b.push_bind(id).push_bind(value);
        });
        qb.push(") AS v WHERE chats.id = v.column1");
        qb
    })
    .await
}

async fn set_member_reasons(tx: &mut Tx, rows: &[(i64, i64, String)]) -> Result<(), sqlx::Error> {
    in_chunks(tx, rows, 3, |chunk| {
        let mut qb = QueryBuilder::new("UPDATE chat_members SET reasons = v.column3 FROM (");
        qb.push_values(chunk, |mut b, (chat, person, reasons)| {
            b.push_bind(*chat).push_bind(*person).push_bind(reasons.as_str());
        });
        qb.push(") AS v WHERE chat_members.chat_id = v.column1 AND chat_members.person_id = v.column2");
        qb
    })
    .await
}

/// `id, kind, year_id, class_id, section_id` of a chat just created.
type CreatedChat = (i64, String, Option<i64>, Option<i64>, Option<i64>);

/// Creates the plan's chats and returns their ids by key. Keys are unique in an
/// organisation, so the returned rows are matched by key, not by order.
async fn create_chats(tx: &mut Tx, plan: &Plan, now: i64) -> Result<HashMap<ChatKey, i64>, StorageError> {
    const BINDS: usize = 7;
    let mut ids = HashMap::with_capacity(plan.create.len());
    for chunk in plan.create.chunks(rows_per_statement(BINDS)) {
        let mut qb: QueryBuilder<Db> =
            QueryBuilder::new("INSERT INTO chats (org_id, kind, year_id, class_id, section_id, name, created_at) ");
        qb.push_values(chunk, |mut b, new| {
            let (year, class, section) = key_columns(new.key);
            b.push_bind(plan.org_id)
                .push_bind(new.key.kind_str())
                .push_bind(year)
                .push_bind(class)
                .push_bind(section)
                .push_bind(new.name.as_str())
                .push_bind(now);
        });
        qb.push(" RETURNING id, kind, year_id, class_id, section_id");
        let full = chunk.len() == rows_per_statement(BINDS);
        let rows: Vec<CreatedChat> = qb.build_query_as().persistent(full).fetch_all(&mut **tx).await?;
        for (id, kind, year, class, section) in rows {
            let key = chat_key(&kind, year, class, section)
                .ok_or_else(|| StorageError::Encoding(format!("chat {id} came back without its key")))?;
            ids.insert(key, id);
        }
    }
    Ok(ids)
}

/// Applies a plan made from this transaction's own reads, many rows per
/// statement, and logs every change in `provisioning_log` in the plan's order.
/// Removals go before additions: a manual member who unlinked is removed, then
/// re-added as a pending roster member when the roster still wants them.
async fn apply(tx: &mut Tx, plan: &Plan, now: i64) -> Result<(), StorageError> {
    let org = plan.org_id;
    let mut log: Vec<LogRow<'_>> = Vec::new();
    for to in [ChatState::Live, ChatState::ReadOnlyHidden, ChatState::Archived] {
        let ids: Vec<(i64, &str)> =
            plan.set_state.iter().filter(|c| c.to == to).map(|c| (c.chat_id, to.as_str())).collect();
        set_chats_text(tx, "state", &ids).await?;
    }
    for change in &plan.set_state {
        log.push(LogRow::new(change.chat_id, None, format!("state:{}", change.to.as_str()), &change.reason));
    }
    let renames: Vec<(i64, &str)> = plan.rename.iter().map(|r| (r.chat_id, r.to.as_str())).collect();
    set_chats_text(tx, "name", &renames).await?;
    for rename in &plan.rename {
        log.push(LogRow::new(rename.chat_id, None, "rename", &rename.reason));
    }
    insert_log(tx, org, now, &log).await?;
    log.clear();

    let created = create_chats(tx, plan, now).await?;
    let mut members = Vec::with_capacity(plan.create.iter().map(|c| c.members.len()).sum::<usize>());
    let mut new_chats = Vec::with_capacity(plan.create.len());
    for new in &plan.create {
        let chat = *created
            .get(&new.key)
            .ok_or_else(|| StorageError::Encoding(format!("the new chat {:?} was not created", new.key)))?;
        new_chats.push((chat, new.reason.as_str()));
        for m in &new.members {
            let reasons = m.reasons.join("; ");
            members.push(NewMemberRow { chat, person: m.person_id, admin: m.admin, status: m.status, reasons });
        }
    }
    insert_members(tx, &members, false).await?;
    drop(members);
    log_created(tx, org, now, &new_chats).await?;

    let removed: Vec<(i64, i64)> = plan.remove.iter().map(|r| (r.chat_id, r.person_id)).collect();
    members_where(tx, "DELETE FROM chat_members", &removed).await?;
    for r in &plan.remove {
        log.push(LogRow::new(r.chat_id, Some(r.person_id), "remove", &r.reason));
    }
    let deactivated: Vec<(i64, i64)> = plan.deactivate.iter().map(|d| (d.chat_id, d.person_id)).collect();
    members_where(tx, "UPDATE chat_members SET status = 'pending'", &deactivated).await?;
    for d in &plan.deactivate {
        log.push(LogRow::new(d.chat_id, Some(d.person_id), "pending", &d.reason));
    }
    let mut added = Vec::with_capacity(plan.add.len());
    for a in &plan.add {
        let reasons = a.reasons.join("; ");
        log.push(LogRow::new(a.chat_id, Some(a.person_id), add_change(a.status), reasons.clone()));
        added.push(NewMemberRow { chat: a.chat_id, person: a.person_id, admin: a.admin, status: a.status, reasons });
    }
    insert_members(tx, &added, true).await?;
    drop(added);
    let activated: Vec<(i64, i64)> = plan.activate.iter().map(|a| (a.chat_id, a.person_id)).collect();
    members_where(tx, "UPDATE chat_members SET status = 'active'", &activated).await?;
    for a in &plan.activate {
        log.push(LogRow::new(a.chat_id, Some(a.person_id), "active", &a.reason));
    }
    for (admin, head) in
        [(true, "UPDATE chat_members SET admin = TRUE"), (false, "UPDATE chat_members SET admin = FALSE")]
    {
        let keys: Vec<(i64, i64)> =
            plan.set_admin.iter().filter(|a| a.admin == admin).map(|a| (a.chat_id, a.person_id)).collect();
        members_where(tx, head, &keys).await?;
    }
    for a in &plan.set_admin {
        log.push(LogRow::new(a.chat_id, Some(a.person_id), if a.admin { "admin" } else { "not_admin" }, &a.reason));
    }
    let reasons: Vec<(i64, i64, String)> =
        plan.set_reasons.iter().map(|r| (r.chat_id, r.person_id, r.reasons.join("; "))).collect();
    set_member_reasons(tx, &reasons).await?;
    insert_log(tx, org, now, &log).await?;
    Ok(())
}

/// The log's change for a member added to an existing chat (`add:active`,
/// `add:pending`); new chats' members are logged by `log_created`, the same way.
fn add_change(status: MemberStatus) -> &'static str {
    match status {
        MemberStatus::Active => "add:active",
        MemberStatus::Pending => "add:pending",
        MemberStatus::RemovedByHand => "add:removed_by_hand",
    }
}
