// Part of `mod identity` (imports in identity_queries.rs): learning profiles
// and their links to school accounts.

/// The school accounts that hold a profile's Parta ID, each with whether it
/// is a student's in the organisation of its link.
pub(crate) async fn holders(tx: &mut Tx, profile: i64) -> Result<Vec<Holder>, StorageError> {
    let rows: Vec<(i64, bool)> = sqlx::query_as(
        "SELECT l.person_id, EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = l.person_id \
           AND r.org_id = l.org_id AND r.role = 'student') FROM profile_links l WHERE l.profile_id = $1",
    )
    .bind(profile)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(person_id, student)| Holder { person_id, student }).collect())
}

async fn is_student(tx: &mut Tx, org: i64, person: i64) -> Result<bool, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM person_roles WHERE person_id = $1 AND org_id = $2 AND role = 'student')",
    )
    .bind(person)
    .bind(org)
    .fetch_one(&mut **tx)
    .await?)
}

/// The account's learning profile, made from the account's own names when it
/// has none yet: a Parta ID's name is its holder's to change, never a link's.
pub(crate) async fn profile_for_account(tx: &mut Tx, account: i64, now: i64) -> Result<i64, StorageError> {
    let profile: Option<i64> = sqlx::query_scalar("SELECT id FROM learning_profiles WHERE account_id = $1")
        .bind(account)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(id) = profile {
        return Ok(id);
    }
    Ok(sqlx::query_scalar(
        "INSERT INTO learning_profiles (account_id, last_name, first_name, middle_name, created_at) \
         SELECT id, last_name, first_name, middle_name, $2 FROM accounts WHERE id = $1 RETURNING id",
    )
    .bind(account)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?)
}

/// Links a school account (a person in an organisation) to the learning profile
/// of the proven phone's Parta ID. `LinkAs::New` makes the Parta ID and refuses
/// a phone that has one; `LinkAs::Existing` ("it's me") joins the Parta ID the
/// phone has, if the family rules allow, and never changes its name.
pub(crate) async fn link_profile(pool: &Pool<Db>, link: &NewLink, now: i64) -> Result<i64, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let phone = take_proof(&mut tx, &link.proof_hash, now).await?;
    let already: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM profile_links WHERE person_id = $1 AND org_id = $2")
        .bind(link.person_id)
        .bind(link.org_id)
        .fetch_one(&mut *tx)
        .await?;
    if already > 0 {
        return Err(StorageError::Conflict(Conflict::AlreadyLinked));
    }
    let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE phone = $1 AND deleted_at IS NULL")
        .bind(&phone)
        .fetch_optional(&mut *tx)
        .await?;
    let account = match (&link.target, existing) {
        (LinkAs::New(name) | LinkAs::NewFreeingChild(name, _), None) => {
            insert_account(&mut tx, Some(&phone), name, now).await?
        }
        (LinkAs::New(_), Some(_)) => return Err(StorageError::Conflict(Conflict::PhoneInUse)),
        (LinkAs::NewFreeingChild(name, consent), Some(child_account)) => {
            super::family::free_phone_from_child(&mut tx, child_account, link.person_id, consent, now).await?;
            insert_account(&mut tx, Some(&phone), name, now).await?
        }
        (LinkAs::Existing, Some(id)) => id,
        (LinkAs::Existing, None) => return Err(StorageError::Conflict(Conflict::NoAccount)),
    };
    let profile = profile_for_account(&mut tx, account, now).await?;
    let joining =
        Holder { person_id: link.person_id, student: is_student(&mut tx, link.org_id, link.person_id).await? };
    family::may_join(&holders(&mut tx, profile).await?, joining).map_err(StorageError::SharingRefused)?;
    insert_link(&mut tx, profile, link.person_id, link.org_id, now).await?;
    tx.commit().await?;
    Ok(profile)
}

