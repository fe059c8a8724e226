//! A plan applied in memory: what the storage layer does in SQL, for tests and an
//! in-memory store.

use std::collections::{BTreeMap, BTreeSet};

use crate::{ActualChat, ActualMember, ChatKey, ChatState, Plan, Source};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("the plan changes chat {0}, which does not exist: it was made from another state")]
    UnknownChat(i64),
    #[error("the plan creates a second chat for {0:?}")]
    DuplicateKey(ChatKey),
}

/// Applies `plan` to `actual`, all or nothing: a plan made from another state is
/// refused before anything changes, as a rolled-back transaction would be. New
/// chats take ids from `next_id`, moved past any id already in use.
pub fn apply(actual: &mut Vec<ActualChat>, plan: &Plan, next_id: &mut i64) -> Result<(), ApplyError> {
    let index: BTreeMap<i64, usize> = actual.iter().enumerate().map(|(i, c)| (c.chat_id, i)).collect();
    let referenced = plan
        .rename
        .iter()
        .map(|c| c.chat_id)
        .chain(plan.set_state.iter().map(|c| c.chat_id))
        .chain(plan.remove.iter().map(|c| c.chat_id))
        .chain(plan.add.iter().map(|c| c.chat_id))
        .chain(plan.set_admin.iter().map(|c| c.chat_id))
        .chain(plan.activate.iter().map(|c| c.chat_id))
        .chain(plan.deactivate.iter().map(|c| c.chat_id))
        .chain(plan.set_reasons.iter().map(|c| c.chat_id));
    for chat_id in referenced {
        if !index.contains_key(&chat_id) {
            return Err(ApplyError::UnknownChat(chat_id));
        }
    }
    let mut keys: BTreeSet<ChatKey> = actual.iter().map(|c| c.key).collect();
    for new in &plan.create {
        if !keys.insert(new.key) {
            return Err(ApplyError::DuplicateKey(new.key));
        }
    }

    // Every id was checked above, so the lookups below cannot miss.
    let chat = |chat_id: i64| index.get(&chat_id).copied();
    for change in &plan.set_state {
        if let Some(i) = chat(change.chat_id) {
            actual[i].state = change.to;
        }
    }
    for change in &plan.rename {
        if let Some(i) = chat(change.chat_id) {
            actual[i].name.clone_from(&change.to);
        }
    }
    for change in &plan.remove {
        if let Some(i) = chat(change.chat_id) {
            actual[i].members.remove(&change.person_id);
        }
    }
    for change in &plan.add {
        if let Some(i) = chat(change.chat_id) {
            actual[i].members.insert(
                change.person_id,
                ActualMember {
                    admin: change.admin,
                    source: Source::Roster,
                    status: change.status,
                    reasons: change.reasons.clone(),
                    admin_overridden: false,
                },
            );
        }
    }
    for change in &plan.set_admin {
        if let Some(m) = member(actual, &index, change.chat_id, change.person_id) {
            m.admin = change.admin;
        }
    }
    for change in &plan.activate {
        if let Some(m) = member(actual, &index, change.chat_id, change.person_id) {
            m.status = crate::MemberStatus::Active;
        }
    }
    for change in &plan.deactivate {
        if let Some(m) = member(actual, &index, change.chat_id, change.person_id) {
            m.status = crate::MemberStatus::Pending;
        }
    }
    for change in &plan.set_reasons {
        if let Some(m) = member(actual, &index, change.chat_id, change.person_id) {
            m.reasons.clone_from(&change.reasons);
        }
    }

    let highest = actual.iter().map(|c| c.chat_id).max().unwrap_or(0);
    *next_id = (*next_id).max(highest + 1);
    for new in &plan.create {
        actual.push(ActualChat {
            chat_id: *next_id,
            key: new.key,
            name: new.name.clone(),
            state: ChatState::Live,
            name_overridden: false,
            archived_by_hand: false,
            members: new
                .members
                .iter()
                .map(|m| {
                    let member = ActualMember {
                        admin: m.admin,
                        source: Source::Roster,
                        status: m.status,
                        reasons: m.reasons.clone(),
                        admin_overridden: false,
                    };
                    (m.person_id, member)
                })
                .collect(),
        });
        *next_id += 1;
    }
    Ok(())
}

fn member<'a>(
    actual: &'a mut [ActualChat],
    index: &BTreeMap<i64, usize>,
    chat_id: i64,
    person_id: i64,
) -> Option<&'a mut ActualMember> {
    let i = *index.get(&chat_id)?;
    actual.get_mut(i)?.members.get_mut(&person_id)
}
