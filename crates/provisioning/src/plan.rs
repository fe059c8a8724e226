//! The reconciler's plan: the difference between the chats an organisation must
//! have and the chats it has, each change with the reason the audit log shows.

use std::collections::{BTreeMap, BTreeSet};

use roster::{ChatsUnavailable, chats_availability};

use crate::facts::Facts;
use crate::{ActualChat, ActualMember, ChatKey, ChatState, DesiredChat, MemberStatus, OrgSnapshot, Source};

/// Everything one reconciliation would change, sorted by chat and person. The
/// storage layer applies it in one transaction; `Display` prints it as a dry run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub org_id: i64,
    pub create: Vec<NewChat>,
    pub rename: Vec<Rename>,
    pub set_state: Vec<StateChange>,
    /// Applied before `add`: a manual member who unlinks is removed and, if the
    /// roster still wants them, added back as a pending roster member.
    pub remove: Vec<MemberRemove>,
    pub add: Vec<MemberAdd>,
    pub set_admin: Vec<AdminChange>,
    pub activate: Vec<Activation>,
    pub deactivate: Vec<Deactivation>,
    pub set_reasons: Vec<ReasonsChange>,
    /// Names of the people and chats the plan mentions, for the dry-run text.
    pub(crate) labels: Labels,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Labels {
    pub(crate) people: BTreeMap<i64, String>,
    pub(crate) chats: BTreeMap<i64, String>,
}

/// A chat the roster calls for and the organisation does not have yet; it is
/// created live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChat {
    pub key: ChatKey,
    pub name: String,
    pub reason: String,
    pub members: Vec<NewMember>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMember {
    pub person_id: i64,
    pub admin: bool,
    /// `Active` or `Pending`.
    pub status: MemberStatus,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub chat_id: i64,
    pub from: String,
    pub to: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub chat_id: i64,
    pub from: ChatState,
    pub to: ChatState,
    pub reason: String,
}

/// A new roster member (source `Roster`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberAdd {
    pub chat_id: i64,
    pub person_id: i64,
    pub admin: bool,
    /// `Active` or `Pending`.
    pub status: MemberStatus,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRemove {
    pub chat_id: i64,
    pub person_id: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminChange {
    pub chat_id: i64,
    pub person_id: i64,
    pub admin: bool,
    pub reason: String,
}

/// Pending → Active: the person linked a learning profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    pub chat_id: i64,
    pub person_id: i64,
    pub reason: String,
}

/// Active → Pending: the person unlinked; re-linking restores the membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deactivation {
    pub chat_id: i64,
    pub person_id: i64,
    pub reason: String,
}

/// The reasons of a roster member changed (a teacher's child joined the class).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonsChange {
    pub chat_id: i64,
    pub person_id: i64,
    pub reasons: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.change_count() == 0
    }

    /// Everyone whose chats the plan changes (joins, leaves, admin rights),
    /// sorted and without repeats. Renames and state changes touch every
    /// member of a chat and are not counted here.
    pub fn people_affected(&self) -> Vec<i64> {
        let mut people: Vec<i64> = self
            .create
            .iter()
            .flat_map(|c| c.members.iter().map(|m| m.person_id))
            .chain(self.remove.iter().map(|r| r.person_id))
            .chain(self.add.iter().map(|a| a.person_id))
            .chain(self.set_admin.iter().map(|a| a.person_id))
            .chain(self.activate.iter().map(|a| a.person_id))
            .chain(self.deactivate.iter().map(|d| d.person_id))
            .collect();
        people.sort_unstable();
        people.dedup();
        people
    }

    /// Every chat and member change, counting a new chat as one change.
    pub fn change_count(&self) -> usize {
        self.create.len()
            + self.rename.len()
            + self.set_state.len()
            + self.remove.len()
            + self.add.len()
            + self.set_admin.len()
            + self.activate.len()
            + self.deactivate.len()
            + self.set_reasons.len()
    }
}

const REASON_LINKED: &str = "профиль привязан";
const REASON_UNLINKED: &str = "профиль отвязан";
const REASON_UNLINKED_MANUAL: &str = "профиль отвязан: добавление вручную не восстанавливается";
const REASON_MODULE_OFF: &str = "модуль «Чаты» выключен";
const REASON_MODULE_ON: &str = "модуль «Чаты» включён";
const REASON_NOT_GENERAL_EDUCATION: &str = "чаты есть только в общеобразовательных организациях";
const REASON_YEAR_ENDED: &str = "учебный год завершён";
const REASON_CLASS_GONE: &str = "класс больше не существует";
const REASON_SECTION_GONE: &str = "предмет больше не ведётся";
const REASON_NOT_NEEDED: &str = "больше не нужен по данным школы";
const REASON_RENAMED: &str = "название по шаблону изменилось";

