//! Chat management from the school portal (DESIGN §5): who may create a chat,
//! manage one, and add whom to it; what a chat's name and description may be;
//! which changes a chat refuses (an automatic chat is archived, not deleted; a
//! chat keeps at least one admin; a purged chat is gone).
//!
//! The rules:
//!
//! - **Students, parents and people without a role here manage nothing**
//!   ([`ManageRefusal::NotStaff`]). Acting in another organisation is the same
//!   as having no role there.
//! - **Creating** ([`may_create`]): any employee (administrator, teacher, other
//!   staff).
//! - **Managing a chat** ([`may_manage`]): a school administrator manages every
//!   chat of the organisation; another employee manages the chats they are a
//!   chat admin of ([`ManageRefusal::NotChatAdmin`] otherwise). A purged chat
//!   refuses everyone ([`ManageRefusal::Purged`]); a deleted one only takes
//!   "restore" ([`ManageRefusal::Deleted`]).
//! - **Adding a person** ([`may_add`]): only people with a role in the
//!   organisation ([`ManageRefusal::NotInOrganisation`]). Administrators add
//!   anyone; every employee adds employees; a teacher also adds the students of
//!   the classes and sections they teach and those students' parents. Classes
//!   are counted per role, as for direct messages: a teacher who is also a
//!   parent does not reach their child's classmates as a teacher. Anything
//!   else is [`ManageRefusal::OutsideYourClasses`].
//! - **Deleting** ([`may_delete`]): custom chats only; an automatic chat is the
//!   roster's and can be archived instead ([`ManageRefusal::AutomaticChat`]).
//! - **Admins** ([`keeps_an_admin`]): a change that would leave a chat that has
//!   admins without any is refused ([`ManageRefusal::LastAdmin`]).
//!
//! Like the rest of the crate this is pure: storage loads the facts (roles,
//! taught classes and sections, the chat's kind and the actor's admin flag) in
//! the transaction that acts, and asks.

use std::collections::BTreeSet;
use std::fmt;

use roster::Role;
use roster::ids::{ClassId, SectionId};

/// Why a management action was refused. The variants are stable: the server
/// maps each to an error code and translated messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ManageRefusal {
    #[error("only school employees manage chats")]
    NotStaff,
    #[error("chats are not available in this organisation")]
    ChatsUnavailable,
    #[error("only school administrators and the chat's admins manage this chat")]
    NotChatAdmin,
    #[error("only school administrators read the audit log")]
    NotAdministrator,
    #[error("the person has no role in this organisation")]
    NotInOrganisation,
    #[error("the person is outside the classes and subjects you teach")]
    OutsideYourClasses,
    #[error("the person is already a member of the chat")]
    AlreadyMember,
    #[error("the person is not a member of the chat")]
    NotAMember,
    #[error("an automatic chat cannot be deleted, only archived")]
    AutomaticChat,
    #[error("the chat would be left without admins")]
    LastAdmin,
    #[error("the chat is deleted: restore it first")]
    Deleted,
    #[error("the chat is not deleted")]
    NotDeleted,
    #[error("the chat was purged")]
    Purged,
    #[error("someone else changed the chat in the meantime")]
    Changed,
}

/// Who is acting, in one organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActorFacts {
    /// Roles in this organisation; empty when the person has none here.
    pub roles: BTreeSet<Role>,
    /// Classes they teach: as the class teacher or in one of the class's sections.
    pub taught_classes: BTreeSet<ClassId>,
    /// Sections (a subject in a class, a group, a club) they teach.
    pub taught_sections: BTreeSet<SectionId>,
}

impl ActorFacts {
    pub fn is_administrator(&self) -> bool {
        self.roles.contains(&Role::Administrator)
    }

    pub fn is_employee(&self) -> bool {
        self.roles.iter().any(|r| r.is_employee())
    }
}

/// A person to be added to a chat, in the same organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonFacts {
    /// Roles in this organisation; empty when the person has none here.
    pub roles: BTreeSet<Role>,
    /// Classes the person is in as a student, or as a parent of a student.
    pub classes: BTreeSet<ClassId>,
    /// Sections the person is in as a student of a group, or as a parent of one.
    pub sections: BTreeSet<SectionId>,
}

/// The chat acted on, as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagedChatFacts {
    /// Made by staff (`custom`), rather than derived from the roster.
    pub custom: bool,
    /// The actor is an admin of this chat (a pending admin counts).
    pub actor_is_chat_admin: bool,
    pub deleted: bool,
    pub purged: bool,
}