/// Adds a link of `person` in `org` to `profile`, lets the person into the
/// chats staff added them to before, and emits `ProfileLinked`.
pub(crate) async fn insert_link(
    tx: &mut Tx,
    profile: i64,
    person: i64,
    org: i64,
    now: i64,
) -> Result<(), StorageError> {
    // A school account belongs to one person: all its links go to one profile.
    let elsewhere: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM profile_links WHERE person_id = $1 AND profile_id <> $2")
            .bind(person)
            .bind(profile)
            .fetch_one(&mut **tx)
            .await?;
    if elsewhere > 0 {
        return Err(StorageError::Conflict(Conflict::LinkedToAnotherProfile));
    }
    sqlx::query("INSERT INTO profile_links (profile_id, person_id, org_id, linked_at) VALUES ($1, $2, $3, $4)")
        .bind(profile)
        .bind(person)
        .bind(org)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    // Staff added them to chats of their own before they linked: they join
    // now. (Automatic chats are the reconciler's, which runs after the link.)
    sqlx::query(
        "UPDATE chat_members SET status = 'active' WHERE person_id = $1 AND status = 'pending' \
         AND chat_id IN (SELECT id FROM chats WHERE org_id = $2 AND kind = 'custom')",
    )
    .bind(person)
    .bind(org)
    .execute(&mut **tx)
    .await?;
    let event = IdentityEvent::ProfileLinked { org_id: org, person_id: person, profile_id: profile };
    push_event(tx, &event, now).await
}

pub(crate) async fn remove_link(tx: &mut Tx, link_id: i64, event: IdentityEvent, now: i64) -> Result<(), StorageError> {
    // The person leaves every chat of the organisation at once. Automatic
    // chats are the reconciler's (it keeps their place for a re-link); chats
    // made by hand and direct chats are left for good.
    if let IdentityEvent::ProfileUnlinked { org_id, person_id, .. } = &event {
        sqlx::query(
            "DELETE FROM chat_members WHERE person_id = $1 \
             AND chat_id IN (SELECT id FROM chats WHERE org_id = $2 AND kind IN ('custom', 'direct'))",
        )
        .bind(person_id)
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
    }
    // Sessions and tokens that came from the link go with it.
    sqlx::query("DELETE FROM messenger_sessions WHERE link_id = $1").bind(link_id).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM sign_in_tokens WHERE link_id = $1").bind(link_id).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM profile_links WHERE id = $1").bind(link_id).execute(&mut **tx).await?;
    push_event(tx, &event, now).await
}

pub(crate) async fn unlink_profile(pool: &Pool<Db>, org: i64, person: i64, now: i64) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let link: Option<(i64, i64)> =
        sqlx::query_as("SELECT id, profile_id FROM profile_links WHERE person_id = $1 AND org_id = $2")
            .bind(person)
            .bind(org)
            .fetch_optional(&mut *tx)
            .await?;
    let (link_id, profile_id) = link.ok_or(StorageError::NotFound)?;
    let event =
        IdentityEvent::ProfileUnlinked { org_id: org, person_id: person, profile_id, reason: UnlinkReason::ByUser };
    remove_link(&mut tx, link_id, event, now).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn link_of(pool: &Pool<Db>, org: i64, person: i64) -> Result<Option<LinkView>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT l.id AS link_id, l.profile_id, p.account_id, p.last_name, p.first_name, p.middle_name, a.phone, l.linked_at \
         FROM profile_links l JOIN learning_profiles p ON p.id = l.profile_id JOIN accounts a ON a.id = p.account_id \
         WHERE l.person_id = $1 AND l.org_id = $2",
    )
    .bind(person)
    .bind(org)
    .fetch_optional(pool)
    .await?)
}

pub(crate) async fn messenger_links(pool: &Pool<Db>, account: i64) -> Result<Vec<MessengerLink>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT l.org_id, o.name AS org_name, l.person_id, l.linked_at FROM profile_links l \
         JOIN learning_profiles p ON p.id = l.profile_id JOIN orgs o ON o.id = l.org_id \
         WHERE p.account_id = $1 ORDER BY o.name",
    )
    .bind(account)
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn profile_of(
    pool: &Pool<Db>,
    account: i64,
) -> Result<Option<(String, String, Option<String>)>, StorageError> {
    Ok(sqlx::query_as("SELECT last_name, first_name, middle_name FROM learning_profiles WHERE account_id = $1")
        .bind(account)
        .fetch_optional(pool)
        .await?)
}