/// Plans the changes that make `actual` match `desired` (as [`crate::desired`]
/// made it from `s`). Nothing is ever deleted: chats are hidden or archived.
pub fn plan(desired: &[DesiredChat], actual: &[ActualChat], s: &OrgSnapshot) -> Plan {
    let facts = Facts::new(s);
    let mut plan = Plan { org_id: s.org_id, ..Plan::default() };
    let mut chats: Vec<&ActualChat> = actual.iter().collect();
    chats.sort_by_key(|c| c.chat_id);

    match chats_availability(s.kind, s.chats_enabled) {
        Err(unavailable) => {
            let reason = match unavailable {
                ChatsUnavailable::ModuleOff => REASON_MODULE_OFF,
                ChatsUnavailable::NotGeneralEducation => REASON_NOT_GENERAL_EDUCATION,
            };
            for chat in chats.iter().filter(|c| c.state == ChatState::Live) {
                plan.set_state.push(StateChange {
                    chat_id: chat.chat_id,
                    from: chat.state,
                    to: ChatState::ReadOnlyHidden,
                    reason: reason.to_owned(),
                });
            }
        }
        Ok(()) => {
            let mut wanted: BTreeMap<ChatKey, &DesiredChat> = BTreeMap::new();
            for chat in desired {
                wanted.entry(chat.key).or_insert(chat);
            }
            let matched = match_chats(&wanted, &chats);
            for chat in &chats {
                match matched.get(&chat.chat_id) {
                    Some(want) => reconcile_chat(&mut plan, chat, want, &facts),
                    None if chat.state != ChatState::Archived => plan.set_state.push(StateChange {
                        chat_id: chat.chat_id,
                        from: chat.state,
                        to: ChatState::Archived,
                        reason: archive_reason(chat.key, &facts),
                    }),
                    None => {}
                }
            }
            let existing: BTreeSet<ChatKey> = chats.iter().map(|c| c.key).collect();
            for want in wanted.values().filter(|w| !existing.contains(&w.key)) {
                plan.create.push(new_chat(want, &facts));
            }
        }
    }

    plan.labels = labels(&plan, &chats, &facts);
    plan
}

/// The chat that serves each wanted key. Keys are unique in a consistent store;
/// should two chats share one, the live one (then the lowest id) serves and the
/// others are archived, so the outcome is still deterministic.
fn match_chats<'a>(
    wanted: &BTreeMap<ChatKey, &'a DesiredChat>,
    chats: &[&ActualChat],
) -> BTreeMap<i64, &'a DesiredChat> {
    let state_rank = |state: ChatState| match state {
        ChatState::Live => 0,
        ChatState::ReadOnlyHidden => 1,
        ChatState::Archived => 2,
    };
    let mut best: BTreeMap<ChatKey, &ActualChat> = BTreeMap::new();
    for &chat in chats.iter().filter(|c| wanted.contains_key(&c.key)) {
        let better = best.get(&chat.key).is_none_or(|current| {
            (state_rank(chat.state), chat.chat_id) < (state_rank(current.state), current.chat_id)
        });
        if better {
            best.insert(chat.key, chat);
        }
    }
    best.into_iter().filter_map(|(key, chat)| wanted.get(&key).map(|&want| (chat.chat_id, want))).collect()
}

fn reconcile_chat(plan: &mut Plan, chat: &ActualChat, want: &DesiredChat, facts: &Facts<'_>) {
    let kept_archived = chat.state == ChatState::Archived && chat.archived_by_hand;
    if chat.state != ChatState::Live && !kept_archived {
        let reason = match chat.state {
            ChatState::ReadOnlyHidden => REASON_MODULE_ON.to_owned(),
            _ => revive_reason(chat.key, facts),
        };
        plan.set_state.push(StateChange { chat_id: chat.chat_id, from: chat.state, to: ChatState::Live, reason });
    }
    if !chat.name_overridden && chat.name != want.name {
        plan.rename.push(Rename {
            chat_id: chat.chat_id,
            from: chat.name.clone(),
            to: want.name.clone(),
            reason: REASON_RENAMED.to_owned(),
        });
    }
    let people: BTreeSet<i64> = chat.members.keys().chain(want.members.keys()).copied().collect();
    for person in people {
        reconcile_member(plan, chat, person, chat.members.get(&person), want.members.get(&person), facts);
    }
}

