//! The dry run: a plan as a person reads it before anything changes.

use std::collections::BTreeMap;
use std::fmt;

use crate::{ChatState, Plan};

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "Организация {}: изменений нет.", self.org_id);
        }
        let counts = [
            ("новые чаты", self.create.len()),
            ("переименования", self.rename.len()),
            ("смены состояния", self.set_state.len()),
            ("добавления", self.add.len()),
            ("удаления", self.remove.len()),
            ("права администратора", self.set_admin.len()),
            ("активации", self.activate.len()),
            ("ожидание привязки", self.deactivate.len()),
            ("обновлённые причины", self.set_reasons.len()),
        ];
        let breakdown: Vec<String> =
            counts.iter().filter(|(_, n)| *n > 0).map(|(label, n)| format!("{label}: {n}")).collect();
        writeln!(f, "Организация {}: изменений {} ({}).", self.org_id, self.change_count(), breakdown.join(", "))?;

        for chat in &self.create {
            writeln!(f)?;
            writeln!(f, "Новый чат «{}» ({})", chat.name, chat.reason)?;
            for m in &chat.members {
                writeln!(
                    f,
                    "  + {}{} ({})",
                    self.person(m.person_id),
                    member_note(m.admin, m.status),
                    m.reasons.join("; ")
                )?;
            }
        }

        let mut lines: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for c in &self.set_state {
            lines.entry(c.chat_id).or_default().push(format!(
                "{} → {} ({})",
                state_label(c.from),
                state_label(c.to),
                c.reason
            ));
        }
        for c in &self.rename {
            lines.entry(c.chat_id).or_default().push(format!("переименовать в «{}» ({})", c.to, c.reason));
        }
        for c in &self.remove {
            lines.entry(c.chat_id).or_default().push(format!("− {} ({})", self.person(c.person_id), c.reason));
        }
        for c in &self.add {
            let note = member_note(c.admin, c.status);
            let line = format!("+ {}{} ({})", self.person(c.person_id), note, c.reasons.join("; "));
            lines.entry(c.chat_id).or_default().push(line);
        }
        for c in &self.set_admin {
            let what = if c.admin {
                "назначен(а) администратором"
            } else {
                "больше не администратор"
            };
            let line = format!("★ {}: {what} ({})", self.person(c.person_id), c.reason);
            lines.entry(c.chat_id).or_default().push(line);
        }
        for c in &self.activate {
            let line = format!("✓ {}: участвует ({})", self.person(c.person_id), c.reason);
            lines.entry(c.chat_id).or_default().push(line);
        }
        for c in &self.deactivate {
            let line = format!("⏸ {}: ждёт привязки профиля ({})", self.person(c.person_id), c.reason);
            lines.entry(c.chat_id).or_default().push(line);
        }
        for c in &self.set_reasons {
            let line = format!("· {}: теперь здесь как {}", self.person(c.person_id), c.reasons.join("; "));
            lines.entry(c.chat_id).or_default().push(line);
        }
        for (chat_id, chat_lines) in lines {
            writeln!(f)?;
            match self.labels.chats.get(&chat_id) {
                Some(name) => writeln!(f, "Чат «{name}» (№{chat_id})")?,
                None => writeln!(f, "Чат №{chat_id}")?,
            }
            for line in chat_lines {
                writeln!(f, "  {line}")?;
            }
        }
        Ok(())
    }
}

impl Plan {
    fn person(&self, person_id: i64) -> String {
        self.labels.people.get(&person_id).cloned().unwrap_or_else(|| format!("участник №{person_id}"))
    }
}

fn member_note(admin: bool, status: crate::MemberStatus) -> &'static str {
    match (admin, status == crate::MemberStatus::Pending) {
        (false, false) => "",
        (true, false) => ", администратор",
        (false, true) => ", ждёт привязки профиля",
        (true, true) => ", администратор, ждёт привязки профиля",
    }
}

/// A chat's state in the dry-run text.
fn state_label(state: ChatState) -> &'static str {
    match state {
        ChatState::Live => "активен",
        ChatState::ReadOnlyHidden => "скрыт, только чтение",
        ChatState::Archived => "архив",
    }
}
