//! The table of DESIGN §4: which chats an organisation must have and who belongs
//! in each, whether they have linked or not (the plan decides active or pending).

use std::collections::BTreeMap;

use roster::{Role, chats_availability};

use crate::facts::Facts;
use crate::{ChatKey, DesiredChat, DesiredMember, OrgSnapshot};

/// The live chats the roster calls for, sorted by key. Empty when the
/// organisation has no chats (module off, not general education).
pub fn desired(s: &OrgSnapshot) -> Vec<DesiredChat> {
    if chats_availability(s.kind, s.chats_enabled).is_err() {
        return Vec::new();
    }
    let facts = Facts::new(s);
    let mut chats = vec![staff_room(&facts)];
    for class in facts.current_classes() {
        let mut class_chat =
            Chat::new(ChatKey::Class { class_id: class.class_id }, s.templates.class_chat_name(&class.name));
        let mut parents_chat =
            Chat::new(ChatKey::Parents { class_id: class.class_id }, s.templates.parents_chat_name(&class.name));
        for teacher in facts.teachers_of(class.class_id) {
            let reason = format!("классный руководитель {}", class.name);
            class_chat.add(teacher, true, &reason);
            parents_chat.add(teacher, true, &reason);
        }
        for student in facts.students_of(class.class_id) {
            class_chat.add(student, false, &format!("ученик {}", class.name));
            for guardian in facts.guardians_of(student) {
                parents_chat.add(guardian, false, &format!("родитель ученика {}", class.name));
            }
        }
        chats.push(class_chat.finish());
        chats.push(parents_chat.finish());
    }
    for section in facts.sections().filter(|sec| facts.section_is_current(sec)) {
        let class_name = section.class_id.and_then(|c| facts.class(c)).map(|c| c.name.as_str());
        let name = s.templates.subject_chat_name(&section.subject, class_name, section.group.as_deref());
        let label = facts.section_label(section);
        let mut chat = Chat::new(ChatKey::Subject { section_id: section.section_id }, name);
        for teacher in facts.section_teachers(section) {
            chat.add(teacher, true, &format!("учитель: {label}"));
        }
        for student in facts.section_students(section) {
            chat.add(student, false, &format!("ученик: {label}"));
        }
        chats.push(chat.finish());
    }
    chats.sort_by_key(|c| c.key);
    chats
}

fn staff_room(facts: &Facts<'_>) -> DesiredChat {
    let s = facts.snapshot;
    let mut chat = Chat::new(ChatKey::StaffRoom { year: s.current_year }, s.templates.staff_room_name());
    for person in facts.employees() {
        for role in facts.roles(person) {
            match role {
                Role::Administrator => chat.add(person, true, "администратор"),
                Role::Teacher => chat.add(person, false, "учитель"),
                Role::OtherStaff => chat.add(person, false, "сотрудник школы"),
                Role::Student | Role::Guardian => {}
            }
        }
    }
    chat.finish()
}

struct Chat {
    chat: DesiredChat,
}

impl Chat {
    fn new(key: ChatKey, name: String) -> Self {
        Chat { chat: DesiredChat { key, name, members: BTreeMap::new() } }
    }

    /// A person with several reasons is one member with all of them; being an
    /// admin for any reason makes them an admin.
    fn add(&mut self, person: i64, admin: bool, reason: &str) {
        let member =
            self.chat.members.entry(person).or_insert_with(|| DesiredMember { admin: false, reasons: Vec::new() });
        member.admin |= admin;
        member.reasons.push(reason.to_owned());
    }

    fn finish(mut self) -> DesiredChat {
        for member in self.chat.members.values_mut() {
            member.reasons.sort();
            member.reasons.dedup();
        }
        self.chat
    }
}