fn reconcile_member(
    plan: &mut Plan,
    chat: &ActualChat,
    person_id: i64,
    actual: Option<&ActualMember>,
    want: Option<&crate::DesiredMember>,
    facts: &Facts<'_>,
) {
    let chat_id = chat.chat_id;
    let linked = facts.linked(person_id);
    let add = |plan: &mut Plan, want: &crate::DesiredMember| {
        plan.add.push(MemberAdd {
            chat_id,
            person_id,
            admin: want.admin,
            status: MemberStatus::for_link(linked == Some(true)),
            reasons: want.reasons.clone(),
        });
    };
    let Some(member) = actual else {
        if let Some(want) = want {
            add(plan, want);
        }
        return;
    };
    if member.status == MemberStatus::RemovedByHand {
        return;
    }
    if member.source == Source::Manual {
        // Staff own a manual membership; only the person's link moves it. A
        // person unknown to the snapshot (linked == None) is left alone.
        match (member.status, linked) {
            (MemberStatus::Active, Some(false)) => {
                plan.remove.push(MemberRemove { chat_id, person_id, reason: REASON_UNLINKED_MANUAL.to_owned() });
                if let Some(want) = want {
                    add(plan, want);
                }
            }
            (MemberStatus::Pending, Some(true)) => {
                plan.activate.push(Activation { chat_id, person_id, reason: REASON_LINKED.to_owned() });
            }
            _ => {}
        }
        return;
    }
    let Some(want) = want else {
        plan.remove.push(MemberRemove { chat_id, person_id, reason: leave_reason(chat, person_id, facts) });
        return;
    };
    if member.admin != want.admin && !member.admin_overridden {
        let reason = if want.admin { want.reasons.join("; ") } else { admin_revoked_reason(chat, facts) };
        plan.set_admin.push(AdminChange { chat_id, person_id, admin: want.admin, reason });
    }
    match (member.status, linked == Some(true)) {
        (MemberStatus::Pending, true) => {
            plan.activate.push(Activation { chat_id, person_id, reason: REASON_LINKED.to_owned() });
        }
        (MemberStatus::Active, false) => {
            plan.deactivate.push(Deactivation { chat_id, person_id, reason: REASON_UNLINKED.to_owned() });
        }
        _ => {}
    }
    if member.reasons != want.reasons {
        plan.set_reasons.push(ReasonsChange { chat_id, person_id, reasons: want.reasons.clone() });
    }
}

fn new_chat(want: &DesiredChat, facts: &Facts<'_>) -> NewChat {
    let members = want
        .members
        .iter()
        .map(|(&person_id, member)| NewMember {
            person_id,
            admin: member.admin,
            status: MemberStatus::for_link(facts.linked(person_id) == Some(true)),
            reasons: member.reasons.clone(),
        })
        .collect();
    NewChat { key: want.key, name: want.name.clone(), reason: purpose(want.key, facts), members }
}

fn class_name(class_id: i64, facts: &Facts<'_>, fallback: &str) -> String {
    facts.class(class_id).map_or_else(|| fallback.to_owned(), |c| c.name.clone())
}

fn section_label(section_id: i64, facts: &Facts<'_>, fallback: &str) -> String {
    facts.section(section_id).map_or_else(|| fallback.to_owned(), |s| facts.section_label(s))
}

/// Why a new chat is made, for the audit log.
fn purpose(key: ChatKey, facts: &Facts<'_>) -> String {
    match key {
        ChatKey::StaffRoom { .. } => "учительская текущего учебного года".to_owned(),
        ChatKey::Class { class_id } => format!("класс {}", class_name(class_id, facts, "")),
        ChatKey::Parents { class_id } => format!("родители учеников {}", class_name(class_id, facts, "")),
        ChatKey::Subject { section_id } => format!("предмет: {}", section_label(section_id, facts, "")),
    }
}

