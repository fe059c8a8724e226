//! Provisioning, the bridge between the school roster and the messenger
//! (DESIGN §1, §4): which automatic chats an organisation must have, who belongs
//! in each and why, and the plan that turns the chats it has into those.
//!
//! The flow is `OrgSnapshot` → [`desired`] → [`plan`] → (storage applies the
//! [`Plan`] in one transaction). [`apply`] is the same application in memory, for
//! tests and an in-memory store.
//!
//! Architecture invariant: this crate is pure. It never touches the clock, the
//! network or a database; the storage layer loads the snapshots and applies the
//! plans. Every collection is ordered (`BTreeMap`, sorted vectors) so that the
//! same inputs print the same plan every time.
//!
//! Architecture invariant: nothing here deletes a chat. A chat nobody needs any
//! more becomes an archive, a chat of an organisation without chats becomes
//! read-only and hidden, so messages and their authorship survive.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod apply;
mod desired;
mod display;
mod facts;
mod plan;
mod templates;

use std::collections::BTreeMap;

use roster::{OrgKind, Role};

pub use apply::{ApplyError, apply};
pub use desired::desired;
pub use plan::{
    Activation, AdminChange, Deactivation, MemberAdd, MemberRemove, NewChat, NewMember, Plan, ReasonsChange, Rename,
    StateChange, plan,
};
pub use templates::{NameTemplates, render};

/// Everything provisioning needs to know about one organisation, loaded by the
/// storage layer in one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSnapshot {
    pub org_id: i64,
    pub kind: OrgKind,
    pub chats_enabled: bool,
    /// The academic year whose chats are live; chats of other years are archives.
    /// `None` when the organisation has no years: then every class is current.
    pub current_year: Option<i64>,
    /// Everyone with a role in the organisation, and everyone who is a member of
    /// one of its chats (roles may then be empty): a person missing here is
    /// treated as unlinked and without roles, and their manual memberships are
    /// left alone because nothing is known about them.
    pub people: Vec<PersonFacts>,
    /// Active classes only, of any year.
    pub classes: Vec<ClassFacts>,
    /// `(class_id, person_id)`.
    pub class_teachers: Vec<(i64, i64)>,
    /// Active student enrollments, `(class_id, person_id)`.
    pub students: Vec<(i64, i64)>,
    /// Active sections only.
    pub sections: Vec<SectionFacts>,
    /// `(guardian_id, student_id)`; guardianship is not per organisation, the
    /// guardian role is.
    pub guardianships: Vec<(i64, i64)>,
    pub templates: NameTemplates,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFacts {
    pub person_id: i64,
    /// «Иванова Мария»: only for the dry-run text.
    pub name: String,
    /// Roles in this organisation.
    pub roles: Vec<Role>,
    /// Has a learning-profile link in this organisation.
    pub linked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassFacts {
    pub class_id: i64,
    /// «5А», «10 Физмат».
    pub name: String,
    pub year_id: Option<i64>,
}

/// A subject taught to a class, to one group of it, or (a club) to no class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionFacts {
    pub section_id: i64,
    pub class_id: Option<i64>,
    pub subject: String,
    pub group: Option<String>,
    pub teachers: Vec<i64>,
    /// The group's students. Empty means the whole class for a section without
    /// a group, and nobody for a group.
    pub group_students: Vec<i64>,
}

/// The stable identity of an automatic chat. Renaming a class keeps the key, so
/// its chats are renamed rather than replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChatKey {
    StaffRoom { year: Option<i64> },
    Class { class_id: i64 },
    Parents { class_id: i64 },
    Subject { section_id: i64 },
}

impl ChatKey {
    /// The `chats.kind` column.
    pub fn kind_str(self) -> &'static str {
        match self {
            ChatKey::StaffRoom { .. } => "staff_room",
            ChatKey::Class { .. } => "class",
            ChatKey::Parents { .. } => "parents",
            ChatKey::Subject { .. } => "subject",
        }
    }
}

pub use roster::ChatState;

/// Who put a member in a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// The reconciler, from the roster.
    Roster,
    /// School staff, by hand; the reconciler never removes such a member, only
    /// unlinking does.
    Manual,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Roster => "roster",
            Source::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Source::Roster, Source::Manual].into_iter().find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemberStatus {
    Active,
    /// Belongs here but has not linked a learning profile (or unlinked): joins
    /// when they link.
    Pending,
    /// Staff took a roster member out; the reconciler leaves it so.
    RemovedByHand,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Active => "active",
            MemberStatus::Pending => "pending",
            MemberStatus::RemovedByHand => "removed_by_hand",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [MemberStatus::Active, MemberStatus::Pending, MemberStatus::RemovedByHand].into_iter().find(|v| v.as_str() == s)
    }

    /// The status a roster member should have: the messenger is reachable only
    /// through a linked profile (DESIGN §2).
    pub fn for_link(linked: bool) -> Self {
        if linked { MemberStatus::Active } else { MemberStatus::Pending }
    }
}

/// A chat the roster says must exist, with everyone who belongs in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredChat {
    pub key: ChatKey,
    pub name: String,
    pub members: BTreeMap<i64, DesiredMember>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredMember {
    pub admin: bool,
    /// Every reason the person is here («ученик 5А», «родитель ученика 5А»),
    /// sorted, for the audit's "why is this person here".
    pub reasons: Vec<String>,
}

/// A chat as the messenger has it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActualChat {
    pub chat_id: i64,
    pub key: ChatKey,
    pub name: String,
    pub state: ChatState,
    /// Staff renamed it by hand: keep their name.
    pub name_overridden: bool,
    /// Staff archived it by hand: it stays an archive while the roster still
    /// wants it (members are still kept current, for a later restore).
    pub archived_by_hand: bool,
    pub members: BTreeMap<i64, ActualMember>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActualMember {
    pub admin: bool,
    pub source: Source,
    pub status: MemberStatus,
    /// The reasons last written (the `chat_members.reasons` column), kept current
    /// for roster members so the audit never shows a stale "why".
    pub reasons: Vec<String>,
    /// Staff appointed or revoked this admin by hand: the roster no longer
    /// decides the admin flag.
    pub admin_overridden: bool,
}