fn staff(actor: &ActorFacts) -> Result<(), ManageRefusal> {
    if actor.is_employee() { Ok(()) } else { Err(ManageRefusal::NotStaff) }
}

pub fn may_create(actor: &ActorFacts) -> Result<(), ManageRefusal> {
    staff(actor)
}

/// Reading the audit log: school administrators only.
pub fn may_read_audit(actor: &ActorFacts) -> Result<(), ManageRefusal> {
    staff(actor)?;
    if actor.is_administrator() { Ok(()) } else { Err(ManageRefusal::NotAdministrator) }
}

/// May see the chat on the management page; a purged or deleted chat can still
/// be looked at (its audit, the restore button).
pub fn may_view(actor: &ActorFacts, chat: &ManagedChatFacts) -> Result<(), ManageRefusal> {
    staff(actor)?;
    if actor.is_administrator() || chat.actor_is_chat_admin { Ok(()) } else { Err(ManageRefusal::NotChatAdmin) }
}

/// May change the chat: rename, describe, archive, members, admins.
pub fn may_manage(actor: &ActorFacts, chat: &ManagedChatFacts) -> Result<(), ManageRefusal> {
    may_view(actor, chat)?;
    if chat.purged {
        return Err(ManageRefusal::Purged);
    }
    if chat.deleted {
        return Err(ManageRefusal::Deleted);
    }
    Ok(())
}

pub fn may_delete(actor: &ActorFacts, chat: &ManagedChatFacts) -> Result<(), ManageRefusal> {
    may_manage(actor, chat)?;
    if !chat.custom {
        return Err(ManageRefusal::AutomaticChat);
    }
    Ok(())
}

pub fn may_restore(actor: &ActorFacts, chat: &ManagedChatFacts) -> Result<(), ManageRefusal> {
    may_view(actor, chat)?;
    if chat.purged {
        return Err(ManageRefusal::Purged);
    }
    if !chat.deleted {
        return Err(ManageRefusal::NotDeleted);
    }
    Ok(())
}

/// May `actor` put `person` in a chat they manage or create.
pub fn may_add(actor: &ActorFacts, person: &PersonFacts) -> Result<(), ManageRefusal> {
    staff(actor)?;
    if person.roles.is_empty() {
        return Err(ManageRefusal::NotInOrganisation);
    }
    if actor.is_administrator() || person.roles.iter().any(|r| r.is_employee()) {
        return Ok(());
    }
    let teaches = actor.roles.contains(&Role::Teacher);
    let reached =
        !person.classes.is_disjoint(&actor.taught_classes) || !person.sections.is_disjoint(&actor.taught_sections);
    if teaches && reached { Ok(()) } else { Err(ManageRefusal::OutsideYourClasses) }
}

/// A chat with `admins` admins loses one of them (`losing_an_admin`): refused
/// when that was the last. A chat that never had admins (a parents' chat of a
/// class without a class teacher) is not held to it.
pub fn keeps_an_admin(admins: usize, losing_an_admin: bool) -> Result<(), ManageRefusal> {
    if losing_an_admin && admins <= 1 { Err(ManageRefusal::LastAdmin) } else { Ok(()) }
}

/// Why a chat's name or description was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChatTextError {
    #[error("the name is empty")]
    Empty,
    #[error("longer than {max} characters")]
    TooLong { max: usize },
    #[error("contains control characters")]
    ControlCharacter,
}

/// A chat's name: trimmed, 1–[`ChatName::MAX_CHARS`] characters, one line.
/// Names need not be unique (two "Олимпиада" chats may exist); the portal warns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChatName(String);