fn archive_reason(key: ChatKey, facts: &Facts<'_>) -> String {
    let class_gone = |class_id: i64| match facts.class(class_id) {
        None => REASON_CLASS_GONE,
        Some(class) if !facts.is_current(class) => REASON_YEAR_ENDED,
        Some(_) => REASON_NOT_NEEDED,
    };
    let reason = match key {
        ChatKey::StaffRoom { year } if year != facts.snapshot.current_year => REASON_YEAR_ENDED,
        ChatKey::StaffRoom { .. } => REASON_NOT_NEEDED,
        ChatKey::Class { class_id } | ChatKey::Parents { class_id } => class_gone(class_id),
        ChatKey::Subject { section_id } => match facts.section(section_id) {
            None => REASON_SECTION_GONE,
            Some(section) => section.class_id.map_or(REASON_NOT_NEEDED, class_gone),
        },
    };
    reason.to_owned()
}

fn revive_reason(key: ChatKey, facts: &Facts<'_>) -> String {
    match key {
        ChatKey::StaffRoom { .. } => "учебный год снова текущий".to_owned(),
        ChatKey::Class { class_id } | ChatKey::Parents { class_id } => {
            format!("класс {} снова в текущем учебном году", class_name(class_id, facts, ""))
        }
        ChatKey::Subject { section_id } => format!("предмет снова ведётся: {}", section_label(section_id, facts, "")),
    }
}

/// Why a roster member leaves. A student who changed class is told where they
/// went, which is what a teacher reading the log wants to know.
fn leave_reason(chat: &ActualChat, person: i64, facts: &Facts<'_>) -> String {
    let moved = |from_class: i64| {
        facts.other_current_class_of(person, Some(from_class)).map(|to| format!("переведён(а) в {}", to.name))
    };
    match chat.key {
        ChatKey::StaffRoom { .. } => "больше не сотрудник школы".to_owned(),
        ChatKey::Class { class_id } => moved(class_id).unwrap_or_else(|| {
            format!("больше не ученик и не классный руководитель {}", class_name(class_id, facts, &chat.name))
        }),
        ChatKey::Parents { class_id } => {
            format!("больше нет детей в {} и не классный руководитель", class_name(class_id, facts, &chat.name))
        }
        ChatKey::Subject { section_id } => {
            let from_class = facts.section(section_id).and_then(|s| s.class_id);
            from_class.and_then(moved).unwrap_or_else(|| {
                format!("больше не учится и не преподаёт: {}", section_label(section_id, facts, &chat.name))
            })
        }
    }
}

fn admin_revoked_reason(chat: &ActualChat, facts: &Facts<'_>) -> String {
    match chat.key {
        ChatKey::StaffRoom { .. } => "больше не администратор школы".to_owned(),
        ChatKey::Class { class_id } | ChatKey::Parents { class_id } => {
            format!("больше не классный руководитель {}", class_name(class_id, facts, &chat.name))
        }
        ChatKey::Subject { section_id } => {
            format!("больше не учитель: {}", section_label(section_id, facts, &chat.name))
        }
    }
}

fn labels(plan: &Plan, chats: &[&ActualChat], facts: &Facts<'_>) -> Labels {
    let mut people: BTreeSet<i64> = BTreeSet::new();
    let mut chat_ids: BTreeSet<i64> = BTreeSet::new();
    people.extend(plan.create.iter().flat_map(|c| c.members.iter().map(|m| m.person_id)));
    chat_ids.extend(plan.rename.iter().map(|c| c.chat_id));
    chat_ids.extend(plan.set_state.iter().map(|c| c.chat_id));
    for (chat_id, person_id) in plan
        .remove
        .iter()
        .map(|c| (c.chat_id, c.person_id))
        .chain(plan.add.iter().map(|c| (c.chat_id, c.person_id)))
        .chain(plan.set_admin.iter().map(|c| (c.chat_id, c.person_id)))
        .chain(plan.activate.iter().map(|c| (c.chat_id, c.person_id)))
        .chain(plan.deactivate.iter().map(|c| (c.chat_id, c.person_id)))
        .chain(plan.set_reasons.iter().map(|c| (c.chat_id, c.person_id)))
    {
        chat_ids.insert(chat_id);
        people.insert(person_id);
    }
    Labels {
        people: people.into_iter().filter_map(|p| facts.name(p).map(|name| (p, name.to_owned()))).collect(),
        chats: chats.iter().filter(|c| chat_ids.contains(&c.chat_id)).map(|c| (c.chat_id, c.name.clone())).collect(),
    }
}