impl ChatName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, ChatTextError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(ChatTextError::Empty);
        }
        if name.chars().any(char::is_control) {
            return Err(ChatTextError::ControlCharacter);
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(ChatTextError::TooLong { max: Self::MAX_CHARS });
        }
        Ok(ChatName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChatName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A chat's description: trimmed, at most [`ChatDescription::MAX_CHARS`]
/// characters, line breaks allowed, no other control characters; may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ChatDescription(String);

impl ChatDescription {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(raw: &str) -> Result<Self, ChatTextError> {
        let text = raw.replace("\r\n", "\n");
        let text = text.trim();
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(ChatTextError::ControlCharacter);
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(ChatTextError::TooLong { max: Self::MAX_CHARS });
        }
        Ok(ChatDescription(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ManageRefusal::*;

    fn actor(roles: &[Role], classes: &[i64], sections: &[i64]) -> ActorFacts {
        ActorFacts {
            roles: roles.iter().copied().collect(),
            taught_classes: classes.iter().copied().map(ClassId).collect(),
            taught_sections: sections.iter().copied().map(SectionId).collect(),
        }
    }

    fn person(roles: &[Role], classes: &[i64], sections: &[i64]) -> PersonFacts {
        PersonFacts {
            roles: roles.iter().copied().collect(),
            classes: classes.iter().copied().map(ClassId).collect(),
            sections: sections.iter().copied().map(SectionId).collect(),
        }
    }

    const CUSTOM: ManagedChatFacts =
        ManagedChatFacts { custom: true, actor_is_chat_admin: false, deleted: false, purged: false };
    const AUTOMATIC: ManagedChatFacts = ManagedChatFacts { custom: false, ..CUSTOM };
    const MINE: ManagedChatFacts = ManagedChatFacts { actor_is_chat_admin: true, ..CUSTOM };
    const MY_AUTOMATIC: ManagedChatFacts = ManagedChatFacts { actor_is_chat_admin: true, ..AUTOMATIC };
    const DELETED: ManagedChatFacts = ManagedChatFacts { deleted: true, ..MINE };
    const PURGED: ManagedChatFacts = ManagedChatFacts { deleted: true, purged: true, ..MINE };

    #[test]
    fn who_creates_and_who_reads_the_audit() {
        let table = [
            ("administrator", &[Role::Administrator][..], Ok(()), Ok(())),
            ("teacher", &[Role::Teacher], Ok(()), Err(NotAdministrator)),
            ("other staff", &[Role::OtherStaff], Ok(()), Err(NotAdministrator)),
            ("student", &[Role::Student], Err(NotStaff), Err(NotStaff)),
            ("parent", &[Role::Guardian], Err(NotStaff), Err(NotStaff)),
            ("nobody here", &[], Err(NotStaff), Err(NotStaff)),
            ("a teacher who is a parent", &[Role::Teacher, Role::Guardian], Ok(()), Err(NotAdministrator)),
        ];
        for (who, roles, create, audit) in table {
            let a = actor(roles, &[], &[]);
            assert_eq!(may_create(&a), create, "{who} creates");
            assert_eq!(may_read_audit(&a), audit, "{who} reads the audit");
        }
    }

    #[test]
    fn who_manages_which_chat() {
        let admin = actor(&[Role::Administrator], &[], &[]);
        let teacher = actor(&[Role::Teacher], &[1], &[]);
        let staff = actor(&[Role::OtherStaff], &[], &[]);
        let student = actor(&[Role::Student], &[], &[]);
        let table = [
            ("an administrator manages any chat", &admin, CUSTOM, Ok(())),
            ("an administrator manages an automatic chat", &admin, AUTOMATIC, Ok(())),
            ("a teacher manages a chat they admin", &teacher, MINE, Ok(())),
            ("a class teacher manages their class chat", &teacher, MY_AUTOMATIC, Ok(())),
            ("a teacher does not manage someone else's chat", &teacher, CUSTOM, Err(NotChatAdmin)),
            ("other staff manage a chat they admin", &staff, MINE, Ok(())),
            ("other staff do not manage other chats", &staff, AUTOMATIC, Err(NotChatAdmin)),
            ("a student admin of a chat manages nothing", &student, MINE, Err(NotStaff)),
            ("a deleted chat is restored first", &teacher, DELETED, Err(Deleted)),
            ("a purged chat is gone", &admin, PURGED, Err(Purged)),
        ];
        for (scenario, who, chat, expected) in table {
            assert_eq!(may_manage(who, &chat), expected, "{scenario}");
        }
    }

    #[test]
    fn deleting_and_restoring() {
        let admin = actor(&[Role::Administrator], &[], &[]);
        assert_eq!(may_delete(&admin, &CUSTOM), Ok(()));
        assert_eq!(may_delete(&admin, &AUTOMATIC), Err(AutomaticChat));
        assert_eq!(may_delete(&admin, &DELETED), Err(Deleted));
        assert_eq!(may_restore(&admin, &DELETED), Ok(()));
        assert_eq!(may_restore(&admin, &CUSTOM), Err(NotDeleted));
        assert_eq!(may_restore(&admin, &PURGED), Err(Purged));
        let teacher = actor(&[Role::Teacher], &[], &[]);
        assert_eq!(may_restore(&teacher, &DELETED), Ok(()), "the chat's admin restores it");
        assert_eq!(
            may_restore(&teacher, &ManagedChatFacts { actor_is_chat_admin: false, ..DELETED }),
            Err(NotChatAdmin)
        );
        assert_eq!(may_view(&teacher, &PURGED), Ok(()), "a purged chat's page still opens for its admin");
    }

    #[test]
    fn who_adds_whom() {
        let admin = actor(&[Role::Administrator], &[], &[]);
        // Teaches class 1 (whole-class subjects) and section 7 (a group of class 2).
        let teacher = actor(&[Role::Teacher], &[1], &[7]);
        let staff = actor(&[Role::OtherStaff], &[], &[]);
        let parent = actor(&[Role::Guardian], &[], &[]);
        // A teacher who is also the parent of a child in class 3 teaches class 1.
        let teacher_parent = actor(&[Role::Teacher, Role::Guardian], &[1], &[]);

        let colleague = person(&[Role::Teacher], &[], &[]);
        let librarian = person(&[Role::OtherStaff], &[], &[]);
        let my_student = person(&[Role::Student], &[1], &[]);
        let my_group_student = person(&[Role::Student], &[2], &[7]);
        let other_student = person(&[Role::Student], &[2], &[8]);
        let my_students_parent = person(&[Role::Guardian], &[1], &[]);
        let other_parent = person(&[Role::Guardian], &[3], &[]);
        let stranger = person(&[], &[1], &[]);

        let table = [
            ("an administrator adds a student anywhere", &admin, &other_student, Ok(())),
            ("an administrator adds a parent anywhere", &admin, &other_parent, Ok(())),
            ("nobody adds a person from another organisation", &admin, &stranger, Err(NotInOrganisation)),
            ("a teacher adds a colleague", &teacher, &colleague, Ok(())),
            ("a teacher adds other staff", &teacher, &librarian, Ok(())),
            ("a teacher adds a student of their class", &teacher, &my_student, Ok(())),
            ("a teacher adds a student of their group", &teacher, &my_group_student, Ok(())),
            ("a teacher adds a parent of their student", &teacher, &my_students_parent, Ok(())),
            ("a teacher does not add a student they do not teach", &teacher, &other_student, Err(OutsideYourClasses)),
            ("a teacher does not add a parent of another class", &teacher, &other_parent, Err(OutsideYourClasses)),
            ("other staff add employees", &staff, &colleague, Ok(())),
            ("other staff do not add students", &staff, &my_student, Err(OutsideYourClasses)),
            ("other staff do not add parents", &staff, &my_students_parent, Err(OutsideYourClasses)),
            ("a parent adds nobody", &parent, &colleague, Err(NotStaff)),
            (
                "a teacher-parent does not reach their child's class as a teacher",
                &teacher_parent,
                &other_parent,
                Err(OutsideYourClasses),
            ),
            ("a teacher-parent reaches the class they teach", &teacher_parent, &my_student, Ok(())),
        ];
        for (scenario, who, whom, expected) in table {
            assert_eq!(may_add(who, whom), expected, "{scenario}");
        }
    }

    #[test]
    fn a_chat_keeps_its_last_admin() {
        assert_eq!(keeps_an_admin(1, true), Err(LastAdmin));
        assert_eq!(keeps_an_admin(2, true), Ok(()));
        assert_eq!(keeps_an_admin(1, false), Ok(()));
        assert_eq!(keeps_an_admin(0, false), Ok(()), "a chat without admins loses a plain member");
    }

    #[test]
    fn names_are_one_trimmed_line_of_at_most_100_characters() {
        assert_eq!(ChatName::parse("  Олимпиада по физике ").unwrap().as_str(), "Олимпиада по физике");
        assert_eq!(ChatName::parse("   "), Err(ChatTextError::Empty));
        assert_eq!(ChatName::parse(""), Err(ChatTextError::Empty));
        assert_eq!(ChatName::parse(&"ж".repeat(100)).unwrap().as_str().chars().count(), 100);
        assert_eq!(ChatName::parse(&"ж".repeat(1000)), Err(ChatTextError::TooLong { max: 100 }));
        assert_eq!(ChatName::parse("две\nстроки"), Err(ChatTextError::ControlCharacter));
    }

    #[test]
    fn descriptions_may_be_empty_and_keep_line_breaks() {
        assert_eq!(ChatDescription::parse("  ").unwrap().as_str(), "");
        assert_eq!(ChatDescription::parse("Сбор в 8:00\r\nу школы").unwrap().as_str(), "Сбор в 8:00\nу школы");
        assert_eq!(ChatDescription::parse("звонок\u{7}"), Err(ChatTextError::ControlCharacter));
        assert_eq!(ChatDescription::parse(&"a".repeat(501)), Err(ChatTextError::TooLong { max: 500 }));
    }
}
